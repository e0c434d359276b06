"""Offline mode: keys, signed bundles exported on an RO's laptop and imported at the centre.

One test database plays both parts: a contest is keyed (the laptop), exported
with a generated key, and then its accepted forms and form versions are
deleted with plain ORM deletes so the same database can play the centre that
never saw them. Every refusal asserts that nothing was written, audit included.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from core.exceptions import ConflictError, DomainError
from core.models import AuditEvent, Constituency
from results import offline, selectors, services, signing
from results.models import (
    Candidate,
    Contest,
    ContestStation,
    Flag,
    Form45,
    Form45Entry,
    Form45Vote,
    FormVersion,
    SigningKey,
)
from results.services import Figures
from tests.factories import ConstituencyFactory
from tests.results.factories import ContestSetup, make_contest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English, whatever locale an earlier test left active."""
    with translation.override("en"):
        yield


# Stations 1, 2 and 4 of make_contest are combined (1,000 men, 900 women), 3 is female (900 women).
STATION_FIGURES = {
    1: Figures(polled_male=500, polled_female=460, polled_total=960, excluded=10, votes={1: 500, 2: 300, 3: 150}),
    2: Figures(polled_male=450, polled_female=475, polled_total=925, excluded=5, votes={1: 400, 2: 420, 3: 100}),
    3: Figures(polled_male=0, polled_female=533, polled_total=533, excluded=3, votes={1: 200, 2: 250, 3: 80}),
}


def accept(setup: ContestSetup, number: int, figures: Figures) -> Form45:
    """Two operators key the same figures: the real double-entry path."""
    station = setup.stations[number - 1]
    for operator in (setup.deo1, setup.deo2):
        services.form45_entry_submit(
            actor=operator, contest_station_id=station.pk, idempotency_key=uuid.uuid4().hex, figures=figures
        )
    return Form45.objects.get(contest_station=station)


def make_version(contest: Contest, form: str = "47", version: int = 1, marker: str = "") -> FormVersion:
    pdfs = {lang: f"%PDF-1.7 Form-{form} v{version} {lang} {marker}".encode() for lang in ("en", "ur")}
    figures = {"form": form, "version": version, "votes": {"1": 1100, "2": 970, "3": 330}, "marker": marker}
    return FormVersion.objects.create(
        contest=contest,
        form=form,
        version=version,
        figures=figures,
        content_hash=hashlib.sha256(signing.canonical_json(figures)).hexdigest(),
        pdf_en=ContentFile(pdfs["en"], name=f"form{form}-v{version}-en.pdf"),
        pdf_en_sha256=hashlib.sha256(pdfs["en"]).hexdigest(),
        pdf_ur=ContentFile(pdfs["ur"], name=f"form{form}-v{version}-ur.pdf"),
        pdf_ur_sha256=hashlib.sha256(pdfs["ur"]).hexdigest(),
        produced_at=timezone.now(),
    )


def keygen(path: Path) -> str:
    out = io.StringIO()
    call_command("results_keygen", "--out", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def register(public_key: str, constituency: str = "NA-46", label: str = "RO NA-46 laptop") -> None:
    call_command(
        "register_signing_key",
        "--constituency",
        constituency,
        "--label",
        label,
        "--public-key",
        public_key,
        stdout=io.StringIO(),
    )


def export(key_file: Path, out: Path, *args: str) -> str:
    stdout = io.StringIO()
    call_command(
        "export_results", "--contest", "NA-46", "--key", str(key_file), "--out", str(out), *args, stdout=stdout
    )
    return stdout.getvalue()


def import_bundle(path: Path, *args: str) -> str:
    stdout = io.StringIO()
    call_command("import_results", str(path), *args, stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


def import_refused(path: Path, code: str) -> str:
    """An import that must be refused with ``code``; returns stderr (the list of problems)."""
    stderr = io.StringIO()
    with pytest.raises(CommandError, match=rf"\[{code}\]") as refused:
        call_command("import_results", str(path), stdout=io.StringIO(), stderr=stderr)
    assert refused.value.returncode == 1
    return stderr.getvalue()


def forget_results(contest: Contest) -> None:
    """Make this database the centre that never received the laptop's forms."""
    Form45Vote.objects.filter(form__contest_station__contest=contest).delete()
    Form45.objects.filter(contest_station__contest=contest).delete()
    Form45Entry.objects.filter(contest_station__contest=contest).delete()
    FormVersion.objects.filter(contest=contest).delete()
    Flag.objects.filter(contest=contest).delete()


def figures_of(contest: Contest) -> dict[int, tuple]:
    return {
        form.contest_station.number: (
            form.polled_male,
            form.polled_female,
            form.polled_total,
            form.excluded,
            form.counted_at,
            tuple(sorted((v.candidate.ballot_order, v.votes) for v in form.votes.all())),
        )
        for form in Form45.objects.filter(contest_station__contest=contest)
        .select_related("contest_station")
        .prefetch_related("votes__candidate")
    }


def versions_of(contest: Contest) -> list[tuple]:
    return [
        (v.form, v.version, v.figures, v.content_hash, v.pdf_en_sha256, v.pdf_ur_sha256, v.produced_at)
        for v in FormVersion.objects.filter(contest=contest).order_by("form", "version")
    ]


def tally_of(contest: Contest) -> tuple:
    t = selectors.contest_tally(contest=contest)
    return (
        t.votes,
        t.polled_male,
        t.polled_female,
        t.polled_total,
        t.excluded,
        t.stations_total,
        t.stations_reported,
        [s.pk for s in t.awaited],
    )


def snapshot() -> dict:
    return {
        "forms": sorted(Form45.objects.values_list("contest_station_id", "source", "polled_total", "excluded")),
        "votes": sorted(Form45Vote.objects.values_list("form__contest_station_id", "candidate_id", "votes")),
        "versions": sorted(FormVersion.objects.values_list("contest_id", "form", "version", "content_hash")),
        "flags": Flag.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@dataclass
class Laptop:
    setup: ContestSetup
    key_file: Path
    public_key: str
    bundle: Path
    figures: dict[int, tuple]
    versions: list[tuple]
    tally: tuple


@pytest.fixture
def laptop(tmp_path) -> Laptop:
    """NA-46 keyed on the laptop (stations 1-3 accepted, 4 awaited, Form-47 v1 produced) and exported."""
    setup = make_contest("NA-46")
    for number, figures in STATION_FIGURES.items():
        accept(setup, number, figures)
    make_version(setup.contest)
    key_file = tmp_path / "ro-na46.key"
    public_key = keygen(key_file)
    bundle = tmp_path / "usb" / "na46.json"
    bundle.parent.mkdir()
    export(key_file, bundle)
    return Laptop(
        setup=setup,
        key_file=key_file,
        public_key=public_key,
        bundle=bundle,
        figures=figures_of(setup.contest),
        versions=versions_of(setup.contest),
        tally=tally_of(setup.contest),
    )


@pytest.fixture
def centre(laptop) -> Laptop:
    """The same database as the centre: the laptop's key registered, its forms never received."""
    register(laptop.public_key)
    forget_results(laptop.setup.contest)
    return laptop


def resign(laptop: Laptop, change, name: str = "resigned.json") -> Path:
    """A bundle whose payload was changed and then signed again with the laptop's own (trusted) key."""
    document = json.loads(laptop.bundle.read_bytes())
    change(document["payload"])
    key = signing.private_key_from_pem(laptop.key_file.read_bytes())
    path = laptop.bundle.with_name(name)
    path.write_bytes(signing.canonical_json(signing.sign_document(document["payload"], key)))
    return path


# --- keys ---------------------------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_only_its_owner_can_read_and_prints_the_public_key(tmp_path):
    path = tmp_path / "ro.key"
    public_key = keygen(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    private = signing.private_key_from_pem(path.read_bytes())
    assert signing.public_key_b64(private) == public_key
    assert len(base64.b64decode(public_key)) == 32


def test_keygen_never_overwrites_a_file(tmp_path):
    path = tmp_path / "ro.key"
    keygen(path)
    before = path.read_bytes()
    with pytest.raises(CommandError, match="already exists"):
        keygen(path)
    assert path.read_bytes() == before


def test_register_signing_key_trusts_it_for_one_constituency_and_is_audited():
    ConstituencyFactory(code="NA-46")
    public_key = signing.public_key_b64(signing.generate_private_key())
    register(public_key)
    key = SigningKey.objects.get()
    assert (key.constituency.code, key.label, key.public_key, key.is_active) == (
        "NA-46",
        "RO NA-46 laptop",
        public_key,
        True,
    )
    event = AuditEvent.objects.get(action="results.signing_key_registered")
    assert event.actor_label == "command:register_signing_key"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--constituency", "NA-46", "--label", "x", "--public-key", "bm90IGEga2V5"], "bad_public_key"),
        (["--constituency", "NA-99", "--label", "x", "--public-key", "{key}"], "unknown_constituency"),
        (["--constituency", "NA-46", "--label", "  ", "--public-key", "{key}"], None),
    ],
)
def test_register_signing_key_refusals_write_nothing(args, code):
    ConstituencyFactory(code="NA-46")
    public_key = signing.public_key_b64(signing.generate_private_key())
    args = [a.replace("{key}", public_key) for a in args]
    with pytest.raises(CommandError) as refused:
        call_command("register_signing_key", *args, stdout=io.StringIO())
    if code:
        assert f"[{code}]" in str(refused.value)
    assert not SigningKey.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_key_is_registered_once():
    ConstituencyFactory(code="NA-46")
    public_key = signing.public_key_b64(signing.generate_private_key())
    register(public_key)
    with pytest.raises(CommandError, match=r"already registered as RO NA-46 laptop \(NA-46\).*\[key_exists\]"):
        register(public_key, label="another laptop")
    assert SigningKey.objects.count() == 1


# --- export ---------------------------------------------------------------------------------------------------


def test_the_bundle_is_canonical_signed_json_with_everything_the_centre_needs(laptop):
    data = laptop.bundle.read_bytes()
    document = signing.parse_json(data)
    assert signing.canonical_json(document) == data  # the file is its own canonical form
    payload, public_key = signing.verify_document(document)
    assert public_key == laptop.public_key
    assert document["signature"]["algorithm"] == "Ed25519"
    assert (payload["format"], payload["version"]) == ("ecp-results-bundle", 1)
    assert payload["election"]["code"] == "ge-2026"
    assert payload["contest"]["constituency"] == "NA-46"
    assert [c["ballot_order"] for c in payload["candidates"]] == [1, 2, 3]
    assert payload["candidates"][0]["name"] == "Candidate 1"
    assert [(s["number"], s["male_voters"], s["female_voters"]) for s in payload["stations"]] == [
        (1, 1000, 900),
        (2, 1000, 900),
        (3, 0, 900),
        (4, 1000, 900),
    ]
    first = payload["forms"][0]
    assert (first["station"], first["polled_total"], first["excluded"], first["source"]) == (1, 960, 10, "double_entry")
    assert first["votes"] == {"1": 500, "2": 300, "3": 150}
    assert [f["station"] for f in payload["forms"]] == [1, 2, 3]
    (version,) = payload["form_versions"]
    assert (version["form"], version["version"]) == ("47", 1)
    assert hashlib.sha256(base64.b64decode(version["pdf_en"])).hexdigest() == version["pdf_en_sha256"]


def test_the_export_is_audited_on_the_laptop_with_the_bundle_hash(laptop):
    event = AuditEvent.objects.get(action="results.bundle_exported")
    assert event.data["sha256"] == hashlib.sha256(laptop.bundle.read_bytes()).hexdigest()
    assert (event.data["forms"], event.data["stations"], event.data["form_versions"]) == (3, 4, 1)
    assert event.actor_label == "command:export_results"


def test_export_prints_a_summary(laptop, tmp_path):
    out = export(laptop.key_file, tmp_path / "again.json")
    assert "3 accepted Form-45s of 4 stations, 1 form versions" in out
    assert laptop.public_key in out


def test_export_refuses_a_damaged_pdf_unless_form_versions_are_left_out(laptop, tmp_path):
    version = FormVersion.objects.get(contest=laptop.setup.contest)
    with open(version.pdf_en.path, "ab") as stream:
        stream.write(b"tampered")
    with pytest.raises(CommandError, match=r"\[pdf_altered\]"):
        export(laptop.key_file, tmp_path / "b.json")
    assert not (tmp_path / "b.json").exists()
    export(laptop.key_file, tmp_path / "b.json", "--no-form-versions")
    payload = json.loads((tmp_path / "b.json").read_bytes())["payload"]
    assert payload["form_versions"] == [] and len(payload["forms"]) == 3


def test_export_refuses_an_unknown_contest_and_a_bad_key_file(laptop, tmp_path):
    with pytest.raises(CommandError, match=r"\[contest_not_found\]"):
        call_command(
            "export_results", "--contest", "NA-99", "--key", str(laptop.key_file), "--out", str(tmp_path / "x.json")
        )
    bad_key = tmp_path / "bad.key"
    bad_key.write_text("not a key")
    with pytest.raises(CommandError, match="not an unencrypted PEM private key"):
        export(bad_key, tmp_path / "x.json")


# --- import: the round trip -----------------------------------------------------------------------------------


def test_import_restores_the_laptops_figures_exactly(centre):
    contest = centre.setup.contest
    assert figures_of(contest) == {}  # the centre has nothing yet
    out = import_bundle(centre.bundle)

    assert "Form-45s: 3 imported, 0 already the same, 0 conflicting" in out
    assert "form versions: 1 imported" in out
    assert figures_of(contest) == centre.figures
    assert versions_of(contest) == centre.versions
    assert tally_of(contest) == centre.tally
    assert set(Form45.objects.values_list("source", flat=True)) == {Form45.Source.BUNDLE}
    form = Form45.objects.get(contest_station__number=1)
    assert form.decision_note.startswith("Imported from offline bundle") and "RO NA-46 laptop" in form.decision_note
    version = FormVersion.objects.get(contest=contest)
    for lang in ("en", "ur"):
        with getattr(version, f"pdf_{lang}").open("rb") as stream:
            assert hashlib.sha256(stream.read()).hexdigest() == getattr(version, f"pdf_{lang}_sha256")


def test_import_is_one_audit_event_with_counts_and_the_bundle_hash(centre):
    before = AuditEvent.objects.count()
    import_bundle(centre.bundle)
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "results.bundle_imported"
    assert event.actor_label == "command:import_results"
    assert event.data["sha256"] == hashlib.sha256(centre.bundle.read_bytes()).hexdigest()
    assert (event.data["forms_created"], event.data["versions_created"], event.data["conflicts"]) == (3, 1, [])
    assert event.data["created_stations"] == [1, 2, 3]
    assert event.data["signing_key_id"] == SigningKey.objects.get().pk


def test_a_second_import_changes_nothing_but_records_the_import(centre):
    import_bundle(centre.bundle)
    before = snapshot()
    out = import_bundle(centre.bundle)
    assert "Form-45s: 0 imported, 3 already the same, 0 conflicting" in out
    assert "form versions: 0 imported, 1 already the same, 0 conflicting" in out
    after = snapshot()
    assert after == {**before, "audit": before["audit"] + 1}
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.data["forms_unchanged"], event.data["forms_created"]) == (
        "results.bundle_imported",
        3,
        0,
    )


def test_forms_the_centre_already_has_with_the_same_figures_are_skipped(laptop):
    """The centre keyed station 1 itself with the same figures: the bundle adds 2 and 3 only."""
    register(laptop.public_key)
    forget_results(laptop.setup.contest)
    accept(laptop.setup, 1, STATION_FIGURES[1])
    out = import_bundle(laptop.bundle)
    assert "Form-45s: 2 imported, 1 already the same, 0 conflicting" in out
    assert Form45.objects.get(contest_station__number=1).source == Form45.Source.DOUBLE_ENTRY
    assert tally_of(laptop.setup.contest) == laptop.tally


def test_dry_run_reports_and_writes_nothing(centre):
    before = snapshot()
    out = import_bundle(centre.bundle, "--dry-run")
    assert "Nothing was written (--dry-run)" in out
    assert "Form-45s: 3 imported" in out
    assert snapshot() == before


def test_imported_forms_raise_the_same_station_flags(laptop):
    flags_on_laptop = sorted(Flag.objects.values_list("contest_station__number", "rule"))
    register(laptop.public_key)
    forget_results(laptop.setup.contest)
    import_bundle(laptop.bundle)
    assert sorted(Flag.objects.values_list("contest_station__number", "rule")) == flags_on_laptop


# --- import: conflicts ----------------------------------------------------------------------------------------


def test_a_conflicting_figure_is_reported_not_overwritten_and_the_rest_imports(centre):
    contest = centre.setup.contest
    # The centre accepted station 2 from its own double entry, with other figures.
    centre_figures = Figures(
        polled_male=450, polled_female=475, polled_total=925, excluded=5, votes={1: 410, 2: 410, 3: 100}
    )
    accept(centre.setup, 2, centre_figures)
    kept = figures_of(contest)[2]
    stdout = io.StringIO()
    with pytest.raises(CommandError, match="1 conflicts") as conflicted:
        call_command("import_results", str(centre.bundle), stdout=stdout, stderr=io.StringIO())
    assert conflicted.value.returncode == 2
    out = stdout.getvalue()
    assert "Form-45s: 2 imported, 0 already the same, 1 conflicting" in out
    assert "CONFLICT PS-2: The centre's accepted Form-45 has different figures (votes.1, votes.2); it was kept." in out

    figures = figures_of(contest)
    assert figures[2] == kept  # not overwritten
    assert figures[1] == centre.figures[1] and figures[3] == centre.figures[3]
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "results.bundle_imported"
    assert event.data["conflicts"] == [
        {
            "kind": "form45",
            "code": "figures_differ",
            "what": "PS-2",
            "message": "The centre's accepted Form-45 has different figures (votes.1, votes.2); it was kept.",
            "fields": ["votes.1", "votes.2"],
        }
    ]


def test_a_form_version_with_the_same_number_and_another_hash_is_a_conflict(centre):
    make_version(centre.setup.contest, marker="produced at the centre")
    with pytest.raises(CommandError, match="1 conflicts"):
        import_bundle(centre.bundle)
    (version,) = FormVersion.objects.filter(contest=centre.setup.contest)
    assert version.figures["marker"] == "produced at the centre"
    assert len(figures_of(centre.setup.contest)) == 3  # the Form-45s still came in


def test_a_final_contest_at_the_centre_takes_nothing(centre):
    Contest.objects.filter(pk=centre.setup.contest.pk).update(status=Contest.Status.FINAL)
    before = snapshot()
    stdout = io.StringIO()
    with pytest.raises(CommandError, match="4 conflicts"):
        call_command("import_results", str(centre.bundle), stdout=stdout, stderr=io.StringIO())
    assert "[contest_final]" in stdout.getvalue()
    after = snapshot()
    assert {**after, "audit": 0} == {**before, "audit": 0}  # only the import's own audit event
    assert after["audit"] == before["audit"] + 1


# --- import: refusals (nothing written, nothing audited) ------------------------------------------------------


def test_a_vote_changed_after_signing_is_refused(centre):
    document = json.loads(centre.bundle.read_bytes())
    document["payload"]["forms"][0]["votes"]["1"] += 1
    tampered = centre.bundle.with_name("tampered.json")
    tampered.write_bytes(json.dumps(document).encode())
    before = snapshot()
    import_refused(tampered, "bad_signature")
    assert snapshot() == before


def test_a_flipped_byte_anywhere_is_refused(centre):
    data = bytearray(centre.bundle.read_bytes())
    index = data.index(b'"polled_total":960') + len(b'"polled_total":9')
    data[index] = ord("7")  # 960 -> 970
    tampered = centre.bundle.with_name("flipped.json")
    tampered.write_bytes(bytes(data))
    before = snapshot()
    import_refused(tampered, "bad_signature")
    assert snapshot() == before


def test_a_file_that_is_not_a_bundle_is_refused(centre, tmp_path):
    path = tmp_path / "notes.json"
    path.write_text("{not json")
    import_refused(path, "bundle_unreadable")


def test_a_bundle_signed_with_an_unknown_key_is_refused(laptop):
    forget_results(laptop.setup.contest)  # no key registered at this centre
    before = snapshot()
    import_refused(laptop.bundle, "unknown_key")
    assert snapshot() == before


def test_a_bundle_signed_with_another_constituencys_key_is_refused(laptop):
    ConstituencyFactory(code="NA-47")
    register(laptop.public_key, constituency="NA-47", label="RO NA-47 laptop")
    forget_results(laptop.setup.contest)
    before = snapshot()
    stderr = import_refused(laptop.bundle, "key_wrong_constituency")
    assert stderr == ""
    assert snapshot() == before


def test_a_bundle_signed_with_a_deactivated_key_is_refused(centre):
    call_command("register_signing_key", "--deactivate", "--public-key", centre.public_key, stdout=io.StringIO())
    assert not SigningKey.objects.get().is_active
    before = snapshot()
    import_refused(centre.bundle, "key_inactive")
    assert snapshot() == before


def test_a_different_ballot_at_the_centre_is_refused(centre):
    Candidate.objects.create(contest=centre.setup.contest, ballot_order=4, name="Late Entry")
    before = snapshot()
    stderr = import_refused(centre.bundle, "bundle_mismatch")
    assert "ballot orders: the centre has 1, 2, 3, 4, the bundle 1, 2, 3" in stderr
    assert snapshot() == before


def test_a_different_station_list_at_the_centre_is_refused(centre):
    ContestStation.objects.filter(contest=centre.setup.contest, number=4).update(number=40)
    before = snapshot()
    stderr = import_refused(centre.bundle, "bundle_mismatch")
    assert "only at the centre 40; only in the bundle 4" in stderr
    assert snapshot() == before


def test_names_that_differ_only_warn_because_votes_go_by_ballot_order(centre):
    Candidate.objects.filter(contest=centre.setup.contest, ballot_order=2).update(name="Candidate Two")
    out = import_bundle(centre.bundle)
    assert 'note: Candidate 2 is "Candidate 2" in the bundle but "Candidate Two" at the centre' in out
    assert figures_of(centre.setup.contest) == centre.figures


def test_a_signed_form_that_breaks_a_form45_rule_refuses_the_whole_bundle(centre):
    def break_station_3(payload):
        payload["forms"][2]["polled_male"] = 10  # a female station with male votes, and the sum no longer adds up
        payload["forms"][1]["votes"]["1"] = 5000  # more votes than polled

    path = resign(centre, break_station_3)
    before = snapshot()
    stderr = import_refused(path, "form45_invalid")
    assert "PS-2:" in stderr and "PS-3:" in stderr
    assert snapshot() == before


def test_a_signed_but_malformed_bundle_is_refused_with_every_problem(centre):
    def damage(payload):
        del payload["stations"][0]["male_voters"]
        payload["forms"][0]["votes"]["9"] = 1
        payload["forms"][1]["polled_total"] = -1

    path = resign(centre, damage)
    stderr = import_refused(path, "bundle_malformed")
    assert "stations[0]: lacks male_voters" in stderr
    assert "forms[0].votes: '9' is not a ballot order of the bundle's candidates" in stderr
    assert "forms[1].polled_total: must be a whole number" in stderr
    assert not Form45.objects.exists()


def test_a_bundle_for_a_contest_the_centre_does_not_have_is_refused(laptop):
    register(laptop.public_key)
    path = resign(laptop, lambda payload: payload["election"].update(code="ge-2031"))
    import_refused(path, "contest_not_found")


def test_a_missing_bundle_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_results", str(tmp_path / "absent.json"))


# --- the services directly ------------------------------------------------------------------------------------


def test_bundle_read_needs_no_database_and_names_the_signer(laptop):
    bundle = offline.bundle_read(laptop.bundle.read_bytes())
    assert (bundle.election_code, bundle.constituency_code, bundle.public_key) == (
        "ge-2026",
        "NA-46",
        laptop.public_key,
    )
    assert [f.station for f in bundle.forms] == [1, 2, 3]
    assert bundle.forms[0].votes == {1: 500, 2: 300, 3: 150}


def test_signing_key_deactivate_refuses_an_unknown_or_inactive_key():
    ConstituencyFactory(code="NA-46")
    public_key = signing.public_key_b64(signing.generate_private_key())
    with pytest.raises(DomainError) as unknown:
        offline.signing_key_deactivate(actor=None, public_key=public_key)
    assert unknown.value.code == "unknown_key"
    offline.signing_key_register(actor=None, constituency_code="na-46", label="RO NA-46 laptop", public_key=public_key)
    offline.signing_key_deactivate(actor=None, public_key=public_key)
    with pytest.raises(ConflictError) as again:
        offline.signing_key_deactivate(actor=None, public_key=public_key)
    assert again.value.code == "key_inactive"
    assert Constituency.objects.get(code="NA-46") == SigningKey.objects.get().constituency


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_one_bundle_write_each_form_once(centre):
    import threading

    from django.db import connections

    data = centre.bundle.read_bytes()
    barrier = threading.Barrier(4)
    outcomes: list[tuple[int, int]] = []

    def run_import():
        try:
            barrier.wait()
            report = offline.bundle_import(actor=None, data=data)
            outcomes.append((report.forms_created, report.forms_unchanged))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run_import) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == [(0, 3), (0, 3), (0, 3), (3, 0)]
    assert figures_of(centre.setup.contest) == centre.figures
    assert FormVersion.objects.filter(contest=centre.setup.contest).count() == 1
    assert AuditEvent.objects.filter(action="results.bundle_imported").count() == 4
