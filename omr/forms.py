"""The OMR staff screens' forms: shapes and types only (the rules of the domain are omr.services', whose
refusals ``add_domain_error`` puts beside the field they name)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .layout import MAX_QUESTIONS, OPTION_LETTERS, SERIES_LETTERS
from .models import MultipleMark, SheetStatus

MAX_CSV_BYTES = 20 * 1024 * 1024
MAX_BLANK_SHEETS = 5_000
MAX_QUESTIONS_5 = 120  # five options: four columns of thirty
TIE_BREAK_SLOTS = 3


class ExamForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"),
        max_length=30,
        help_text=_("Letters, digits and hyphens, e.g. clerk-2026. It names the sheets and cannot change."),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    title_ur = forms.CharField(label=_("Title in Urdu"), max_length=200, required=False)
    held_on = forms.DateField(label=_("Held on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    questions = forms.IntegerField(
        label=_("Questions"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_QUESTIONS)],
        help_text=_("1 to 150 (120 with five options)."),
    )
    options = forms.TypedChoiceField(
        label=_("Options per question"), choices=[(4, "4 (A–D)"), (5, "5 (A–E)")], coerce=int, initial=4
    )
    roll_digits = forms.IntegerField(
        label=_("Digits in a roll number"), validators=[MinValueValidator(4), MaxValueValidator(10)], initial=8
    )
    series = forms.MultipleChoiceField(
        label=_("Booklet series"),
        choices=[(s, s) for s in SERIES_LETTERS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked when every candidate gets the same booklet."),
    )
    sections = forms.CharField(
        label=_("Sections"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 4, "dir": "auto", "placeholder": "English,1,40\nGeneral knowledge,41,100"}
        ),
        help_text=_("One a line: name, first question, last question."),
    )
    marks_correct = forms.DecimalField(
        label=_("Marks for a right answer"), max_digits=5, decimal_places=2, min_value=Decimal("0.01"), initial=1
    )
    marks_wrong = forms.DecimalField(
        label=_("Marks taken for a wrong answer"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        initial=0,
        help_text=_("Negative marking: 0 for none, 0.25 for a quarter mark."),
    )
    multiple = forms.ChoiceField(
        label=_("Two or more marks on a question"), choices=MultipleMark.choices, initial=MultipleMark.WRONG
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].lower()
        if code == "new":
            raise forms.ValidationError(gettext("This word is taken by the screens: choose another code."))
        return code

    def clean_sections(self) -> list[tuple[str, int, int]]:
        found: list[tuple[str, int, int]] = []
        errors: list[str] = []
        for number, line in enumerate(self.cleaned_data["sections"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(",")]
            if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not parts[2].isdigit():
                errors.append(gettext("Line %(n)s: write name, first, last (e.g. English,1,40).") % {"n": number})
                continue
            name, first, last = parts[0][:80], int(parts[1]), int(parts[2])
            if not 1 <= first <= last:
                errors.append(gettext("Line %(n)s: the first question comes before the last.") % {"n": number})
                continue
            found.append((name, first, last))
        if errors:
            raise forms.ValidationError(errors)
        return found

    def clean(self):
        data = super().clean()
        questions, options, sections = data.get("questions"), data.get("options"), data.get("sections") or []
        if questions and options == 5 and questions > MAX_QUESTIONS_5:
            self.add_error("questions", gettext("With five options a sheet holds at most 120 questions."))
        if questions:
            beyond = [name for name, _first, last in sections if last > questions]
            if beyond:
                self.add_error(
                    "sections",
                    gettext("Sections beyond the last question: %(names)s") % {"names": ", ".join(beyond)},
                )
        return data


class CsvUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(gettext("The file is larger than 20 MB."))
        data = upload.read()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(gettext("Save the file as CSV in UTF-8 and upload it again.")) from None


class PrintForm(forms.Form):
    BLANK, PERSONAL = "blank", "personal"
    kind = forms.ChoiceField(
        label=_("Sheets"),
        choices=[
            (BLANK, _("Blank sheets (candidates fill in their roll number)")),
            (PERSONAL, _("One personalised sheet per candidate, a PDF per centre")),
        ],
        widget=forms.RadioSelect,
        initial=BLANK,
    )
    count = forms.IntegerField(
        label=_("How many blank sheets"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_BLANK_SHEETS)],
        initial=50,
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == self.BLANK and not data.get("count") and "count" not in self.errors:
            self.add_error("count", gettext("Say how many blank sheets to print (1 to 5,000)."))
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe): the cleaned value is a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class BatchForm(forms.Form):
    name = forms.CharField(
        label=_("Batch name"), max_length=120, help_text=_("E.g. the hall or the scanner: Hall 3, scanner 2.")
    )
    files = MultipleFileField(
        label=_("Scanned sheets"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,.tif,.tiff,.pdf,.zip"}),
        help_text=_("Pictures (JPEG, PNG), TIFF and PDF files of many pages, or ZIP files of them. Up to 100 files "
                    "at a time: put more in a ZIP file."),
    )  # fmt: skip


class SheetFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Every status")), *SheetStatus.choices], required=False
    )


class ReviewForm(forms.Form):
    """The reviewer's view of one sheet: the roll number, the series (when the sheet has one) and a row of option
    checkboxes for each question shown (``q<n>``); a reason whenever anything differs from the reading."""

    roll = forms.CharField(label=_("Roll number"), max_length=10, required=False)
    reason = forms.CharField(
        label=_("Why you correct the reading"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        help_text=_("Needed when you change anything; kept with your name."),
    )

    def __init__(self, *args, layout, questions: list[int], sheet, **kwargs):
        initial = {"roll": sheet.roll, "series": sheet.series}
        for q in questions:
            initial[f"q{q}"] = list(sheet.answers.get(str(q), []))
        super().__init__(*args, initial=initial, **kwargs)
        self.questions = questions
        self.fields["roll"].widget.attrs.update(inputmode="numeric", autocomplete="off", dir="ltr")
        if layout.series:
            self.fields["series"] = forms.ChoiceField(
                label=_("Booklet series"),
                choices=[(s, s) for s in layout.series],
                widget=forms.RadioSelect,
            )
        letters = OPTION_LETTERS[: layout.options]
        for q in questions:
            self.fields[f"q{q}"] = forms.MultipleChoiceField(
                label=gettext("Question %(q)s") % {"q": q},
                choices=[(letter, letter) for letter in letters],
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
        self.order_fields(["roll", "series", *[f"q{q}" for q in questions], "reason"])

    def question_fields(self):
        return [self[f"q{q}"] for q in self.questions]

    def answers(self) -> dict[int, str]:
        return {q: "".join(self.cleaned_data.get(f"q{q}") or []) for q in self.questions}


class ScoreForm(forms.Form):
    confirm = forms.BooleanField(required=True, widget=forms.HiddenInput, initial=True)


def tie_break_choices(sections) -> list[tuple[str, str]]:
    return [
        ("", _("None")),
        *[(f"section:{s.name}", gettext("More marks in %(section)s") % {"section": s.name}) for s in sections],
        ("older", _("The older candidate")),
    ]


class PublishForm(forms.Form):
    """The merit list's policy: up to three tie-breakers in order, and quota buckets one a line."""

    quotas = forms.CharField(
        label=_("Quotas"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "ltr", "placeholder": "women,10,open\nopen,40"}),
        help_text=_(
            "One a line: bucket, seats, and optionally the bucket its unfilled seats go to (listed later). "
            "Leave empty for a plain merit list."
        ),
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, sections=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = tie_break_choices(sections)
        for n in range(1, TIE_BREAK_SLOTS + 1):
            label = gettext("First tie-breaker") if n == 1 else gettext("Then")
            self.fields[f"tie{n}"] = forms.ChoiceField(label=label, choices=choices, required=False)
        self.order_fields([*[f"tie{n}" for n in range(1, TIE_BREAK_SLOTS + 1)], "quotas", "confirm"])

    def tie_fields(self):
        return [self[f"tie{n}"] for n in range(1, TIE_BREAK_SLOTS + 1)]

    def clean_quotas(self) -> list[tuple[str, int, str]]:
        found: list[tuple[str, int, str]] = []
        errors: list[str] = []
        for number, line in enumerate(self.cleaned_data["quotas"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(",")]
            if len(parts) not in (2, 3) or not parts[0] or not parts[1].isdigit():
                errors.append(
                    gettext("Line %(n)s: write bucket, seats[, carry to] (e.g. women,10,open).") % {"n": number}
                )
                continue
            found.append((parts[0][:40], int(parts[1]), parts[2][:40] if len(parts) == 3 else ""))
        if errors:
            raise forms.ValidationError(errors)
        return found

    def clean(self):
        data = super().clean()
        chosen = [data.get(f"tie{n}") for n in range(1, TIE_BREAK_SLOTS + 1)]
        picked = [c for c in chosen if c]
        if len(set(picked)) != len(picked):
            self.add_error("tie2", gettext("Each tie-breaker once."))
        data["tie_breaks"] = picked
        return data


class MeritSearchForm(forms.Form):
    q = forms.CharField(label=_("Roll number"), max_length=10, required=False)
