"""Forms of the SMS staff screens: shapes and types only (and messages people can act on); the rules live in
the services, whose DomainError the views put beside the field it names (``add_domain_error``)."""

from __future__ import annotations

import datetime
import re
import uuid
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from core.phone import InvalidPhone, normalize_mobile

from . import audiences
from .models import CampaignStatus, ContactGroup, Language, Purpose

KARACHI = ZoneInfo("Asia/Karachi")
MAX_CSV_BYTES = 5 * 1024 * 1024
CSV_SUFFIXES = (".csv", ".txt")
REPORT_DAYS = (7, 14, 30, 90, 180, 365)
MAX_AHEAD = datetime.timedelta(days=366)  # a campaign is scheduled at most a year ahead (and dates stay in range)

# core.phone's messages are English only; these say the same in words the translators see.
PHONE_ERRORS = {
    "empty": _("Enter a mobile number, for example 0300 1234567."),
    "unparseable": _("This is not a phone number: use digits, like 0300 1234567."),
    "invalid": _("This number does not exist in the numbering plan; check the digits."),
    "not_pakistan": _("Give a Pakistani mobile number (+92 3xx xxxxxxx)."),
    "not_mobile": _("This is a landline; give a mobile number that can receive SMS."),
}


def phone_error(exc: InvalidPhone) -> str:
    return str(PHONE_ERRORS.get(exc.reason, str(exc)))


def clean_mobile(value: str) -> str:
    """E.164 of a Pakistani mobile, or a ValidationError people can act on."""
    try:
        return normalize_mobile(value)
    except InvalidPhone as exc:
        raise forms.ValidationError(phone_error(exc), code=exc.reason) from exc


class KarachiDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` box read, and shown, in Pakistan's time whatever the active time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value):
        with timezone.override(KARACHI):
            return super().to_python(value)

    def prepare_value(self, value):
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            return timezone.localtime(value, KARACHI).replace(tzinfo=None)
        return value


def audience_choices() -> list:
    """The <select>'s options: a blank first, then one <optgroup> per audience source."""
    groups = [(label, [(a.key, a.label) for a in found]) for label, found in audiences.all_audiences() if found]
    return [("", _("Choose who gets it…")), *groups]


def audience_fields() -> dict[str, list[str]]:
    """Placeholders each audience offers, by key: what the placeholder buttons insert."""
    return {a.key: list(a.fields) for _label, found in audiences.all_audiences() for a in found}


SEND_NOW, SEND_LATER = "now", "later"


class CampaignForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=150,
        help_text=_("For officers only: recipients never see it."),
    )
    audience = forms.ChoiceField(label=_("Send to"))
    template_ur = forms.CharField(
        label=_("Message in Urdu"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "rtl", "lang": "ur", "data-sms-counter": ""}),
    )
    template_en = forms.CharField(
        label=_("Message in English"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "ltr", "lang": "en", "data-sms-counter": ""}),
    )
    when = forms.ChoiceField(
        label=_("When"),
        choices=[(SEND_NOW, _("As soon as another officer approves it")), (SEND_LATER, _("At a time"))],
        initial=SEND_NOW,
        required=False,  # not chosen: once approved
        widget=forms.RadioSelect,
    )
    send_at = KarachiDateTimeField(label=_("Send at (Pakistan time)"), required=False)
    expires_at = KarachiDateTimeField(
        label=_("Too old to send after (Pakistan time)"),
        required=False,
        help_text=_("Optional. Messages still waiting then are not sent. Empty: 24 hours after the send time."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audience"].choices = audience_choices()

    @staticmethod
    def _within_reach(value: datetime.datetime | None) -> datetime.datetime | None:
        if value is not None and value > timezone.now() + MAX_AHEAD:
            raise forms.ValidationError(_("Choose a time within a year from now."), code="too_far")
        return value

    def clean_send_at(self):
        return self._within_reach(self.cleaned_data.get("send_at"))

    def clean_expires_at(self):
        return self._within_reach(self.cleaned_data.get("expires_at"))

    def clean(self):
        data = super().clean()
        if data.get("when") in ("", None, SEND_NOW):
            if data.get("send_at"):
                self.add_error(
                    "send_at", _("You chose to send it once approved: empty this box, or choose “At a time”.")
                )
            data["send_at"] = None
        elif data.get("when") == SEND_LATER and not data.get("send_at") and "send_at" not in self.errors:
            self.add_error("send_at", _("Choose the date and time to send it, or send it once approved."))
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejecting it (the maker sees it)"),
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class ContactImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file (UTF-8)"),
        help_text=_("At most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,.txt,text/plain"}),
    )
    group = forms.ModelChoiceField(
        label=_("Add everyone in the file to the group"),
        queryset=ContactGroup.objects.order_by("name"),
        required=False,
        empty_label=_("(none)"),
    )
    new_group = forms.CharField(
        label=_("…or to a new group named"),
        max_length=80,
        required=False,
        help_text=_("Leave both empty to use only the groups named in the file."),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(CSV_SUFFIXES):
            raise forms.ValidationError(_("Choose a .csv file (save the spreadsheet as “CSV UTF-8”)."))
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB; split it into smaller files."))
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                _("The file is not UTF-8 text. In your spreadsheet choose Save as → “CSV UTF-8” and try again.")
            ) from exc
        if "\x00" in text:
            raise forms.ValidationError(_("The file is not a CSV text file."))
        if not text.strip():
            raise forms.ValidationError(_("The file is empty."))
        return text

    def clean(self):
        data = super().clean()
        if data.get("group") and (data.get("new_group") or "").strip():
            self.add_error("new_group", _("Choose a group or type a new name, not both."))
        return data


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Group name"), max_length=80)
    name_ur = forms.CharField(label=_("Name in Urdu"), max_length=80, required=False)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if ContactGroup.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(_("A group with this name exists already."))
        return name


class ContactFilterForm(forms.Form):
    q = forms.CharField(label=_("Name, number or organisation"), max_length=120, required=False)
    group = forms.ModelChoiceField(
        label=_("Group"), queryset=ContactGroup.objects.order_by("name"), required=False, empty_label=_("All groups")
    )


class CampaignFilterForm(forms.Form):
    q = forms.CharField(label=_("Title"), max_length=150, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *CampaignStatus.choices], required=False
    )


class PhoneSearchForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", "dir": "ltr"}),
        help_text=_("For example 0300 1234567 or +923001234567."),
    )

    def clean_phone(self) -> str:
        return clean_mobile(self.cleaned_data["phone"])


class SendForm(forms.Form):
    to = forms.CharField(
        label=_("To (mobile number)"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", "dir": "ltr"}),
    )
    body = forms.CharField(
        label=_("Text"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto", "data-sms-counter": ""}),
    )
    language = forms.ChoiceField(label=_("Language of the text"), choices=Language.choices)
    purpose = forms.ChoiceField(
        label=_("Purpose"),
        choices=[(Purpose.NOTIFICATION, Purpose.NOTIFICATION.label), (Purpose.REQUIRED, Purpose.REQUIRED.label)],
        initial=Purpose.NOTIFICATION,
        widget=forms.RadioSelect,
        help_text=_(
            "A notification is not sent to a number that sent STOP. “Required by law” is sent even to a number "
            "that opted out, and is marked so: use it only for what the law requires."
        ),
    )

    # One per rendered form: a double click or a resent form gives the service the same idempotency key.
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=32)

    def clean_to(self) -> str:
        return clean_mobile(self.cleaned_data["to"])

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        return key if re.fullmatch(r"[0-9a-f]{32}", key) else uuid.uuid4().hex


class ReportForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Period"),
        coerce=int,
        choices=[(n, ngettext_lazy("Last %(n)s day", "Last %(n)s days", "n") % {"n": n}) for n in REPORT_DAYS],
        initial=30,
        required=False,
        empty_value=None,  # the view reads "no period" as 30 days
    )
