"""Forms of the SMS staff screens: shapes and types only; the rules live in the services."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import audiences
from .models import ContactGroup, Language, Purpose

KARACHI = ZoneInfo("Asia/Karachi")
MAX_CSV_BYTES = 5 * 1024 * 1024


def audience_choices() -> list:
    return [(label, [(a.key, a.label) for a in found]) for label, found in audiences.all_audiences() if found]


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input, read in Pakistan's time."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None and timezone.is_naive(result):
            result = result.replace(tzinfo=KARACHI)
        return result


class CampaignForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=150)
    audience = forms.ChoiceField(label=_("Send to"))
    template_ur = forms.CharField(
        label=_("Message in Urdu"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "rtl", "lang": "ur", "data-sms-counter": ""}),
    )
    template_en = forms.CharField(
        label=_("Message in English"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "ltr", "lang": "en", "data-sms-counter": ""}),
    )
    send_at = LocalDateTimeField(
        label=_("Send at (Pakistan time)"), required=False, help_text=_("Leave empty to send once approved.")
    )
    expires_at = LocalDateTimeField(
        label=_("Too old to send after"), required=False, help_text=_("Empty: 24 hours after the send time.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audience"].choices = audience_choices()


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why is it rejected?"), max_length=300, widget=forms.TextInput())


class ContactImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file (UTF-8)"))
    group = forms.ModelChoiceField(
        label=_("Add everyone in the file to the group"), queryset=ContactGroup.objects.all(), required=False
    )
    new_group = forms.CharField(label=_("…or a new group"), max_length=80, required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB; split it."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                _("The file is not UTF-8 text; save it from your spreadsheet as CSV UTF-8.")
            ) from exc


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Group name"), max_length=80)
    name_ur = forms.CharField(label=_("Name in Urdu"), max_length=80, required=False)


class PhoneSearchForm(forms.Form):
    phone = forms.CharField(label=_("Mobile number"), max_length=20)


class SendForm(forms.Form):
    to = forms.CharField(label=_("To"), max_length=20)
    body = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 3, "dir": "auto", "data-sms-counter": ""})
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    purpose = forms.ChoiceField(
        label=_("Purpose"),
        choices=[(Purpose.NOTIFICATION, Purpose.NOTIFICATION.label), (Purpose.REQUIRED, Purpose.REQUIRED.label)],
        help_text=_("“Required by law” goes even to numbers that sent STOP, and is marked so."),
    )
