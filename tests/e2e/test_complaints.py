"""A complaint's whole journey in a real browser (Debian's Chromium): a citizen files it on a phone with a
picture and the code texted to the mobile; a desk officer of the District Election Commissioner's office takes it
and forwards it to another district; that office's desk resolves it; the citizen's tracking page shows each
office and desk it passed, the answer, and nothing internal."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from complaints.models import Category, Complaint, Desk
from core.models import OfficeKind, Role
from core.services import role_grant
from tests.factories import OfficeFactory, UserFactory
from tests.sms.conftest import fake_phone

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 900}
PASSWORD = "correct-horse-battery"
MOBILE = fake_phone(4321)


def _picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _officer(username: str, first: str, office, desk_name: str):
    user = UserFactory(username=username, first_name=first, last_name="Officer", is_demo_account=True, is_staff=True)
    role_grant(actor=None, user=user, role=Role.DESK_OFFICER, office=office)
    return user, Desk.objects.create(office=office, officer=user, name=desk_name)


def _sign_in(browser, live_server, user):
    context = browser.new_context(viewport=DESKTOP, reduced_motion="reduce")
    page = context.new_page()
    page.goto(f"{live_server.url}/staff/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form.signin__box button[type=submit]").click()
    page.wait_for_url(re.compile(r"/staff/$"))
    return context, page


def _open_ticket(page, live_server, ticket: str) -> None:
    page.goto(f"{live_server.url}/complaints/staff/?q={ticket}")
    page.get_by_role("link", name=ticket).click()
    expect(page.locator("h1")).to_contain_text(ticket)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_filed_forwarded_resolved_and_followed_desk_by_desk(browser, live_server, memory, settings):
    settings.OTP_DEMO_SKIP = True
    cec = OfficeFactory(code="e2e-cec", kind=OfficeKind.CEC, name="Chief Election Commissioner")
    rec = OfficeFactory(
        code="e2e-rec", kind=OfficeKind.REC, name="Regional Election Commissioner Rawalpindi", parent=cec
    )
    islamabad = OfficeFactory(
        code="e2e-dec-isb", kind=OfficeKind.DEC, name="District Election Commissioner Islamabad", parent=rec
    )
    rawalpindi = OfficeFactory(
        code="e2e-dec-rwp", kind=OfficeKind.DEC, name="District Election Commissioner Rawalpindi", parent=rec
    )
    Category.objects.create(code="polling-station", name="Polling station", name_ur="پولنگ اسٹیشن")
    first, first_desk = _officer("bilal", "Bilal", islamabad, "Complaints desk")
    second, second_desk = _officer("mansoor", "Mansoor", rawalpindi, "Roll desk")

    # The citizen files on a phone.
    citizen = browser.new_context(viewport=PHONE, reduced_motion="reduce")
    page = citizen.new_page()
    page.goto(f"{live_server.url}/complaints/")
    page.fill("#id_name", "Sana Javed")
    page.fill("#id_cnic", "35202-1234567-3")
    page.fill("#id_mobile", "0300" + MOBILE[-7:])
    page.select_option("#id_office", value=str(islamabad.pk))
    page.select_option("#id_category", label="Polling station")
    page.fill("#id_subject", "Polling station moved without notice")
    page.fill("#id_description", "The station of block 12 was moved to a school 6 km away.")
    page.set_input_files(
        "#id_attachments", files=[{"name": "notice.png", "mimeType": "image/png", "buffer": _picture()}]
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("form.cmp-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/complaints/verify/"))
    code = re.search(r"\b(\d{6})\b", memory.sent()[-1].body)[1]
    assert memory.sent()[-1].to == MOBILE
    page.fill("#id_code", code)
    page.locator("form.cmp-form--code button[type=submit]").click()
    page.wait_for_url(re.compile(r"/complaints/filed/"))
    ticket = page.locator(".cmp-ticket").inner_text().strip()
    complaint = Complaint.objects.get(ticket=ticket)
    assert complaint.attachments.count() == 1 and ticket in memory.sent()[-1].body

    # The Islamabad desk officer takes it to the desk, then forwards it to Rawalpindi.
    context, staff = _sign_in(browser, live_server, first)
    _open_ticket(staff, live_server, ticket)
    assign = staff.locator("form[action*='/assign/#']")
    assign.locator("select").select_option(str(first_desk.pk))
    assign.locator("button[type=submit]").click()
    expect(staff.locator(".message--success").first).to_be_visible()
    forward = staff.locator("form[action*='/forward/#']")
    forward.locator("select").select_option(str(rawalpindi.pk))
    forward.locator("textarea").fill("The school is in Rawalpindi district: for their roll desk.")
    forward.locator("button[type=submit]").click()
    staff.wait_for_load_state()
    complaint.refresh_from_db()
    assert complaint.office == rawalpindi and complaint.desk is None
    context.close()

    # Rawalpindi's officer finds it in the inbox, takes it and resolves it.
    context, staff = _sign_in(browser, live_server, second)
    staff.goto(f"{live_server.url}/complaints/staff/")
    expect(staff.locator("body")).to_contain_text(ticket)
    _open_ticket(staff, live_server, ticket)
    assign = staff.locator("form[action*='/assign/#']")
    assign.locator("select").select_option(str(second_desk.pk))
    assign.locator("button[type=submit]").click()
    resolve = staff.locator("form[action*='/resolve/#']")
    resolve.locator("textarea").fill("The station is back at the primary school of block 12.")
    resolve.locator("input[type=checkbox]").check()
    resolve.locator("button[type=submit]").click()
    staff.wait_for_load_state()
    assert Complaint.objects.get(pk=complaint.pk).status == "resolved"
    context.close()

    # The citizen follows it: every office and desk, the answer, nothing internal.
    page.goto(f"{live_server.url}/complaints/track/")
    page.fill("#id_ticket", ticket.lower().replace("-", " "))
    page.fill("#id_last4", MOBILE[-4:])
    page.locator("form.cmp-form--track button[type=submit]").click()
    stops = page.locator(".cmp-stop")
    expect(stops).to_have_count(4)
    expected = [
        ("District Election Commissioner Islamabad", None),
        ("District Election Commissioner Islamabad", "Complaints desk"),
        ("District Election Commissioner Rawalpindi", None),
        ("District Election Commissioner Rawalpindi", "Roll desk"),
    ]
    for index, (office, desk) in enumerate(expected):
        expect(stops.nth(index)).to_contain_text(office)
        if desk:
            expect(stops.nth(index)).to_contain_text(desk)
    body = page.locator("body")
    expect(body).to_contain_text("The station is back at the primary school of block 12.")
    for private in ("for their roll desk", "Bilal", "Mansoor"):
        expect(body).not_to_contain_text(private)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert "resolved" in memory.sent()[-1].body.lower() or ticket in memory.sent()[-1].body
    citizen.close()
