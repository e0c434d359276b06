"""The OMR staff screens: who may open them (anonymous → sign-in, another staff role → 403, an OMR operator → the
page), setting up an exam with bad input, the key and candidates from CSV with their line errors, printing
(PDFs, a ZIP for several centres), a batch upload read eagerly, the overlay picture, review with and without a
reason, scoring, publishing and the merit list as HTML, CSV and PDF, the Urdu pages, and bounded query counts."""

from __future__ import annotations

import io
import subprocess
import tempfile
import zipfile
from datetime import date, datetime
from decimal import Decimal

import cv2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from core.models import Role, RoleAssignment
from omr import services, synth
from omr.models import (
    Batch,
    Correction,
    Exam,
    ExamCandidate,
    ExamStatus,
    KeyAnswer,
    MeritList,
    Result,
    Sheet,
    SheetStatus,
)
from tests.core.test_admin import verified_login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLLS = ("100001", "100002", "100003")


def staff_client(username: str, role: str | None) -> Client:
    user = UserFactory(username=username, is_staff=True)
    if role is not None:
        RoleAssignment.objects.create(user=user, role=role)
    client = Client()
    verified_login(client, user)
    client.user = user
    return client


@pytest.fixture
def operator():
    return staff_client("omr-operator", Role.OMR_OPERATOR)


@pytest.fixture
def exam(operator):
    exam = services.exam_create(
        actor=operator.user, code="clerk-2026", title="Clerk written test", title_ur="کلرک تحریری امتحان",
        held_on=date(2026, 11, 29), questions=20, roll_digits=6, marks_wrong=Decimal("0.25"),
        sections=[("Part A", 1, 10), ("Part B", 11, 20)],
    )  # fmt: skip
    key = "question,options\n" + "".join(f"{q},{'ABCD'[q % 4]}\n" for q in range(1, 21))
    services.key_import(actor=operator.user, exam=exam, text=key)
    people = (
        "roll,name,born,centre,buckets\n"
        '100001,=HYPERLINK("x"),2001-01-01,Islamabad,open\n'
        "100002,محمد علی,2002-01-01,Lahore,open;women\n"
        "100003,Candidate Three,2003-01-01,Lahore,\n"
    )
    services.candidates_import(actor=operator.user, exam=exam, text=people)
    return exam


def _png(exam, roll: str, seed: int, *, wrong: int = 0, **options) -> bytes:
    """A synthetic scan of a sheet filled for ``roll``: the key's answers, the first ``wrong`` of them wrong."""
    layout = exam.layout.layout
    answers = {q: ("ABCD"[(q + 1) % 4] if q <= wrong else "ABCD"[q % 4]) for q in range(1, 21)}
    truth = synth.Truth(roll=roll, answers=answers, sheet_id=f"S{seed:06d}")
    image, _truth = synth.make_sheet(layout, truth, 150, seed=seed, **options)
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


@pytest.fixture
def scanned(exam, operator, committed):
    """A batch of three sheets read eagerly: two registered rolls, one stranger (to review), and a text file."""
    files = [
        ("a.png", _png(exam, "100001", 1)),
        ("b.png", _png(exam, "100002", 2, wrong=3)),
        ("stranger.png", _png(exam, "999999", 3)),
        ("notes.txt", b"not a scan"),
    ]
    return committed(services.batch_upload, actor=operator.user, exam=exam, name="Hall 1", files=files)


def pdf_pages(data: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        info = subprocess.run(["pdfinfo", handle.name], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- who may open what ----------------------------------------------------------------------------------------


def _pages(exam, batch) -> list[str]:
    sheet = Sheet.objects.filter(batch=batch).exclude(image="").first()
    base = f"/omr/{exam.code}"
    return [
        "/omr/",
        "/omr/new/",
        f"{base}/",
        f"{base}/key-sample.csv",
        f"{base}/layout.pdf",
        f"{base}/print/?kind=blank&count=1",
        f"{base}/batches/",
        f"{base}/batches/{batch.pk}/",
        f"{base}/batches/{batch.pk}/progress.json",
        f"{base}/review/",
        f"{base}/sheets/{sheet.pk}/",
        f"{base}/sheets/{sheet.pk}/overlay.png",
        f"{base}/results/",
        f"{base}/score/",
        f"{base}/merit/",
    ]


def test_the_permission_matrix(exam, scanned, operator):
    other = staff_client("sms-officer", Role.SMS_OFFICER)
    for path in _pages(exam, scanned):
        anonymous = Client().get(path)
        assert anonymous.status_code == 302 and "/staff/login/" in anonymous["Location"], path
        denied = other.get(path)
        assert denied.status_code == 403 and b"OMR operators" in denied.content, path
        assert operator.get(path).status_code == 200, path
    # Writes too: nothing happens for the wrong role.
    assert other.post(f"/omr/{exam.code}/score/", {"confirm": "on"}).status_code == 403
    assert other.post("/omr/new/", {"code": "x"}).status_code == 403
    assert not Result.objects.exists() and Exam.objects.count() == 1


def test_an_administrator_may_open_the_screens(exam):
    admin = staff_client("boss", Role.ADMIN)
    assert admin.get(f"/omr/{exam.code}/").status_code == 200


# --- exams ----------------------------------------------------------------------------------------------------


def _exam_data(**changes) -> dict:
    data = {
        "code": "asst-2026", "title": "Assistant test", "title_ur": "", "held_on": "2026-12-01", "questions": "100",
        "options": "4", "roll_digits": "8", "series": ["A", "B"], "sections": "English,1,40\nGeneral,41,100",
        "marks_correct": "1", "marks_wrong": "0.25", "multiple": "wrong",
    }  # fmt: skip
    return {**data, **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"questions": "200"}, "questions"),
        ({"options": "5", "questions": "130"}, "questions"),
        ({"sections": "English,1,40\nGeneral,41,120"}, "sections"),
        ({"sections": "English;1;40"}, "sections"),
        ({"code": "not a slug!"}, "code"),
        ({"held_on": ""}, "held_on"),
        ({"marks_correct": "0"}, "marks_correct"),
    ],
)
def test_a_bad_exam_is_refused_beside_its_field_and_nothing_is_stored(operator, changes, field):
    response = operator.post("/omr/new/", _exam_data(**changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"'.encode() in response.content or field == "series"
    assert not Exam.objects.exists()


def test_overlapping_sections_are_refused_by_the_service_and_nothing_is_stored(operator):
    response = operator.post("/omr/new/", _exam_data(sections="English,1,40\nGeneral,30,100"))
    assert response.status_code == 400 and b"overlap" in response.content
    assert not Exam.objects.exists()


def test_an_exam_is_set_up_and_its_code_is_unique(operator):
    response = operator.post("/omr/new/", _exam_data())
    assert response.status_code == 302 and response["Location"] == "/omr/asst-2026/"
    exam = Exam.objects.get()
    assert exam.layout.layout.series == ("A", "B") and [s.name for s in exam.sections.all()] == ["English", "General"]
    again = operator.post("/omr/new/", _exam_data(title="Other"))
    assert again.status_code == 400 and "code" in again.context["form"].errors
    page = operator.get("/omr/asst-2026/")
    assert b"100 questions, 4 options each" in page.content and b"series,question,options,status" in page.content


def test_the_exam_list_searches_and_says_when_it_is_empty(operator, exam):
    assert b"clerk-2026" in operator.get("/omr/?q=clerk").content
    empty = operator.get("/omr/?q=zzz")
    assert b"No exam matches this search." in empty.content


# --- key and candidates ---------------------------------------------------------------------------------------


def test_a_bad_key_is_refused_with_its_line_numbers_and_the_old_key_stays(operator, exam):
    before = list(KeyAnswer.objects.values_list("question", "options"))
    text = "question,options\n1,A\n2,Z\n3,B\n99,C\n"
    upload = SimpleUploadedFile("key.csv", text.encode(), content_type="text/csv")
    response = operator.post(f"/omr/{exam.code}/key/", {"key-file": upload})
    assert response.status_code == 400
    html = response.content.decode()
    assert "line 3" in html and "line 5" in html and "Nothing was imported" in html
    assert list(KeyAnswer.objects.values_list("question", "options")) == before


def test_bad_candidates_are_refused_with_their_line_numbers(operator, exam):
    text = "roll,name\n100004,Four\n12,Short roll\n100005,\n"
    upload = SimpleUploadedFile("people.csv", text.encode(), content_type="text/csv")
    response = operator.post(f"/omr/{exam.code}/candidates/", {"candidates-file": upload})
    assert response.status_code == 400
    html = response.content.decode()
    assert "line 3" in html and "line 4" in html
    assert ExamCandidate.objects.filter(exam=exam).count() == 3


def test_a_file_without_the_columns_is_named(operator, exam):
    upload = SimpleUploadedFile("people.csv", b"who,what\n1,2\n", content_type="text/csv")
    response = operator.post(f"/omr/{exam.code}/candidates/", {"candidates-file": upload})
    assert response.status_code == 400 and b"has no column roll, name" in response.content


def test_good_candidates_are_imported(operator, exam):
    upload = SimpleUploadedFile("people.csv", b"roll,name,centre\n100004,Four,Quetta\n", content_type="text/csv")
    response = operator.post(f"/omr/{exam.code}/candidates/", {"candidates-file": upload})
    assert response.status_code == 302
    assert ExamCandidate.objects.get(roll="100004").centre == "Quetta"


# --- printing -------------------------------------------------------------------------------------------------


def test_blank_sheets_print_as_one_pdf(operator, exam):
    response = operator.get(f"/omr/{exam.code}/print/", {"kind": "blank", "count": "3"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    data = content(response)
    assert data.startswith(b"%PDF") and pdf_pages(data) == 3


def test_personalised_sheets_for_several_centres_come_as_a_zip_of_pdfs(operator, exam):
    response = operator.get(f"/omr/{exam.code}/print/", {"kind": "personal"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(content(response)))
    pdfs = {name: archive.read(name) for name in archive.namelist()}
    assert set(pdfs) == {"clerk-2026-islamabad.pdf", "clerk-2026-lahore.pdf"}
    assert pdf_pages(pdfs["clerk-2026-lahore.pdf"]) == 2 and pdf_pages(pdfs["clerk-2026-islamabad.pdf"]) == 1


def test_personalised_sheets_for_one_centre_are_one_pdf(operator, exam):
    ExamCandidate.objects.filter(exam=exam).update(centre="Lahore")
    response = operator.get(f"/omr/{exam.code}/print/", {"kind": "personal"})
    assert response["Content-Type"] == "application/pdf" and pdf_pages(content(response)) == 3


def test_print_asks_for_a_number_of_blank_sheets(operator, exam):
    response = operator.get(f"/omr/{exam.code}/print/", {"kind": "blank", "count": "0"})
    assert response.status_code == 400 and "count" in response.context["print_form"].errors


def test_the_layout_preview_is_one_page_shown_inline(operator, exam):
    response = operator.get(f"/omr/{exam.code}/layout.pdf")
    assert response["Content-Disposition"].startswith("inline") and pdf_pages(content(response)) == 1


# --- batches and review ---------------------------------------------------------------------------------------


def test_a_batch_upload_is_read_and_its_page_shows_the_counts(operator, exam, committed):
    files = [
        SimpleUploadedFile("a.png", _png(exam, "100001", 11), content_type="image/png"),
        SimpleUploadedFile("stranger.png", _png(exam, "999999", 12), content_type="image/png"),
        SimpleUploadedFile("notes.txt", b"not a scan", content_type="text/plain"),
    ]
    response = committed(operator.post, f"/omr/{exam.code}/batches/", {"name": "Hall 7", "files": files})
    batch = Batch.objects.get(name="Hall 7")
    assert response.status_code == 302 and response["Location"] == f"/omr/{exam.code}/batches/{batch.pk}/"
    page = operator.get(response["Location"])
    counts = {t["status"]: t["n"] for t in page.context["tiles"]}
    assert counts == {"read": 1, "review": 1, "refused": 1, "confirmed": 0, "queued": 0}
    html = page.content.decode()
    assert "data-job-progress" in html and "not a picture, PDF or ZIP file" in html and "Review next" in html
    progress = operator.get(f"/omr/{exam.code}/batches/{batch.pk}/progress.json").json()
    assert progress["finished"] and progress["counts"]["review"] == 1 and progress["done"] == 2
    filtered = operator.get(page.request["PATH_INFO"], {"status": "refused"})
    assert [s.source for s in filtered.context["rows"]] == ["notes.txt"]


def test_an_upload_without_files_or_name_is_refused(operator, exam):
    response = operator.post(f"/omr/{exam.code}/batches/", {"name": "Hall 8"})
    assert response.status_code == 400 and "files" in response.context["form"].errors
    response = operator.post(f"/omr/{exam.code}/batches/", {"name": " "})
    assert response.status_code == 400 and "name" in response.context["form"].errors
    assert not Batch.objects.exists()


def test_the_overlay_is_a_png(operator, exam, scanned):
    sheet = Sheet.objects.get(batch=scanned, source="b.png")
    response = operator.get(f"/omr/{exam.code}/sheets/{sheet.pk}/overlay.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG") and "no-store" in response["Cache-Control"]
    refused = Sheet.objects.get(batch=scanned, source="notes.txt")
    assert operator.get(f"/omr/{exam.code}/sheets/{refused.pk}/overlay.png").status_code == 404


def test_review_next_leads_to_the_oldest_sheet_to_review(operator, exam, scanned):
    stranger = Sheet.objects.get(batch=scanned, source="stranger.png")
    response = operator.get(f"/omr/{exam.code}/review/next/?batch={scanned.pk}")
    assert response["Location"] == f"/omr/{exam.code}/sheets/{stranger.pk}/"
    queue = operator.get(f"/omr/{exam.code}/review/")
    assert [s.pk for s in queue.context["rows"]] == [stranger.pk]
    assert "not a picture, PDF or ZIP file" in queue.content.decode()  # the refused file, with its reason


def test_a_correction_without_a_reason_changes_nothing(operator, exam, scanned):
    sheet = Sheet.objects.get(batch=scanned, source="stranger.png")
    page = operator.get(f"/omr/{exam.code}/sheets/{sheet.pk}/")
    assert page.status_code == 200 and b"roll not registered for this exam" in page.content
    response = operator.post(f"/omr/{exam.code}/sheets/{sheet.pk}/", {"roll": "100003", "reason": ""})
    assert response.status_code == 400 and "reason" in response.context["form"].errors
    sheet.refresh_from_db()
    assert (sheet.status, sheet.roll) == (SheetStatus.REVIEW, "999999") and not Correction.objects.exists()


def test_a_correction_with_a_reason_confirms_the_sheet_and_keeps_who_and_why(operator, exam, scanned):
    sheet = Sheet.objects.get(batch=scanned, source="stranger.png")
    form = operator.get(f"/omr/{exam.code}/sheets/{sheet.pk}/?all=1").context["form"]
    data = {name: value for name, value in form.initial.items() if name.startswith("q")}  # as read, as a browser sends
    assert len(data) == 20
    data.update(roll="100003", reason="Roll written in the boxes", q1=["A", "B"])
    response = operator.post(f"/omr/{exam.code}/sheets/{sheet.pk}/?all=1", data)
    assert response.status_code == 302
    sheet.refresh_from_db()
    assert (sheet.status, sheet.roll, sheet.candidate.roll) == (SheetStatus.CONFIRMED, "100003", "100003")
    corrections = {c.field: (c.before, c.after, c.reason, c.actor) for c in Correction.objects.filter(sheet=sheet)}
    assert corrections["roll"] == ("999999", "100003", "Roll written in the boxes", operator.user)
    assert corrections["q1"][1] == "AB"
    assert set(corrections) == {"roll", "q1"}  # the other questions shown were left as read
    page = operator.get(f"/omr/{exam.code}/sheets/{sheet.pk}/")
    assert b"Roll written in the boxes" in page.content


def test_an_unregistered_roll_is_refused_beside_the_field(operator, exam, scanned):
    sheet = Sheet.objects.get(batch=scanned, source="stranger.png")
    response = operator.post(f"/omr/{exam.code}/sheets/{sheet.pk}/", {"roll": "999998", "reason": "typo"})
    assert response.status_code == 400 and "roll" in response.context["form"].errors
    assert not Correction.objects.exists()


def test_a_refused_sheet_has_no_review_form(operator, exam, scanned):
    refused = Sheet.objects.get(batch=scanned, source="notes.txt")
    page = operator.get(f"/omr/{exam.code}/sheets/{refused.pk}/")
    assert page.context["form"] is None and b"cannot be confirmed" in page.content
    assert operator.post(f"/omr/{exam.code}/sheets/{refused.pk}/", {"roll": "100001"}).status_code == 302
    refused.refresh_from_db()
    assert refused.status == SheetStatus.REFUSED


# --- scores and the merit list --------------------------------------------------------------------------------


def test_score_publish_and_the_merit_list(operator, exam, scanned):
    response = operator.post(f"/omr/{exam.code}/score/", {"confirm": "True"})
    assert response.status_code == 302 and response["Location"] == f"/omr/{exam.code}/results/"
    results = operator.get(response["Location"])
    rows = results.context["rows"]
    assert [r["result"].candidate.roll for r in rows] == ["100001", "100002"]
    assert rows[0]["result"].total == Decimal("20.00") and rows[0]["sections"] == ["10.00", "10.00"]
    assert b"still waiting" in results.content  # the stranger's sheet is not reviewed
    # The policy first comes back for confirmation; nothing is published yet.
    policy = {"tie1": "section:Part B", "tie2": "older", "tie3": "", "quotas": "open,1"}
    confirm = operator.post(f"/omr/{exam.code}/publish/", policy)
    assert confirm.status_code == 200 and b"Publishing ends the exam" in confirm.content
    assert not MeritList.objects.exists()
    published = operator.post(f"/omr/{exam.code}/publish/", {**policy, "confirm": "on"})
    assert published.status_code == 302
    merit = MeritList.objects.get()
    assert merit.published_by == operator.user and merit.policy["tie_breaks"] == ["section:Part B", "older"]
    exam.refresh_from_db()
    assert exam.status == ExamStatus.PUBLISHED
    page = operator.get(f"/omr/{exam.code}/merit/")
    assert [r["entry"].result.candidate.roll for r in page.context["rows"]] == ["100001", "100002"]
    assert operator.get(f"/omr/{exam.code}/merit/?q=1000").context["rows"]
    assert [r["entry"].rank for r in operator.get(f"/omr/{exam.code}/merit/?q=100002").context["rows"]] == [2]
    # The trail: the entry's sheet page shows its marks question by question.
    sheet_page = operator.get(f"/omr/{exam.code}/sheets/{page.context['rows'][1]['entry'].result.sheet_id}/")
    marks = {row["q"]: row["marks"] for row in sheet_page.context["questions"]}
    assert Decimal(marks[1]) == Decimal("-0.25") and Decimal(marks[4]) == 1
    assert sheet_page.context["form"] is None  # published: sheets cannot change
    # CSV: formula cells neutralised.
    csv_text = content(operator.get(f"/omr/{exam.code}/merit/v1/merit.csv")).decode("utf-8-sig")
    lines = csv_text.splitlines()
    assert lines[0] == "rank,roll,name,total,Part A,Part B,selected_in"
    assert lines[1].startswith('1,100001,"\'=HYPERLINK(""x"")",20.00,10.00,10.00,open')
    assert lines[2].startswith("2,100002,محمد علی,")
    pdf = operator.get(f"/omr/{exam.code}/merit/v1/merit.pdf")
    data = content(pdf)
    assert pdf["Content-Type"] == "application/pdf" and data.startswith(b"%PDF") and pdf_pages(data) == 1
    # Published: scoring again is a conflict, shown on the page, not a 500.
    again = operator.post(f"/omr/{exam.code}/score/", {"confirm": "True"})
    assert again.status_code == 409 and b"published" in again.content


def test_publishing_a_bad_policy_is_refused_beside_the_field(operator, exam, scanned):
    operator.post(f"/omr/{exam.code}/score/", {"confirm": "True"})
    response = operator.post(
        f"/omr/{exam.code}/publish/", {"tie1": "older", "tie2": "older", "quotas": "open", "confirm": "on"}
    )
    assert response.status_code == 400
    errors = response.context["publish_form"].errors
    assert "tie2" in errors and "quotas" in errors
    carry = operator.post(f"/omr/{exam.code}/publish/", {"quotas": "open,1,women", "confirm": "on"})
    assert carry.status_code == 400 and b"not later" in carry.content
    assert not MeritList.objects.exists()


def test_scoring_without_confirmation_does_nothing(operator, exam, scanned):
    assert operator.post(f"/omr/{exam.code}/score/", {}).status_code == 400
    assert not Result.objects.exists()


# --- Urdu -----------------------------------------------------------------------------------------------------


def test_the_urdu_pages_render_right_to_left(operator, exam, scanned):
    for path in (f"/ur/omr/{exam.code}/", f"/ur/omr/{exam.code}/batches/{scanned.pk}/", "/ur/omr/"):
        response = operator.get(path)
        assert response.status_code == 200 and b'dir="rtl"' in response.content, path
    assert "کلرک تحریری امتحان" in operator.get(f"/ur/omr/{exam.code}/").content.decode()


# --- query counts ---------------------------------------------------------------------------------------------


def test_the_sheets_table_and_the_results_table_take_a_bounded_number_of_queries(
    operator, exam, django_assert_max_num_queries
):
    batch = Batch.objects.create(exam=exam, name="Bulk", created_by=operator.user)
    candidates = ExamCandidate.objects.bulk_create(
        ExamCandidate(exam=exam, roll=f"2{n:05d}", name=f"Person {n}") for n in range(60)
    )
    sheets = Sheet.objects.bulk_create(
        Sheet(batch=batch, source=f"s{n}.png", status=SheetStatus.READ, roll=c.roll, candidate=c,
              review_reasons=["x"], confidence=Decimal("0.9"))
        for n, c in enumerate(candidates)
    )  # fmt: skip
    now = timezone.make_aware(datetime(2026, 12, 1, 10))
    Result.objects.bulk_create(
        Result(exam=exam, candidate=c, sheet=s, total=Decimal(n), sections={"Part A": "1", "Part B": "2"},
               correct=1, wrong=0, blank=0, multiple=0, per_question={}, scored_at=now)
        for n, (c, s) in enumerate(zip(candidates, sheets, strict=True))
    )  # fmt: skip
    with django_assert_max_num_queries(20):
        page = operator.get(f"/omr/{exam.code}/batches/{batch.pk}/")
    assert len(page.context["rows"]) == 50
    with django_assert_max_num_queries(20):
        page = operator.get(f"/omr/{exam.code}/results/")
    assert len(page.context["rows"]) == 50 and page.context["rows"][0]["result"].total == 59
