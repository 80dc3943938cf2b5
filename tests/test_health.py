"""/healthz and /readyz for load balancers and orchestrators, and exactly one beat that can be seen to tick."""

import json
import shutil
import time
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from mentorship import beat
from mentorship.celery import app as celery_app

from .brokers import PrivateRedis, celery_broker
from .conftest import skip_or_fail
from .factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def answer(client, path):
    response = client.get(path)
    return response.status_code, json.loads(response.content)


def test_liveness_answers_whatever_the_host_and_over_plain_http(settings):
    settings.SECURE_SSL_REDIRECT = True  # a load balancer asks over HTTP, by the machine's address
    client = Client(HTTP_HOST="10.0.0.7:8000")
    for path in ("/healthz", "/healthz/"):
        assert answer(client, path) == (200, {"status": "ok"})
    assert client.get("/").status_code == 400  # any other page still refuses an unknown host


def test_readiness_needs_a_beat_that_ticked_within_three_minutes(client):
    status, body = answer(client, "/readyz")
    assert status == 503 and body["status"] == "unavailable"
    assert body["checks"]["beat"].startswith("failing")
    assert {name for name, result in body["checks"].items() if result == "ok"} == {
        "database", "cache", "broker", "media",
    }  # fmt: skip
    with time_machine.travel(time.time(), tick=False) as traveller:
        beat.ticked()
        assert answer(client, "/readyz") == (200, {"status": "ok", "checks": dict.fromkeys(body["checks"], "ok")})
        traveller.shift(timedelta(minutes=3, seconds=1))
        status, body = answer(client, "/readyz")
        assert status == 503 and body["checks"]["beat"].startswith("failing")


@pytest.fixture
def private_redis(settings):
    """Cache and broker on a Redis server of the test's own, which it can stop."""
    if not shutil.which("redis-server"):
        skip_or_fail("No redis-server found: install Debian's `redis-server` package for the readiness tests")
    server = PrivateRedis().start()
    redis = {
        "BACKEND": "mentorship.cache.ResilientRedisCache",
        "LOCATION": server.url,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    settings.CACHES = {"default": redis, "pages": {**redis, "KEY_PREFIX": "pages"}}
    old_options = celery_app.conf.broker_transport_options
    celery_app.conf.broker_transport_options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    with celery_broker(server.url):
        yield server
    celery_app.conf.broker_transport_options = old_options
    server.stop()


def test_readiness_fails_while_redis_is_down_and_recovers_when_it_is_back(client, private_redis):
    beat.ticked()
    assert answer(client, "/readyz")[0] == 200
    private_redis.stop()
    status, body = answer(client, "/readyz")
    assert status == 503
    assert body["checks"]["cache"].startswith("failing") and body["checks"]["broker"].startswith("failing")
    assert body["checks"]["database"] == "ok"
    assert "127.0.0.1" not in json.dumps(body)  # where things are goes to the log, not to whoever asks
    private_redis.start()
    beat.ticked()  # the running beat's next tick (the restarted Redis kept nothing)
    assert answer(client, "/readyz") == (200, {"status": "ok", "checks": dict.fromkeys(body["checks"], "ok")})


@pytest.fixture
def one_due_job(tmp_path):
    """A beat schedule of one job, every 30 s; two beats, each with its own schedule file (as on two machines)."""
    old = celery_app.conf.beat_schedule
    celery_app.conf.beat_schedule = {
        "sweep-outbox": {"task": "mentorship.tasks.sweep_outbox", "schedule": timedelta(seconds=30)}
    }
    beats = [beat.OneBeat(app=celery_app, schedule_filename=str(tmp_path / name)) for name in ("first", "second")]
    yield beats
    for scheduler in beats:
        scheduler.close()
    celery_app.conf.beat_schedule = old


def test_a_second_beat_sends_nothing_while_the_first_leads_and_takes_over_when_it_stops(private_redis, one_due_job):
    first, second = one_due_job
    with time_machine.travel(time.time() + 31, tick=False):  # the job is due
        assert first.tick() <= 30
        assert private_redis.queued() == 1
        assert second.tick() == beat.WAIT_SECONDS
        assert private_redis.queued() == 1  # not sent twice
        assert beat.status()["alive"]
        first.close()  # stopped cleanly: it lets go of the lead
        second.tick()
        assert private_redis.queued() == 2  # the second beat sends now
        assert first.tick() == beat.WAIT_SECONDS  # and the first, back, waits its turn


def test_staff_see_on_the_admin_front_page_whether_beat_ticks(settings):
    settings.STAFF_REQUIRE_MFA = False
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    with time_machine.travel(time.time(), tick=False) as traveller:
        page = client.get(reverse("admin:index")).content.decode()
        assert "Beat has not ticked" in page
        beat.ticked()
        traveller.shift(timedelta(seconds=42))
        assert "Beat is running: last tick 42 s ago." in client.get(reverse("admin:index")).content.decode()
        traveller.shift(timedelta(minutes=10))
        assert "Beat last ticked 642 s ago" in client.get(reverse("admin:index")).content.decode()
