"""OMR (issue 8, being built): stored sheet layouts, exams with their sections, answer keys per booklet series
and registered candidates; scan batches and their sheets (what the engine read, every bubble's figure, the
reviewers' corrections); results and published merit lists. Changes go through omr/services.py."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import Job

from .layout import Layout


class SheetLayout(models.Model):
    """A Layout (omr/layout.py) as JSON, one row per code and version: printing and reading use the same row."""

    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    data = models.JSONField(_("layout"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="omr_layout_unique_version")]
        verbose_name = _("sheet layout")
        verbose_name_plural = _("sheet layouts")

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def layout(self) -> Layout:
        return Layout.from_json(self.data)


class ExamStatus(models.TextChoices):
    SETUP = "setup", _("Being set up")
    SCANNING = "scanning", _("Scanning")
    PUBLISHED = "published", _("Merit list published")


class MultipleMark(models.TextChoices):
    WRONG = "wrong", _("Counts as a wrong answer")
    BLANK = "blank", _("Counts as unanswered")


class Exam(models.Model):
    code = models.SlugField(_("code"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=200)
    title_ur = models.CharField(_("title in Urdu"), max_length=200, blank=True)
    held_on = models.DateField(_("held on"))
    layout = models.ForeignKey(SheetLayout, on_delete=models.PROTECT, related_name="exams", verbose_name=_("layout"))
    marks_correct = models.DecimalField(_("marks for a correct answer"), max_digits=5, decimal_places=2, default=1)
    marks_wrong = models.DecimalField(_("marks taken for a wrong answer"), max_digits=5, decimal_places=2, default=0)
    multiple = models.CharField(
        _("two or more marks on a question"), max_length=8, choices=MultipleMark.choices, default=MultipleMark.WRONG
    )
    status = models.CharField(_("status"), max_length=10, choices=ExamStatus.choices, default=ExamStatus.SETUP)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(marks_correct__gt=0) & Q(marks_wrong__gte=0),
                name="omr_exam_marks_sensible",
                violation_error_message=_("Marks for a correct answer must be positive; negative marks zero or more."),
            )
        ]
        verbose_name = _("exam")
        verbose_name_plural = _("exams")

    def __str__(self) -> str:
        return self.title


class ExamSection(models.Model):
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(_("name"), max_length=80)
    name_ur = models.CharField(_("name in Urdu"), max_length=80, blank=True)
    first = models.PositiveSmallIntegerField(_("first question"))
    last = models.PositiveSmallIntegerField(_("last question"))

    class Meta:
        ordering = ["exam", "first"]
        constraints = [
            models.UniqueConstraint(fields=["exam", "name"], name="omr_section_unique_name"),
            models.CheckConstraint(
                condition=Q(first__gte=1) & Q(last__gte=F("first")),
                name="omr_section_range",
                violation_error_message=_("A section runs from its first question to a later or the same one."),
            ),
        ]
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self) -> str:
        return f"{self.name} ({self.first}–{self.last})"


class KeyAnswer(models.Model):
    """The key of one question in one booklet series ("" when the exam has none)."""

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="key")
    series = models.CharField(_("series"), max_length=1, blank=True)
    question = models.PositiveSmallIntegerField(_("question"))
    options = models.CharField(_("accepted options"), max_length=5, help_text=_("One letter, or several: AD."))
    dropped = models.BooleanField(_("dropped (no marks for anybody)"), default=False)
    bonus = models.BooleanField(_("bonus (full marks for everybody)"), default=False)

    class Meta:
        ordering = ["exam", "series", "question"]
        constraints = [
            models.UniqueConstraint(fields=["exam", "series", "question"], name="omr_key_unique_question"),
            models.CheckConstraint(
                condition=~(Q(dropped=True) & Q(bonus=True)),
                name="omr_key_not_dropped_and_bonus",
                violation_error_message=_("A question is dropped or a bonus, not both."),
            ),
        ]
        verbose_name = _("key answer")
        verbose_name_plural = _("answer key")

    def __str__(self) -> str:
        return f"{self.series or '-'}{self.question}: {self.options}"


class ExamCandidate(models.Model):
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="candidates")
    roll = models.CharField(_("roll number"), max_length=10)
    name = models.CharField(_("name"), max_length=120)
    born = models.DateField(_("date of birth"), null=True, blank=True)
    centre = models.CharField(_("exam centre"), max_length=120, blank=True)
    buckets = models.JSONField(_("quota buckets"), default=list, blank=True)

    class Meta:
        ordering = ["exam", "roll"]
        constraints = [models.UniqueConstraint(fields=["exam", "roll"], name="omr_candidate_unique_roll")]
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")

    def __str__(self) -> str:
        return f"{self.roll} {self.name}"


class Batch(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="batches")
    name = models.CharField(_("name"), max_length=120)
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("scan batch")
        verbose_name_plural = _("scan batches")

    def __str__(self) -> str:
        return self.name


class SheetStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to be read")
    READ = "read", _("Read")
    REVIEW = "review", _("To review")
    REFUSED = "refused", _("Refused")
    CONFIRMED = "confirmed", _("Confirmed by a reviewer")


def scan_path(instance: Sheet, filename: str) -> str:
    # Never the uploaded name: a random one, with the extension of the stored format (jpg, png).
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    return f"omr/{instance.batch.exam.code}/{instance.batch_id}/{uuid.uuid4().hex}.{extension}"


class Sheet(models.Model):
    """One scanned page: the image as stored (PNG), what the engine read, and where review stands."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="sheets")
    source = models.CharField(_("file"), max_length=200)  # the uploaded file's name, and the page within it
    page = models.PositiveSmallIntegerField(_("page"), default=1)
    image = models.FileField(_("image"), upload_to=scan_path, max_length=200, blank=True)  # empty: unusable file
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=SheetStatus.choices, default=SheetStatus.QUEUED)
    refusal = models.CharField(_("refused because"), max_length=300, blank=True)
    sheet_code = models.CharField(_("sheet id (QR)"), max_length=40, blank=True)
    roll = models.CharField(_("roll number"), max_length=10, blank=True, db_index=True)
    series = models.CharField(_("series"), max_length=1, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)  # question → letters, as confirmed
    reading = models.JSONField(_("engine's figures"), default=dict, blank=True)  # every bubble's fill, confidences
    confidence = models.DecimalField(_("confidence"), max_digits=5, decimal_places=4, null=True, blank=True)
    review_reasons = models.JSONField(_("to review because"), default=list, blank=True)
    candidate = models.ForeignKey(ExamCandidate, on_delete=models.PROTECT, null=True, blank=True, related_name="sheets")
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)

    class Meta:
        ordering = ["batch", "id"]
        indexes = [models.Index(fields=["batch", "status"], name="omr_sheet_batch_status")]
        verbose_name = _("sheet")
        verbose_name_plural = _("sheets")

    def __str__(self) -> str:
        return f"{self.source} p{self.page}"


class Correction(models.Model):
    """A reviewer's change to what the engine read: who, when, what, from what, to what, and why. Append-only."""

    sheet = models.ForeignKey(Sheet, on_delete=models.PROTECT, related_name="corrections")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))
    field = models.CharField(_("what"), max_length=20)  # "roll", "series" or "q12"
    before = models.CharField(_("read"), max_length=20, blank=True)
    after = models.CharField(_("corrected to"), max_length=20, blank=True)
    reason = models.CharField(_("why"), max_length=300)

    class Meta:
        ordering = ["sheet", "at", "id"]
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")

    def __str__(self) -> str:
        return f"{self.sheet_id} {self.field}: {self.before!r} → {self.after!r}"


class Result(models.Model):
    """A candidate's marks, from their confirmed sheet; the per-question marks keep the trail to the bubbles."""

    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="results")
    candidate = models.OneToOneField(ExamCandidate, on_delete=models.PROTECT, related_name="result")
    sheet = models.OneToOneField(Sheet, on_delete=models.PROTECT, related_name="result")
    total = models.DecimalField(_("total"), max_digits=8, decimal_places=2)
    sections = models.JSONField(_("marks by section"), default=dict)
    correct = models.PositiveSmallIntegerField(_("correct"))
    wrong = models.PositiveSmallIntegerField(_("wrong"))
    blank = models.PositiveSmallIntegerField(_("unanswered"))
    multiple = models.PositiveSmallIntegerField(_("multiple marks"))
    per_question = models.JSONField(_("marks by question"), default=dict)
    scored_at = models.DateTimeField(_("scored"))

    class Meta:
        ordering = ["exam", "-total"]
        verbose_name = _("result")
        verbose_name_plural = _("results")

    def __str__(self) -> str:
        return f"{self.candidate.roll}: {self.total}"


class MeritList(models.Model):
    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="merit_lists")
    version = models.PositiveSmallIntegerField(_("version"))
    policy = models.JSONField(_("policy"))  # tie-breakers and quotas, as applied
    published_at = models.DateTimeField(_("published"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["exam", "-version"]
        constraints = [models.UniqueConstraint(fields=["exam", "version"], name="omr_merit_unique_version")]
        verbose_name = _("merit list")
        verbose_name_plural = _("merit lists")

    def __str__(self) -> str:
        return f"{self.exam} v{self.version}"


class MeritEntry(models.Model):
    merit_list = models.ForeignKey(MeritList, on_delete=models.CASCADE, related_name="entries")
    rank = models.PositiveIntegerField(_("rank"))
    result = models.ForeignKey(Result, on_delete=models.PROTECT, related_name="+")
    selected_in = models.CharField(_("selected in"), max_length=40, blank=True)

    class Meta:
        ordering = ["merit_list", "rank"]
        constraints = [models.UniqueConstraint(fields=["merit_list", "rank"], name="omr_merit_unique_rank")]
        verbose_name = _("merit list entry")
        verbose_name_plural = _("merit list entries")

    def __str__(self) -> str:
        return f"{self.rank}. {self.result}"
