"""Forms of the results screens: the shape of what an operator keys from a Form-45.

They check types and ranges only. The rules (sums, turnout, male/female
stations, double entry) belong to ``results.services`` / ``results.tally``;
a ``DomainError`` from a service is put back on the form with
``add_domain_error`` so its message shows beside the right input.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django import forms
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import DomainError

from .models import Candidate, Contest, ContestStation
from .services import Figures

KARACHI = ZoneInfo("Asia/Karachi")
MAX_FIGURE = 200_000  # far above any polling station; the API allows the same
FIGURE_FIELDS = ("polled_male", "polled_female", "polled_total", "excluded")

# Urdu (Extended Arabic-Indic) and Arabic-Indic digits, typed on an Urdu keyboard, read as 0-9.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_TIME = re.compile(r"^(\d{1,2})[:.]?(\d{2})$")


def vote_field_name(ballot_order: int) -> str:
    return f"votes_{ballot_order}"


def new_idempotency_key() -> str:
    """One per rendered form: a double click or a resend of the same form is recognised by the service."""
    return uuid.uuid4().hex


class FigureInput(forms.TextInput):
    """A big plain text box for a whole number: no spinner, no scroll-wheel changes, the numeric keypad on phones."""

    def __init__(self, attrs=None):
        base = {
            "inputmode": "numeric",
            "pattern": "[0-9۰-۹٠-٩]*",
            "autocomplete": "off",
            "spellcheck": "false",
            "dir": "ltr",
            "class": "rms-figure",
        }
        super().__init__({**base, **(attrs or {})})


class FigureField(forms.IntegerField):
    """A count from the paper form: digits only (Urdu digits too), 0 … MAX_FIGURE."""

    widget = FigureInput
    default_error_messages = {
        "required": gettext_lazy("Enter the figure (0 if none)."),
        "invalid": gettext_lazy("Digits only, with no commas or spaces."),
        "min_value": gettext_lazy("A figure cannot be below zero."),
        "max_value": gettext_lazy("This is too large for one polling station (at most %(limit_value)s)."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_FIGURE)
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().translate(_DIGITS)
            if value and not value.isdigit():
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class FiguresFormMixin:
    """The figures of a Form-45 as form fields: polled male/female/total, excluded, one box per candidate,
    and the optional time of the count. Used by the entry form and the supervisor's corrected figures."""

    figures_required = True
    contest: Contest
    candidates: list[Candidate]
    fields: dict[str, forms.Field]

    def _add_figure_fields(self) -> None:
        required = self.figures_required
        self.fields["polled_male"] = FigureField(label=gettext_lazy("Male"), required=required)
        self.fields["polled_female"] = FigureField(label=gettext_lazy("Female"), required=required)
        self.fields["polled_total"] = FigureField(label=gettext_lazy("Total"), required=required)
        self.fields["excluded"] = FigureField(label=gettext_lazy("Excluded (rejected) ballots"), required=required)
        for candidate in self.candidates:
            self.fields[vote_field_name(candidate.ballot_order)] = FigureField(
                label=candidate.name, required=required, widget=FigureInput({"class": "rms-figure rms-vote"})
            )
        election = self.contest.election
        self.fields["counted_time"] = forms.CharField(
            label=gettext_lazy("Time of the count"),
            required=False,
            max_length=5,
            widget=FigureInput({"placeholder": "21:30", "pattern": "[0-9۰-۹٠-٩:.]*", "class": "rms-time"}),
            help_text=gettext_lazy("24-hour clock, e.g. 21:30 (optional)"),
        )
        poll_day = election.poll_date
        self.fields["counted_day"] = forms.TypedChoiceField(
            label=gettext_lazy("Date of the count"),
            required=False,
            coerce=int,
            empty_value=0,
            choices=[
                (0, formats.date_format(poll_day, "j M Y")),
                (1, formats.date_format(poll_day + datetime.timedelta(days=1), "j M Y")),
            ],
        )

    # --- reading ------------------------------------------------------------

    def candidate_fields(self) -> list[tuple[Candidate, forms.BoundField]]:
        return [(c, self[vote_field_name(c.ballot_order)]) for c in self.candidates]  # type: ignore[index]

    def _clean_counted_at(self, cleaned: dict) -> datetime.datetime | None:
        raw = (cleaned.get("counted_time") or "").strip().translate(_DIGITS)
        if not raw:
            return None
        match = _TIME.match(raw)
        hour, minute = (int(match.group(1)), int(match.group(2))) if match else (99, 99)
        if hour > 23 or minute > 59:
            self.add_error("counted_time", _("Write the time as HH:MM on the 24-hour clock, e.g. 21:30."))  # type: ignore[attr-defined]
            return None
        day = self.contest.election.poll_date + datetime.timedelta(days=cleaned.get("counted_day") or 0)
        moment = datetime.datetime.combine(day, datetime.time(hour, minute), KARACHI)
        if moment < self.contest.election.poll_close_at:
            self.add_error(  # type: ignore[attr-defined]
                "counted_time",
                _("This is before the close of poll. If the count ended after midnight, choose the next day."),
            )
            return None
        return moment

    def figures(self) -> Figures:
        data = self.cleaned_data  # type: ignore[attr-defined]
        return Figures(
            polled_male=data["polled_male"],
            polled_female=data["polled_female"],
            polled_total=data["polled_total"],
            excluded=data["excluded"],
            votes={c.ballot_order: data[vote_field_name(c.ballot_order)] for c in self.candidates},
            counted_at=data.get("counted_at"),
        )

    # --- errors from a service ------------------------------------------------

    field_aliases: dict[str, str] = {}

    def add_domain_error(self, error: DomainError) -> None:
        """Put a service's refusal beside the inputs it names ("votes.3" → the box of candidate 3)."""
        placed = False
        for name, messages in (error.fields or {}).items():
            target = self.field_aliases.get(name, name)
            if target.startswith("votes."):
                target = "votes_" + target.removeprefix("votes.")
            if target == "votes":  # the candidates' sum: shown with the check of the sums
                self.votes_errors.extend(messages)
                placed = True
            elif target in self.fields:
                for message in messages:
                    self.add_error(target, message)  # type: ignore[attr-defined]
                placed = True
        if not placed:
            self.add_error(None, error.message)  # type: ignore[attr-defined]

    @property
    def votes_errors(self) -> list[str]:
        if not hasattr(self, "_votes_errors"):
            self._votes_errors: list[str] = []
        return self._votes_errors

    def live_sums(self) -> dict[str, int | None]:
        """What the check panel shows, from the typed values (so it is right without JavaScript too)."""

        def value(name: str) -> int | None:
            raw = self.data.get(self.add_prefix(name), "") if self.is_bound else ""  # type: ignore[attr-defined]
            raw = str(raw).strip().translate(_DIGITS)
            return int(raw) if raw.isdigit() else None

        male, female, total, excluded = (value(n) for n in FIGURE_FIELDS)
        votes = [value(vote_field_name(c.ballot_order)) for c in self.candidates]
        votes_sum = sum(v for v in votes if v is not None)
        return {
            "male": male,
            "female": female,
            "total": total,
            "excluded": excluded,
            "gender_sum": (male or 0) + (female or 0) if male is not None or female is not None else None,
            "votes_sum": votes_sum,
            "counted": votes_sum + (excluded or 0),
        }


class Form45EntryForm(FiguresFormMixin, forms.Form):
    """One operator's keying of one Form-45, in the order of the paper form."""

    station = forms.CharField(
        label=gettext_lazy("Polling station number"),
        max_length=8,
        widget=FigureInput({"class": "rms-figure rms-station", "list": "rms-stations"}),
        error_messages={"required": gettext_lazy("Enter the polling station number from the Form-45.")},
    )
    idempotency_key = forms.RegexField(r"^[A-Za-z0-9_\-]{8,64}$", widget=forms.HiddenInput)

    field_aliases = {"contest_station": "station"}

    def __init__(self, *args, contest: Contest, candidates: Iterable[Candidate], **kwargs):
        self.contest = contest
        self.candidates = list(candidates)
        super().__init__(*args, **kwargs)
        self._add_figure_fields()
        # Tab order = the paper form's order: station, polled, excluded, candidates, time, date.
        self.order_fields(["station", *FIGURE_FIELDS])

    def clean_station(self) -> ContestStation:
        raw = self.cleaned_data["station"].strip().translate(_DIGITS).upper().removeprefix("PS-").strip()
        station = None
        if raw.isdigit():
            station = (
                ContestStation.objects.filter(contest=self.contest, number=int(raw))
                .select_related("polling_station")
                .first()
            )
        if station is None:
            raise forms.ValidationError(
                _("There is no polling station %(number)s in %(code)s.")
                % {"number": raw or "?", "code": self.contest.constituency.code},
                code="unknown_station",
            )
        return station

    def clean(self):
        cleaned = super().clean()
        cleaned["counted_at"] = self._clean_counted_at(cleaned)
        return cleaned


class DecisionForm(FiguresFormMixin, forms.Form):
    """The supervisor's decision on a mismatch: the first entry, the second, or corrected figures; with a note."""

    CHOICES = (
        ("first", gettext_lazy("Accept the first entry")),
        ("second", gettext_lazy("Accept the second entry")),
        ("corrected", gettext_lazy("Enter corrected figures")),
    )
    figures_required = False

    choice = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose one of the entries, or enter corrected figures.")},
    )
    note = forms.CharField(
        label=gettext_lazy("Note (required)"),
        max_length=500,
        widget=forms.Textarea({"rows": 3}),
        help_text=gettext_lazy("Why this decision: e.g. “checked against the signed Form-45, second entry is right”."),
        error_messages={"required": gettext_lazy("Say why: the note is kept with the decision.")},
    )

    def __init__(self, *args, contest: Contest, candidates: Iterable[Candidate], **kwargs):
        self.contest = contest
        self.candidates = list(candidates)
        super().__init__(*args, **kwargs)
        self._add_figure_fields()

    def clean(self):
        cleaned = super().clean()
        cleaned["counted_at"] = self._clean_counted_at(cleaned)
        if cleaned.get("choice") == "corrected":
            names = [*FIGURE_FIELDS, *(vote_field_name(c.ballot_order) for c in self.candidates)]
            for name in names:
                if cleaned.get(name) is None and name not in self.errors:
                    self.add_error(name, _("Enter the figure (0 if none)."))
        return cleaned
