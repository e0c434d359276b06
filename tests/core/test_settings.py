"""Settings come from the environment; production refuses unsafe configuration.

Each case starts a fresh interpreter, because settings are read once per process."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "portal.ecp.example",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/ecp_settings_check",
    "REDIS_URL": "redis://127.0.0.1:6379/13",
}
_CLEARED = (
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_ENV",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DEBUG",
    "CELERY_TASK_ALWAYS_EAGER",
)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def show(*names: str, **env: str) -> dict[str, str]:
    code = "from django.conf import settings as s; " + "; ".join(f"print(repr(s.{n}))" for n in names)
    result = manage("shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return dict(zip(names, result.stdout.strip().splitlines()[-len(names) :], strict=True))


def test_with_no_environment_it_runs_on_the_embedded_default():
    values = show("DEBUG", "CELERY_TASK_ALWAYS_EAGER", "TIME_ZONE", "SMS_PROVIDER", "USING_POSTGRES")
    assert values == {
        "DEBUG": "True",
        "CELERY_TASK_ALWAYS_EAGER": "True",
        "TIME_ZONE": "'Asia/Karachi'",
        "SMS_PROVIDER": "'console'",
        "USING_POSTGRES": "False",
    }
    engine = show("DATABASES")["DATABASES"]
    assert "sqlite3" in engine


def test_environment_switches_to_postgres_and_redis():
    values = show(
        "USING_POSTGRES",
        "CELERY_TASK_ALWAYS_EAGER",
        "CELERY_BROKER_URL",
        DATABASE_URL=GOOD["DATABASE_URL"],
        REDIS_URL=GOOD["REDIS_URL"],
    )
    assert values["USING_POSTGRES"] == "True"
    assert values["CELERY_TASK_ALWAYS_EAGER"] == "False"
    assert values["CELERY_BROKER_URL"] == repr(GOOD["REDIS_URL"])


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "dev-insecure-" + "x" * 60}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"DATABASE_URL": "sqlite:////tmp/prod.sqlite3"}, "PostgreSQL"),
        ({"DEBUG": "true"}, "DEBUG"),
    ],
)
def test_production_refuses_unsafe_configuration(override, complaint):
    result = manage("check", **{**GOOD, **override})
    assert result.returncode != 0
    assert "Refusing to start in production" in result.stderr and complaint in result.stderr


def test_production_with_proper_environment_passes_check_deploy_without_a_warning():
    result = manage("check", "--deploy", **GOOD)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_demo_accounts_can_never_skip_the_second_factor_in_production():
    assert show("OTP_DEMO_SKIP", **GOOD)["OTP_DEMO_SKIP"] == "False"
    assert show("OTP_DEMO_SKIP")["OTP_DEMO_SKIP"] == "True"
