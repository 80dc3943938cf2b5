"""Secure by default: an environment that says nothing gets DEBUG off and no secret anyone could know;
development values come only from `make run`/`make test`/.env.example."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {
    "DJANGO_SECRET_KEY": "a-deploy-secret-" + "x" * 50,
    "ALLOWED_HOSTS": "mentorship.example.com",
    "STRIPE_SECRET_KEY": "sk_test_deploy",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_deploy",
    "STRIPE_WEBHOOK_SECRET": "whsec_deploy",
    "CALENDAR_SECRET_KEYS": "nSyqi-_JPrEFIiC65bXZ7uT8NpRa2ed8fWzQyXY6q7k=",
}
# ...and what the test run itself sets (conftest allows the ORM under Playwright).
SETTINGS_VARIABLES = {"DEBUG", "STAFF_REQUIRE_MFA", "CACHE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", *REQUIRED}


def a_production_environment(**values) -> dict:
    """This process's environment without any of our settings (the test run sets DEBUG=true), plus values."""
    env = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
    return {**env, "DJANGO_SETTINGS_MODULE": "mentorship.settings", **values}


def settings_in_a_new_process(env: dict, expression: str) -> subprocess.CompletedProcess:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_debug_is_off_and_staff_need_a_second_factor_when_the_environment_says_nothing():
    done = settings_in_a_new_process(
        a_production_environment(**REQUIRED), "settings.DEBUG, settings.STAFF_REQUIRE_MFA, settings.SECRET_KEY"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", REQUIRED["DJANGO_SECRET_KEY"]]


@pytest.mark.parametrize(
    "missing", ["DJANGO_SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "CALENDAR_SECRET_KEYS"]
)
def test_without_a_secret_the_app_refuses_to_start(missing):
    env = a_production_environment(**{k: v for k, v in REQUIRED.items() if k != missing})
    done = settings_in_a_new_process(env, "settings.SECRET_KEY")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert f"{missing} must be set" in done.stderr


def test_development_values_are_used_only_when_debug_is_said():
    done = settings_in_a_new_process(
        a_production_environment(DEBUG="true"), "settings.DEBUG, settings.STAFF_REQUIRE_MFA"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]


def test_the_deployment_checks_pass_with_only_the_required_variables():
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=a_production_environment(**REQUIRED),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_default_cache_is_shared_between_processes_never_process_memory():
    done = settings_in_a_new_process(a_production_environment(**REQUIRED), "settings.CACHES['default']['BACKEND']")
    assert done.returncode == 0, done.stderr
    if os.environ.get("REDIS_URL"):
        assert "Redis" in done.stdout
    else:
        assert done.stdout.strip() == "django.core.cache.backends.filebased.FileBasedCache"


@pytest.mark.parametrize(
    ("redis_url", "broker", "expected"),
    [
        ("redis://cache.internal:6379/0", None, "redis://cache.internal:6379/1"),
        ("redis://cache.internal:6379/1", None, "redis://cache.internal:6379/0"),
        ("redis://:secret@cache.internal:6379", None, "redis://:secret@cache.internal:6379/1"),
        ("redis://cache.internal:6379/4", "redis://queue.internal:6379/0", "redis://queue.internal:6379/0"),
    ],
)
def test_the_broker_never_shares_the_caches_redis_database(redis_url, broker, expected):
    """The cache is cleared (deploys, tests) and evicted; a task in the same database would go with it."""
    env = a_production_environment(**REQUIRED, REDIS_URL=redis_url)
    env.pop("CELERY_BROKER_URL", None)
    if broker:
        env["CELERY_BROKER_URL"] = broker
    done = settings_in_a_new_process(env, "settings.CELERY_BROKER_URL, settings.CACHES['default']['LOCATION']")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [expected, redis_url]
