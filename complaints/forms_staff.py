"""Forms of the desks' screens (complaints/views_staff.py). They check shape only: the services judge the
rules (text required or too long, a desk or an office that does not fit, the complaint's state) and their
refusals are put beside the field they name (``add_domain_error``)."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.models import Office

from .models import Desk, Status

MINE = "mine"
NO_DESK = "0"
SLA_CHOICES = [
    ("", _("Any")),
    ("warning", _("Past the 80 % warning")),
    ("overdue", _("Overdue now")),
    ("missed", _("Missed a deadline before")),
]


def local_name(obj) -> str:
    """An office's, desk's or category's name in the page's language (the Urdu one when it has one)."""
    if get_language() == "ur" and getattr(obj, "name_ur", ""):
        return obj.name_ur
    return obj.name


def office_tree(offices: Iterable[Office]) -> list[tuple[Office, int]]:
    """The offices in hierarchy order (each under its parent, by name), with their depth among the given ones."""
    offices = list(offices)
    ids = {o.pk for o in offices}
    children: dict[int | None, list[Office]] = {}
    for office in offices:
        parent = office.parent_id if office.parent_id in ids else None
        children.setdefault(parent, []).append(office)
    for siblings in children.values():
        siblings.sort(key=lambda o: (o.kind != "cec", local_name(o)))
    ordered: list[tuple[Office, int]] = []
    stack: list[tuple[Office, int]] = [(o, 0) for o in reversed(children.get(None, []))]
    while stack:
        office, depth = stack.pop()
        ordered.append((office, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(office.pk, [])))
    return ordered


def office_choices(offices: Iterable[Office], *, blank: str | None = None) -> list[tuple[str, str]]:
    """Options indented by their place in the hierarchy (non-breaking spaces survive in a <select>)."""
    choices = [("", blank)] if blank is not None else []
    for office, depth in office_tree(offices):
        choices.append((str(office.pk), "\u00a0\u00a0\u00a0" * depth + local_name(office)))
    return choices


def desk_choices(desks: Iterable[Desk], *, first_office: int | None = None) -> list:
    """Desks grouped by office (<optgroup>), the office ``first_office`` first."""
    groups: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    for desk in desks:
        label = local_name(desk)
        if desk.officer_id and desk.officer is not None:
            label += f" ({desk.officer.get_full_name() or desk.officer.get_username()})"
        groups.setdefault(desk.office_id, (local_name(desk.office), []))[1].append((str(desk.pk), label))
    ordered = sorted(groups.items(), key=lambda item: (item[0] != first_office, item[1][0]))
    return [(name, options) for _office, (name, options) in ordered]


# --- the inbox --------------------------------------------------------------------------------------------------


class InboxFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("A ticket number in any shape, or words of the subject or the name."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    office = forms.ChoiceField(label=_("Office"), required=False)
    desk = forms.ChoiceField(label=_("Desk"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    sla = forms.ChoiceField(label=_("Deadlines"), required=False, choices=SLA_CHOICES)

    def __init__(self, data=None, *, offices, desks, categories, has_own_desks: bool):
        if data is not None and "status" not in data:
            data = data.copy()
            data["status"] = "open"  # the default view: what is still to be done
        super().__init__(data)
        self.fields["office"].choices = office_choices(offices, blank=_("All my offices"))
        shortcuts = [("", _("Any desk"))]
        if has_own_desks:
            shortcuts.append((MINE, _("My desks")))
        shortcuts.append((NO_DESK, _("Not at a desk yet")))
        self.fields["desk"].choices = [*shortcuts, *desk_choices(desks)]
        self.fields["status"].choices = [("open", _("Open")), ("all", _("Any status"))] + [
            (value, label) for value, label in Status.choices
        ]
        self.fields["category"].choices = [("", _("Any category"))] + [(str(c.pk), local_name(c)) for c in categories]


class BulkAssignForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(
        label=_("Complaints"),
        coerce=int,
        error_messages={
            "required": _("Tick the complaints to give to the desk."),
        },
    )
    desk = forms.TypedChoiceField(label=_("Give the ticked complaints to"), coerce=int, empty_value=None)

    def __init__(self, data=None, *, ids: Iterable[int], desks, first_office: int | None = None):
        super().__init__(data, prefix="bulk")
        # The complaints on the page; the service checks each one's scope and state again.
        self.fields["ids"].choices = [(str(i), str(i)) for i in ids]
        self.fields["desk"].choices = [("", _("Choose a desk")), *desk_choices(desks, first_office=first_office)]
        self.fields["desk"].error_messages["required"] = _("Choose a desk from the list.")


# --- the ticket page --------------------------------------------------------------------------------------------


def _in_language(field: forms.Field, language: str) -> None:
    """A box for text the complainant reads: typed in their language and direction, whatever the page's."""
    field.widget.attrs["lang"] = language
    field.widget.attrs["dir"] = "rtl" if language == "ur" else "ltr"


class TextForm(forms.Form):
    """One text box: a request for information (written in the complainant's language: it goes by SMS), an
    internal note. The service says when it is empty or too long (at most services.MAX_TEXT characters)."""

    text = forms.CharField(label=_("Text"), required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, label=None, help_text=None, language: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["text"].label = label
        if help_text:
            self.fields["text"].help_text = help_text
        if language:
            _in_language(self.fields["text"], language)


class AssignForm(forms.Form):
    desk = forms.TypedChoiceField(label=_("Desk"), coerce=int, empty_value=None)
    note = forms.CharField(
        label=_("Note for the desk"),
        required=False,
        strip=False,
        help_text=_("Internal: the complainant does not see it."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, desks, office_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["desk"].choices = [("", _("Choose a desk")), *desk_choices(desks, first_office=office_id)]
        self.fields["desk"].help_text = _("A desk of another office forwards the complaint to that office.")
        self.fields["desk"].error_messages["required"] = _("Choose a desk from the list.")
        self.fields["desk"].error_messages["invalid_choice"] = _("Choose a desk from the list.")


class ForwardForm(forms.Form):
    office = forms.TypedChoiceField(label=_("Office"), coerce=int, empty_value=None)
    note = forms.CharField(
        label=_("Why it goes there"),
        required=False,
        strip=False,
        help_text=_("Required. Internal: the receiving office reads it, the complainant does not."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].choices = office_choices(offices, blank=_("Choose an office"))
        self.fields["office"].error_messages["required"] = _("Choose the office from the list.")
        self.fields["office"].error_messages["invalid_choice"] = _("Choose the office from the list.")


class ReplyForm(forms.Form):
    canned = forms.ChoiceField(label=_("Canned response"), required=False)
    text = forms.CharField(
        label=_("Reply"),
        required=False,
        strip=False,
        help_text=_("Public: shown on the tracking page and sent by SMS."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, canned, language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["canned"].choices = [("", _("Write my own"))] + [(str(c.pk), c.title) for c in canned]
        _in_language(self.fields["text"], language)


class ResolveForm(forms.Form):
    text = forms.CharField(
        label=_("Answer for the complainant"),
        required=False,
        strip=False,
        help_text=_("Public: the complainant reads it and may reopen the complaint if not satisfied."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    confirm = forms.BooleanField(
        label=_("I confirm the complaint is resolved"),
        error_messages={"required": _("Tick the box to confirm the complaint is resolved.")},
    )

    def __init__(self, *args, language: str, **kwargs):
        super().__init__(*args, **kwargs)
        _in_language(self.fields["text"], language)
