"""The public site shell in a real browser (Debian's Chromium): English and
Urdu, the language switch, the accessibility toolbar and its persistence, the
phone menu with and without JavaScript, and the job progress fragment.

The module doubles as a URLconf (``urlpatterns`` below) for the progress test,
which needs a page that includes ``core/_progress.html``.
"""

from __future__ import annotations

import re

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django.test import Client
from django.urls import path
from django.utils import translation
from playwright.sync_api import expect

from core.models import Job
from core.models.jobs import JobStatus
from core.services_registry import services
from ecp_portal.urls import urlpatterns as project_urlpatterns
from tests.factories import UserFactory

A11Y_KEY = "ecp.a11y"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 768}


def _progress_page(request, job_id):
    job = get_object_or_404(Job, pk=job_id)
    template = engines["django"].from_string(
        '{% extends "base.html" %}{% block content %}{% include "core/_progress.html" with job=job %}{% endblock %}'
    )
    return HttpResponse(template.render({"job": job}, request))


def _boom(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [
    *project_urlpatterns,
    path("test-progress/<uuid:job_id>/", _progress_page),
    *i18n_patterns(path("test-boom/", _boom), prefix_default_language=False),
]
handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"


def _urdu(text: str) -> str:
    with translation.override("ur"):
        return translation.gettext(text)


def _watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def _html(page, attribute: str) -> str:
    return page.evaluate(f"document.documentElement.getAttribute('{attribute}')")


def _body_font_px(page) -> float:
    return float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))


def _html_classes(page) -> set[str]:
    return set(page.evaluate("[...document.documentElement.classList]"))


def _no_horizontal_scroll(page, width: int) -> None:
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= width, f"the page scrolls sideways: {scroll_width}px wide in a {width}px viewport"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_home_in_english_then_urdu_through_the_language_switch(page, live_server):
    errors = _watch_errors(page)
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/")

    assert _html(page, "lang") == "en"
    assert _html(page, "dir") == "ltr"
    expect(page.locator("h1")).to_have_text("Services for voters, candidates and citizens")
    listed = services()
    cards = page.locator(".cards .card")
    expect(cards).to_have_count(len(listed))
    coming_soon = [service for _, service in listed if not service.available]
    expect(page.locator(".card .badge--soon")).to_have_count(len(coming_soon))
    if coming_soon:
        with translation.override("en"):
            first_title = str(coming_soon[0].title)
        first = page.locator(".card", has_text=first_title)
        expect(first.locator(".badge--soon")).to_have_text("Coming soon")

    # The switch is a plain form: it lands on the same page in Urdu.
    page.locator("form.langswitch button").click()
    page.wait_for_url(re.compile(r"/ur/$"))
    assert _html(page, "lang") == "ur"
    assert _html(page, "dir") == "rtl"
    heading = _urdu("Services for voters, candidates and citizens")
    assert re.search(r"[\u0600-\u06FF]", heading), "the Urdu catalogue has no translation of the home heading"
    expect(page.locator("h1")).to_have_text(heading)
    expect(page.locator(".card .badge--soon").first).to_have_text(_urdu("Coming soon"))

    # Urdu is set in the vendored Nastaliq, and the font file really loaded.
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily").startswith('"ECP Nastaliq"')
    loaded = page.evaluate(
        "document.fonts.ready.then(() => [...document.fonts].some("
        "f => f.family.replace(/\"/g, '') === 'ECP Nastaliq' && f.status === 'loaded'))"
    )
    assert loaded, "NotoNastaliqUrdu was not loaded from static/fonts/"

    # From an inner page, back to English on the same page.
    page.goto(live_server.url + "/ur/evp/")
    page.locator("form.langswitch button").click()
    page.wait_for_url(re.compile(r"/evp/$"))
    assert not page.url.endswith("/ur/evp/")
    assert _html(page, "lang") == "en"
    assert errors == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_accessibility_choices_survive_page_and_language_changes_until_reset(page, live_server):
    errors = _watch_errors(page)
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/")
    normal_size = _body_font_px(page)

    toolbar = page.locator("[data-a11y]")
    toolbar.locator("summary").click()
    bigger = toolbar.locator("[data-a11y-step='1']")
    bigger.click()
    bigger.click()
    assert _body_font_px(page) > normal_size
    expect(toolbar.locator("[data-a11y-size]")).to_have_text("120%")

    contrast = toolbar.locator("[data-a11y-toggle='contrast']")
    contrast.click()
    expect(contrast).to_have_attribute("aria-pressed", "true")
    assert "a11y-contrast" in _html_classes(page)

    underline = toolbar.locator("[data-a11y-toggle='underline']")
    underline.click()
    assert "a11y-underline" in _html_classes(page)
    nav_link = page.locator(".mainnav__list a").nth(1)
    assert "underline" in nav_link.evaluate("a => getComputedStyle(a).textDecorationLine")

    # Colour schemes exclude each other.
    toolbar.locator("[data-a11y-toggle='negative']").click()
    assert {"a11y-negative", "a11y-underline"} <= _html_classes(page)
    assert "a11y-contrast" not in _html_classes(page)
    contrast.click()
    assert "a11y-negative" not in _html_classes(page)

    # Another page: the choices are back before anything is drawn.
    page.locator(".mainnav__list a", has_text="Results").click()
    page.wait_for_url(re.compile(r"/results/(live/)?$"))  # no election yet: the page about the results
    assert {"a11y-contrast", "a11y-underline", "a11y-scaled"} <= _html_classes(page)
    assert _body_font_px(page) == pytest.approx(normal_size * 1.2)
    page.locator("[data-a11y] summary").click()
    expect(page.locator("[data-a11y-toggle='contrast']")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-a11y-toggle='grayscale']")).to_have_attribute("aria-pressed", "false")

    # And in the other language.
    page.locator("form.langswitch button").click()
    page.wait_for_url(re.compile(r"/ur/results/(live/)?$"))
    assert {"a11y-contrast", "a11y-underline"} <= _html_classes(page)
    urdu_scaled = _body_font_px(page)

    # Keyboard: open the toolbar, reach Reset, press it, close with Escape.
    summary = page.locator("[data-a11y] summary")
    summary.focus()
    page.keyboard.press("Enter")
    reset = page.locator("[data-a11y-reset]")
    expect(reset).to_be_visible()
    reset.focus()
    page.keyboard.press("Enter")
    assert not {c for c in _html_classes(page) if c.startswith("a11y-")}
    assert _body_font_px(page) < urdu_scaled
    assert page.evaluate(f"localStorage.getItem('{A11Y_KEY}')") is None
    page.keyboard.press("Escape")
    expect(reset).to_be_hidden()

    page.goto(live_server.url + "/")
    assert not {c for c in _html_classes(page) if c.startswith("a11y-")}
    assert _body_font_px(page) == pytest.approx(normal_size)
    assert errors == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("prefix", ["", "/ur"])
def test_phone_menu_opens_and_nothing_scrolls_sideways(page, live_server, prefix):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + prefix + "/")
    _no_horizontal_scroll(page, PHONE["width"])

    results_link = page.locator(".mainnav__list a[href$='/results/']")
    expect(results_link).to_be_hidden()
    page.locator(".mainnav__toggle").click()
    expect(results_link).to_be_visible()
    expect(page.locator(".mainnav__signin")).to_be_visible()
    _no_horizontal_scroll(page, PHONE["width"])

    # The largest text size still fits the phone.
    page.evaluate(f"localStorage.setItem('{A11Y_KEY}', JSON.stringify({{scale: 160}}))")
    page.goto(live_server.url + prefix + "/complaints/")
    assert "a11y-scaled" in _html_classes(page)
    _no_horizontal_scroll(page, PHONE["width"])


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_menu_and_language_switch_work_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/complaints/")
        assert "no-js" in _html_classes(page)
        expect(page.locator("[data-a11y]")).to_be_hidden()  # its buttons need JavaScript
        results_link = page.locator(".mainnav__list a[href$='/results/']")
        expect(results_link).to_be_hidden()
        page.locator(".mainnav__toggle").click()
        expect(results_link).to_be_visible()

        page.locator("form.langswitch button").click()
        page.wait_for_url(re.compile(r"/ur/complaints/$"))
        assert _html(page, "dir") == "rtl"

        # On a wide screen the menu is simply there.
        page.set_viewport_size(DESKTOP)
        expect(page.locator(".mainnav__toggle")).to_be_hidden()
        expect(page.locator(".mainnav__list a[href$='/ur/results/']")).to_be_visible()
    finally:
        context.close()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_progress_fragment_follows_the_job_until_it_finishes(page, live_server, settings):
    settings.ROOT_URLCONF = __name__
    user = UserFactory()
    job = Job.objects.create(kind="test", title="Import of the polling scheme", total=10, done=3, created_by=user)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    page.context.add_cookies([{"name": "sessionid", "value": session.session_key, "url": live_server.url}])

    errors = _watch_errors(page)
    page.goto(f"{live_server.url}/test-progress/{job.pk}/")
    block = page.locator("[data-job-progress]")
    expect(block.locator("progress")).to_have_attribute("value", "30")
    expect(block.locator("[data-field='figures']")).to_have_text("3 of 10 done")
    expect(block.locator("[data-field='status']")).to_have_text("Running")

    Job.objects.filter(pk=job.pk).update(
        done=10,
        status=JobStatus.SUCCEEDED,
        message="10 polling stations imported.",
        error_count=1,
        errors=[{"line": 7, "message": "Duplicate station number."}],
    )
    expect(block.locator("[data-field='status']")).to_have_text("Finished", timeout=10_000)
    expect(block.locator("progress")).to_have_js_property("value", 100)
    expect(block.locator("[data-field='figures']")).to_have_text("10 of 10 done")
    expect(block.locator("[data-field='message']")).to_have_text(re.compile("10 polling stations imported."))
    expect(block.locator("[data-field='errors'] li")).to_have_text(["Line 7: Duplicate station number."])
    expect(block).to_have_attribute("data-finished", "true")
    assert errors == []


@pytest.mark.django_db
def test_error_pages_are_friendly_and_translated(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()

    response = client.get("/ur/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert 'dir="rtl"' in body
    assert _urdu("Page not found") in body


@pytest.mark.parametrize(("prefix", "direction"), [("", "ltr"), ("/ur", "rtl")])
def test_500_page_renders_without_the_database(settings, prefix, direction):
    # No django_db mark: a query or a session read while rendering would fail this test.
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get(prefix + "/test-boom/")
    body = response.content.decode()
    assert response.status_code == 500
    assert f'dir="{direction}"' in body
    expected = _urdu("Something went wrong") if prefix else "Something went wrong"
    assert expected in body
