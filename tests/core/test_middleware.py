import logging

import pytest

from core import audit
from core.middleware import RequestContextLogFilter
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_every_response_carries_a_request_id(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_sane_incoming_request_id_is_kept_and_a_hostile_one_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c21").headers["X-Request-ID"] == "lb-7f3a9c21"
    hostile = client.get("/healthz", HTTP_X_REQUEST_ID="x\r\nSet-Cookie: a=b").headers["X-Request-ID"]
    assert hostile != "x\r\nSet-Cookie: a=b" and len(hostile) == 32


def test_request_id_and_ip_reach_the_audit_trail(rf, client):
    from django.http import HttpResponse

    from core.middleware import RequestContextMiddleware

    def view(request):
        audit.record(action="demo.seeded")
        return HttpResponse("ok")

    request = rf.get("/", HTTP_X_REQUEST_ID="req-abcdef12", REMOTE_ADDR="203.0.113.9")
    RequestContextMiddleware(view)(request)
    event = AuditEvent.objects.get()
    assert (event.request_id, event.ip, event.actor_label) == ("req-abcdef12", "203.0.113.9", "web")


@pytest.mark.parametrize("shown", ["35202-1234567-1", "3520212345671", "35202 1234567 1"])
def test_logs_never_carry_a_cnic(shown):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "lookup for %s from %s", (shown, "+923331112233"), None)
    RequestContextLogFilter().filter(record)
    message = record.getMessage()
    assert "1234567" not in message and "[cnic]" in message
    assert "+923331112233" in message  # a phone number is not a CNIC


def test_a_csrf_failure_gets_the_sites_own_page():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/staff/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "The form has expired" in response.content.decode()
