"""Result Management System: elections, contests, candidates, the stations of a
contest, Form-45 entries (double entry) and accepted Form-45s, Form-46,
postal ballots, flags, and immutable versions of Forms 47/48/49.

Vote figures are integers validated at the edge and again by constraints;
totals are always derived from the accepted rows (results.selectors), never
stored from a client. Writes go through results.services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import Constituency, PollingStation, StationType


class Election(models.Model):
    class Kind(models.TextChoices):
        GENERAL = "general", _("General election")
        BYE = "bye", _("Bye-election")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        COUNTING = "counting", _("Counting")
        COMPLETED = "completed", _("Completed")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=160)
    name_ur = models.CharField(_("name in Urdu"), max_length=160, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.GENERAL)
    poll_date = models.DateField(_("poll date"))
    poll_close_at = models.DateTimeField(_("poll closes at"))
    # The provisional statement (Form-47) is due by 02:00 the next day, the complete one by 10:00 (configurable).
    provisional_deadline_at = models.DateTimeField(_("provisional results due"))
    complete_deadline_at = models.DateTimeField(_("complete results due"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED)

    class Meta:
        ordering = ["-poll_date", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(provisional_deadline_at__gt=F("poll_close_at"))
                & Q(complete_deadline_at__gte=F("provisional_deadline_at")),
                name="election_deadlines_in_order",
                violation_error_message=_("Deadlines must follow the close of poll, provisional before complete."),
            )
        ]
        verbose_name = _("election")
        verbose_name_plural = _("elections")

    def __str__(self) -> str:
        return self.name


class Contest(models.Model):
    """An election in one constituency."""

    class Status(models.TextChoices):
        COUNTING = "counting", _("Counting")
        PROVISIONAL = "provisional", _("Provisional (Form-47)")
        CONSOLIDATED = "consolidated", _("Consolidated (Form-48)")
        FINAL = "final", _("Final (Form-49)")

    election = models.ForeignKey(Election, on_delete=models.PROTECT, related_name="contests")
    constituency = models.ForeignKey(Constituency, on_delete=models.PROTECT, related_name="contests")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.COUNTING)
    # Set by Form-49 sign-off; afterwards figures change only through a recorded recount.
    finalized_at = models.DateTimeField(_("finalised at"), null=True, blank=True)
    finalized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recounts = models.PositiveSmallIntegerField(_("recounts"), default=0)
    # Head of this contest's chain of published tallies (PublishedTally), moved under the contest's row lock.
    published_version = models.PositiveIntegerField(_("published version"), default=0)
    published_hash = models.CharField(_("published hash"), max_length=64, blank=True, default="")

    class Meta:
        ordering = ["election", "constituency__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "constituency"],
                name="contest_one_per_constituency",
                violation_error_message=_("This election already has a contest in this constituency."),
            )
        ]
        verbose_name = _("contest")
        verbose_name_plural = _("contests")

    def __str__(self) -> str:
        return f"{self.election.code} {self.constituency.code}"

    @property
    def is_locked(self) -> bool:
        return self.status == self.Status.FINAL


class Candidate(models.Model):
    contest = models.ForeignKey(Contest, on_delete=models.PROTECT, related_name="candidates")
    ballot_order = models.PositiveSmallIntegerField(_("ballot order"))
    name = models.CharField(_("name"), max_length=160)
    name_ur = models.CharField(_("name in Urdu"), max_length=160, blank=True)
    party = models.CharField(_("party"), max_length=160, blank=True)
    party_ur = models.CharField(_("party in Urdu"), max_length=160, blank=True)
    symbol = models.CharField(_("symbol"), max_length=80, blank=True)
    symbol_ur = models.CharField(_("symbol in Urdu"), max_length=80, blank=True)

    class Meta:
        ordering = ["contest", "ballot_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["contest", "ballot_order"],
                name="candidate_unique_ballot_order",
                violation_error_message=_("Another candidate of this contest has this ballot order."),
            ),
            models.CheckConstraint(
                condition=Q(ballot_order__gte=1),
                name="candidate_ballot_order_positive",
                violation_error_message=_("Ballot order starts at 1."),
            ),
        ]
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")

    def __str__(self) -> str:
        return f"{self.ballot_order}. {self.name}" + (f" ({self.party})" if self.party else "")


class ContestStation(models.Model):
    """A polling station of a contest, with its registered voters as of this election."""

    contest = models.ForeignKey(Contest, on_delete=models.PROTECT, related_name="stations")
    polling_station = models.ForeignKey(PollingStation, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField(_("polling station number"))
    station_type = models.CharField(_("type"), max_length=8, choices=StationType.choices)
    male_voters = models.PositiveIntegerField(_("registered male voters"))
    female_voters = models.PositiveIntegerField(_("registered female voters"))

    class Meta:
        ordering = ["contest", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["contest", "polling_station"],
                name="contest_station_unique",
                violation_error_message=_("This polling station is already in this contest."),
            ),
            models.UniqueConstraint(
                fields=["contest", "number"],
                name="contest_station_unique_number",
                violation_error_message=_("This contest already has a station with this number."),
            ),
        ]
        verbose_name = _("contest station")
        verbose_name_plural = _("contest stations")

    def __str__(self) -> str:
        return f"PS-{self.number}"

    @property
    def registered_voters(self) -> int:
        return self.male_voters + self.female_voters


class Form45Base(models.Model):
    """The figures of a Form-45 (Result of the Count), shared by entries and accepted forms."""

    polled_male = models.PositiveIntegerField(_("votes polled (male)"))
    polled_female = models.PositiveIntegerField(_("votes polled (female)"))
    polled_total = models.PositiveIntegerField(_("total votes polled"))
    excluded = models.PositiveIntegerField(_("ballots excluded from the count"))
    counted_at = models.DateTimeField(_("date and time of the count"), null=True, blank=True)

    class Meta:
        abstract = True


class Form45Entry(Form45Base):
    """One operator's keying of one Form-45. Two entries by two operators make a form."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for the second entry")
        MATCHED = "matched", _("Matched and accepted")
        MISMATCHED = "mismatched", _("Mismatch: with the supervisor")
        CHOSEN = "chosen", _("Chosen by the supervisor")
        SET_ASIDE = "set_aside", _("Set aside by the supervisor")

    contest_station = models.ForeignKey(ContestStation, on_delete=models.PROTECT, related_name="entries")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Chosen by the client for each submission, so a resend after a dropped connection is recognised.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64)
    # Candidate ballot order (as a string key) -> valid votes, exactly as keyed.
    votes = models.JSONField(_("votes"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        ordering = ["contest_station", "submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "idempotency_key"],
                name="entry_unique_idempotency_key",
                violation_error_message=_("This submission was already received."),
            ),
            models.UniqueConstraint(
                fields=["contest_station", "operator"],
                name="entry_one_per_operator",
                violation_error_message=_("You have already keyed this Form-45; a second operator must key it."),
            ),
        ]
        verbose_name = _("Form-45 entry")
        verbose_name_plural = _("Form-45 entries")

    def __str__(self) -> str:
        return f"{self.contest_station} by {self.operator_id}"


class Form45(Form45Base):
    """The accepted Form-45 of a station: at most one per contest station (a unique constraint)."""

    class Source(models.TextChoices):
        DOUBLE_ENTRY = "double_entry", _("Two matching entries")
        SUPERVISOR = "supervisor", _("Supervisor's decision")
        BUNDLE = "bundle", _("Imported from an offline bundle")

    contest_station = models.OneToOneField(ContestStation, on_delete=models.PROTECT, related_name="form45")
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    accepted_at = models.DateTimeField(_("accepted at"), auto_now_add=True)
    # The supervisor (RO) for a decision; empty when two entries matched.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)
    first_entry = models.ForeignKey(Form45Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    second_entry = models.ForeignKey(Form45Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(polled_total=F("polled_male") + F("polled_female")),
                name="form45_gender_sum",
                violation_error_message=_("Male and female votes polled must add up to the total."),
            )
        ]
        verbose_name = _("accepted Form-45")
        verbose_name_plural = _("accepted Form-45s")

    def __str__(self) -> str:
        return f"Form-45 {self.contest_station}"


class Form45Vote(models.Model):
    """One candidate's valid votes on an accepted Form-45; the rows every tally sums."""

    # Indexed by the unique (form, candidate) and the covering (candidate) INCLUDE (votes) below, not apart.
    form = models.ForeignKey(Form45, on_delete=models.CASCADE, related_name="votes", db_index=False)
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="+", db_index=False)
    votes = models.PositiveIntegerField(_("votes"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["form", "candidate"],
                name="form45_vote_unique",
                violation_error_message=_("A candidate appears once on a Form-45."),
            )
        ]
        # Every tally sums votes by candidate: answered from this index alone.
        indexes = [models.Index(fields=["candidate"], include=["votes"], name="form45_vote_cand_votes_idx")]
        verbose_name = _("Form-45 vote")
        verbose_name_plural = _("Form-45 votes")

    def __str__(self) -> str:
        return f"{self.candidate_id}: {self.votes}"


class Form46(models.Model):
    """Ballot Paper Account of a station."""

    contest_station = models.OneToOneField(ContestStation, on_delete=models.PROTECT, related_name="form46")
    received = models.PositiveIntegerField(_("ballot papers received"))
    unissued = models.PositiveIntegerField(_("unissued"))
    issued = models.PositiveIntegerField(_("issued"))
    spoilt = models.PositiveIntegerField(_("spoilt or cancelled"))
    tendered = models.PositiveIntegerField(_("tendered"))
    challenged = models.PositiveIntegerField(_("challenged"))
    taken_out = models.PositiveIntegerField(_("taken out of the ballot box"))
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Form-46")
        verbose_name_plural = _("Form-46s")

    def __str__(self) -> str:
        return f"Form-46 {self.contest_station}"


class PostalBallots(models.Model):
    """Postal ballots of a contest, counted in the consolidation proceedings (Form-48)."""

    contest = models.OneToOneField(Contest, on_delete=models.PROTECT, related_name="postal")
    rejected = models.PositiveIntegerField(_("rejected postal ballots"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    class Meta:
        verbose_name = _("postal ballots")
        verbose_name_plural = _("postal ballots")

    def __str__(self) -> str:
        return f"Postal ballots {self.contest}"


class PostalVote(models.Model):
    postal = models.ForeignKey(PostalBallots, on_delete=models.CASCADE, related_name="votes")
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="+")
    votes = models.PositiveIntegerField(_("votes"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["postal", "candidate"],
                name="postal_vote_unique",
                violation_error_message=_("A candidate appears once among the postal ballots."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.candidate_id}: {self.votes}"


class Flag(models.Model):
    """A finding of a results.tally rule on a contest or one of its stations, for the RO to see."""

    class Severity(models.TextChoices):
        WARNING = "warning", _("Warning")
        INFO = "info", _("Information")

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="flags")
    contest_station = models.ForeignKey(
        ContestStation, on_delete=models.CASCADE, null=True, blank=True, related_name="flags"
    )
    rule = models.CharField(_("rule"), max_length=60)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    message = models.CharField(_("message"), max_length=500)
    data = models.JSONField(_("data"), default=dict, blank=True)
    raised_at = models.DateTimeField(_("raised at"), auto_now=True)

    class Meta:
        ordering = ["contest", "contest_station", "rule"]
        constraints = [
            models.UniqueConstraint(
                fields=["contest", "rule"],
                condition=Q(contest_station__isnull=True),
                name="flag_unique_contest_rule",
            ),
            models.UniqueConstraint(
                fields=["contest_station", "rule"],
                condition=Q(contest_station__isnull=False),
                name="flag_unique_station_rule",
            ),
        ]
        verbose_name = _("flag")
        verbose_name_plural = _("flags")

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


class FormVersion(models.Model):
    """An immutable, produced version of Form-47, 48 or 49, with its figures and PDFs' hashes."""

    class Form(models.TextChoices):
        FORM47 = "47", _("Form-47 (provisional)")
        FORM48 = "48", _("Form-48 (consolidated)")
        FORM49 = "49", _("Form-49 (final)")

    contest = models.ForeignKey(Contest, on_delete=models.PROTECT, related_name="form_versions")
    form = models.CharField(_("form"), max_length=2, choices=Form.choices)
    version = models.PositiveSmallIntegerField(_("version"))
    figures = models.JSONField(_("figures"))
    content_hash = models.CharField(_("content hash"), max_length=64)
    pdf_en = models.FileField(_("PDF (English)"), upload_to="results/forms/")
    pdf_en_sha256 = models.CharField(_("PDF (English) SHA-256"), max_length=64)
    pdf_ur = models.FileField(_("PDF (Urdu)"), upload_to="results/forms/")
    pdf_ur_sha256 = models.CharField(_("PDF (Urdu) SHA-256"), max_length=64)
    produced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    produced_at = models.DateTimeField(_("produced at"))

    class Meta:
        ordering = ["contest", "form", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["contest", "form", "version"],
                name="form_version_unique",
                violation_error_message=_("This version of this form already exists."),
            )
        ]
        verbose_name = _("form version")
        verbose_name_plural = _("form versions")

    def __str__(self) -> str:
        return f"Form-{self.form} v{self.version} {self.contest}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Form versions are immutable: produce a new version instead.")
        super().save(*args, **kwargs)


class SigningKey(models.Model):
    """A Returning Officer office's Ed25519 public key, trusted for offline bundles of its constituency.

    The private key stays on the RO's laptop; the centre registers the public half here."""

    label = models.CharField(_("label"), max_length=120)
    constituency = models.ForeignKey(Constituency, on_delete=models.PROTECT, related_name="+")
    public_key = models.CharField(_("public key (base64, raw 32 bytes)"), max_length=64, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["constituency", "label"]
        verbose_name = _("bundle signing key")
        verbose_name_plural = _("bundle signing keys")

    def __str__(self) -> str:
        return f"{self.label} ({self.constituency.code})"


class PublishedTally(models.Model):
    """One published version of a contest's tally: what the public pages showed from then on.

    Each contest's versions form a hash chain (``results.publication``): ``hash``
    covers the previous version's hash, the contest, the version number, the
    time and the SHA-256 of the canonical figures. Rows are never changed."""

    contest = models.ForeignKey(Contest, on_delete=models.PROTECT, related_name="published_tallies")
    version = models.PositiveIntegerField(_("version"))
    figures = models.JSONField(_("figures"))
    content_hash = models.CharField(_("content hash"), max_length=64)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    published_at = models.DateTimeField(_("published at"))
    reason = models.CharField(_("reason"), max_length=40)

    class Meta:
        ordering = ["contest", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["contest", "version"],
                name="published_tally_unique",
                violation_error_message=_("This version of the contest's tally is already published."),
            )
        ]
        verbose_name = _("published tally")
        verbose_name_plural = _("published tallies")

    def __str__(self) -> str:
        return f"{self.contest} v{self.version}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Published tallies are immutable: publish a new version instead.")
        super().save(*args, **kwargs)


# --- Form-45 pictures (issue 4) ---------------------------------------------------------------------------


class Form45Photo(models.Model):
    """A picture of a signed Form-45 sent by a Presiding Officer, kept byte for byte (``results.photos``).

    The original bytes are stored under ``results/photos/`` named by their
    SHA-256. A station may have several pictures: a re-upload is a new row,
    never an overwrite. ``findings`` are the forensic flags (``results.forensics``)
    for the Returning Officer, who accepts or queries the picture; nothing is
    decided automatically."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received: waiting for the RO")
        ACCEPTED = "accepted", _("Accepted by the RO")
        QUERIED = "queried", _("Queried by the RO")

    contest_station = models.ForeignKey(ContestStation, on_delete=models.PROTECT, related_name="photos")
    file = models.FileField(_("picture"), upload_to="results/photos/", max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=20)
    width = models.PositiveIntegerField(_("width (pixels)"))
    height = models.PositiveIntegerField(_("height (pixels)"))
    received_at = models.DateTimeField(_("received at"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Chosen by the client once per picture, so a resend after a dropped connection is recognised.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64)
    device_id = models.CharField(_("device id (from the client)"), max_length=100, blank=True)
    user_agent = models.CharField(_("User-Agent"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # What the EXIF said: make, model, datetime_original, offset_time_original, gps_latitude, gps_longitude.
    exif = models.JSONField(_("EXIF"), default=dict, blank=True)
    taken_at = models.DateTimeField(_("taken at (EXIF)"), null=True, blank=True)
    latitude = models.DecimalField(_("latitude (EXIF)"), max_digits=10, decimal_places=7, null=True, blank=True)
    longitude = models.DecimalField(_("longitude (EXIF)"), max_digits=10, decimal_places=7, null=True, blank=True)
    distance_m = models.PositiveIntegerField(_("distance to the station (m)"), null=True, blank=True)
    phash = models.CharField(_("perceptual hash"), max_length=16)
    # The forensic findings: [{"rule", "severity", "message", "data"}], later matches appended.
    findings = models.JSONField(_("findings"), default=list, blank=True)
    is_flagged = models.BooleanField(_("flagged"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["contest_station", "-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["uploaded_by", "idempotency_key"],
                name="form45_photo_unique_idempotency_key",
                violation_error_message=_("This picture was already received."),
            ),
            models.UniqueConstraint(
                fields=["contest_station", "sha256"],
                name="form45_photo_unique_bytes_per_station",
                violation_error_message=_("This very picture was already received for this polling station."),
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="form45_photo_lat_lon_together",
                violation_error_message=_("Give both latitude and longitude, or neither."),
            ),
        ]
        indexes = [
            # The same bytes sent for another station (photo.same_picture).
            models.Index(fields=["sha256"], name="form45_photo_sha256_idx"),
        ]
        verbose_name = _("Form-45 picture")
        verbose_name_plural = _("Form-45 pictures")

    def __str__(self) -> str:
        return f"Form-45 picture {self.contest_station} {self.sha256[:12]}"

    @property
    def extension(self) -> str:
        return "png" if self.content_type == "image/png" else "jpg"
