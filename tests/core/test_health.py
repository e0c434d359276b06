import pytest

from ecp_portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthz_reports_each_service(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "cache": True,
        "broker": True,
    }
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.redis
def test_healthz_reaches_a_real_broker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = settings.CACHES["default"]["LOCATION"]
    try:
        body = client.get("/healthz").json()
    finally:
        celery_app.conf.broker_url = original
    assert body["checks"]["broker"] == {"ok": True, "mode": "broker", "ms": body["checks"]["broker"]["ms"]}


def test_healthz_is_503_when_the_broker_does_not_answer(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        celery_app.conf.broker_url = original
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
