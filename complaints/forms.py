"""The public complaint forms: filing (step 1: the complaint; step 2: the code sent to the mobile), tracking,
and the complainant's answer and reopening on the tracking page.

The forms check presence and length only; the domain rules (CNIC and mobile shapes, the office and category
being active, attachments by their content) are complaints.services' and come back as a DomainError that the
view puts beside the field it names. The office list is grouped as the hierarchy is: the Secretariat, then one
group per Provincial Election Commissioner with its regions and districts indented beneath it.
"""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.models import Office, OfficeKind
from core.models.offices import SECRETARIAT_KINDS

from .models import Category
from .services import MAX_DESCRIPTION, MAX_TEXT

KIND_ORDER = {kind: n for n, kind in enumerate(OfficeKind.values)}
INDENT = "\u00a0\u00a0\u00a0"  # no-break spaces: a <select> keeps them (ordinary spaces are collapsed)


def local_name(obj) -> str:
    """``name_ur`` on Urdu pages when there is one, else ``name`` (offices, desks, categories)."""
    urdu = getattr(obj, "name_ur", None) or ""
    return urdu if urdu and (get_language() or "").startswith("ur") else obj.name


def office_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The active offices as <optgroup>s: the Secretariat, each PEC with everything under it (indented by
    level), then any office that fits neither. One query."""
    offices = list(Office.objects.filter(is_active=True).only("id", "kind", "name", "name_ur", "parent_id"))
    by_id = {o.pk: o for o in offices}
    children: dict[int | None, list[Office]] = defaultdict(list)
    for office in offices:
        children[office.parent_id if office.parent_id in by_id else None].append(office)
    for siblings in children.values():
        siblings.sort(key=lambda o: (KIND_ORDER.get(o.kind, 99), local_name(o)))
    placed: set[int] = set()

    def walk(office: Office, depth: int, out: list[tuple[str, str]], stop_at_pec: bool) -> None:
        placed.add(office.pk)
        out.append((str(office.pk), INDENT * depth + local_name(office)))
        for child in children.get(office.pk, []):
            if child.pk in placed or (stop_at_pec and child.kind not in SECRETARIAT_KINDS):
                continue
            walk(child, depth + 1, out, stop_at_pec)

    groups: list[tuple[str, list[tuple[str, str]]]] = []
    secretariat: list[tuple[str, str]] = []
    for root in children[None]:
        if root.kind in SECRETARIAT_KINDS:
            walk(root, 0, secretariat, stop_at_pec=True)
    if secretariat:
        groups.append((str(_("Election Commission Secretariat")), secretariat))
    pecs = sorted((o for o in offices if o.kind == OfficeKind.PEC), key=local_name)
    for pec in pecs:
        options: list[tuple[str, str]] = []
        walk(pec, 0, options, stop_at_pec=False)
        groups.append((local_name(pec), options))
    rest: list[tuple[str, str]] = []
    for office in sorted(offices, key=lambda o: (KIND_ORDER.get(o.kind, 99), local_name(o))):
        if office.pk not in placed:
            walk(office, 0, rest, stop_at_pec=False)
    if rest:
        groups.append((str(_("Other offices")), rest))
    return groups


def category_choices() -> list[tuple[str, str]]:
    return [(str(c.pk), local_name(c)) for c in Category.objects.filter(is_active=True)]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def _text(max_length: int, required_message, **attrs) -> forms.CharField:
    return forms.CharField(
        max_length=max_length,
        error_messages={"required": required_message},
        widget=forms.TextInput(attrs=attrs),
    )


class FilingForm(forms.Form):
    """Step 1. The page draws some inputs itself (templates/complaints/public/file.html)."""

    name = _text(100, _("Enter your name (at most 100 characters)."), autocomplete="name")
    cnic = _text(
        40,
        _("A CNIC has 13 digits, for example 12345-1234567-1."),
        inputmode="numeric",
        autocomplete="off",
        dir="ltr",
        placeholder="12345-1234567-1",
    )
    mobile = _text(
        40,
        _("Enter a mobile number, for example 0300 1234567."),
        type="tel",
        inputmode="tel",
        autocomplete="tel",
        dir="ltr",
        placeholder="0300 1234567",
    )
    email = forms.CharField(
        label=_("Email"),
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"type": "email", "autocomplete": "email", "dir": "ltr"}),
    )
    office = forms.ChoiceField(
        label=_("Office the complaint is addressed to"),
        error_messages={
            "required": _("Choose the office from the list."),
            "invalid_choice": _("Choose the office from the list."),
        },
    )
    category = forms.ChoiceField(
        label=_("Category"),
        error_messages={
            "required": _("Choose a category from the list."),
            "invalid_choice": _("Choose a category from the list."),
        },
    )
    subject = _text(200, _("Enter a subject (at most 200 characters)."))
    description = forms.CharField(
        label=_("Your complaint"),
        max_length=MAX_DESCRIPTION,
        error_messages={"required": _("Describe the complaint.")},
        widget=forms.Textarea(attrs={"rows": 7}),
    )
    attachments = forms.Field(
        label=_("Files (pictures or PDF)"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf,.jpg,.jpeg,.png,.pdf"}),
    )
    latitude = forms.CharField(
        label=_("Latitude"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr", "autocomplete": "off"}),
    )
    longitude = forms.CharField(
        label=_("Longitude"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr", "autocomplete": "off"}),
    )
    # The honeypot: people never see it (off-screen, aria-hidden, out of the tab order); bots fill it in.
    website = forms.CharField(required=False, max_length=200)

    field_order = [
        "name",
        "cnic",
        "mobile",
        "email",
        "office",
        "category",
        "subject",
        "description",
        "attachments",
        "latitude",
        "longitude",
    ]
    # What step 2 keeps in the session and hands to complaints.services.complaint_file.
    KEPT = ("name", "cnic", "mobile", "email", "office", "category", "subject", "description", "latitude", "longitude")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].label = _("Your name")
        self.fields["cnic"].label = _("CNIC number")
        self.fields["cnic"].help_text = _("13 digits, with or without dashes.")
        self.fields["mobile"].label = _("Mobile number")
        self.fields["mobile"].help_text = _("We send a code to this number to confirm it, then your ticket number.")
        self.fields["subject"].label = _("Subject")
        self.fields["office"].choices = [("", _("Choose an office")), *office_choices()]
        self.fields["category"].choices = [("", _("Choose a category")), *category_choices()]
        self.fields["attachments"].help_text = _(
            "Up to %(n)s files: JPEG or PNG pictures, or PDF documents, each at most %(mb)s MB."
        ) % {"n": settings.COMPLAINTS_MAX_ATTACHMENTS, "mb": f"{settings.COMPLAINTS_ATTACHMENT_MAX_BYTES / 2**20:g}"}

    @property
    def is_spam(self) -> bool:
        return bool((self.data.get("website") or "").strip())

    def kept(self) -> dict[str, str]:
        """The typed values (trimmed strings) that step 2 files with."""
        return {name: str(self.data.get(name) or "").strip() for name in self.KEPT}

    def add_domain_error(self, error: DomainError) -> None:
        """A service's refusal beside the inputs it names (once per field: the form's own error wins)."""
        placed = False
        for name, messages in (error.fields or {}).items():
            if name in self.fields:
                placed = True
                if name not in self.errors:
                    for message in messages:
                        self.add_error(name, message)
        if not placed:
            self.add_error(None, error.message)


class CodeForm(forms.Form):
    """Step 2: the six digits sent by SMS."""

    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        error_messages={"required": _("Enter the code we sent you.")},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "dir": "ltr",
                "pattern": "[0-9 ]*",
                "class": "cmp-code-input",
            }
        ),
    )


class TrackForm(forms.Form):
    ticket = forms.CharField(
        label=_("Ticket number"),
        max_length=40,
        error_messages={"required": _("Enter the ticket number from your SMS.")},
        widget=forms.TextInput(
            attrs={
                "dir": "ltr",
                "autocomplete": "off",
                "placeholder": "CMS-2026-4F7K9Q",
                "autocapitalize": "characters",
            }
        ),
    )
    last4 = forms.CharField(
        label=_("Last four digits of your mobile number"),
        max_length=8,
        error_messages={"required": _("Enter the last four digits of your mobile number.")},
        widget=forms.TextInput(
            attrs={"dir": "ltr", "autocomplete": "off", "inputmode": "numeric", "pattern": "[0-9]*", "size": "6"}
        ),
    )


class AnswerForm(forms.Form):
    ticket = forms.CharField(widget=forms.HiddenInput)
    text = forms.CharField(
        label=_("Your answer"),
        max_length=MAX_TEXT,
        error_messages={"required": _("Write the text first.")},
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class ReopenForm(forms.Form):
    ticket = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why is the matter not settled?"),
        max_length=MAX_TEXT,
        error_messages={"required": _("Write the text first.")},
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    confirm = forms.BooleanField(
        label=_("Yes, reopen my complaint."),
        error_messages={"required": _("Tick the box to confirm that you want to reopen the complaint.")},
    )

    def add_domain_error(self, error: DomainError) -> None:
        field = next((f for f in (error.fields or {}) if f in self.fields), None)
        self.add_error(field, error.message)
