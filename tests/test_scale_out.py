"""More than one machine, for real: two gunicorn web processes, two Celery workers and two beats sharing
PostgreSQL, a Redis of the test's own (cache and broker) and a local S3 server (photos), as a deployment
across machines would share them. A person's requests alternate between the two web processes.

Runs on PostgreSQL (CI): SQLite's test database lives in this process's memory.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings import selectors
from bookings.models import Booking
from mentorship.models import OutboxEntry
from notifications.models import Notification
from payments import services as payment_services

from .brokers import PrivateRedis
from .conftest import skip_or_fail
from .factories import UserFactory, bookable_mentor
from .s3_server import LocalS3
from .stripe_server import free_port
from .test_profile import _image, _profile_form
from .test_secure_defaults import a_production_environment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # other processes' work, not moving time
        try:
            result = condition()
        except (requests.ConnectionError, OSError):
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"Timed out waiting for {what}")


class Deployment:
    """The processes of two machines, started from one environment; stopped, all of them, at the end."""

    def __init__(self, env: dict, logs: Path):
        self.env, self.logs, self.processes = env, logs, []

    def start(self, name: str, command: list[str], **extra_env) -> subprocess.Popen:
        with open(self.logs / f"{name}.log", "w") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**self.env, **extra_env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def web(self, name: str) -> str:
        port = free_port()
        command = [str(BIN / "gunicorn"), "mentorship.wsgi", "--config", "gunicorn.conf.py"]
        self.start(name, command, WEB_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1")
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: requests.get(f"{base}/healthz", timeout=2).ok, 60, f"{name} to listen")
        return base

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            self.stop(process)


def signed_in(user, base: str) -> requests.Session:
    """A browser signed in as `user` (the session lives in the shared database and cache)."""
    client = Client()
    client.force_login(user)
    browser = requests.Session()
    browser.cookies.set("sessionid", client.cookies["sessionid"].value)
    browser.cookies.set("csrftoken", "c" * 32)  # a form's token and cookie, as a page would have set them
    browser.headers["X-CSRFToken"] = "c" * 32
    return browser


@pytest.fixture
def deployment(stripe_server, tmp_path):
    if connection.vendor != "postgresql":
        skip_or_fail("Processes on other 'machines' need PostgreSQL: set DATABASE_URL=postgres://…")
    if not shutil.which("redis-server"):
        skip_or_fail("No redis-server found: install Debian's `redis-server` package for the scale-out test")
    redis, s3 = PrivateRedis().start(), LocalS3().start()
    database = connection.settings_dict
    env = a_production_environment(
        DEBUG="true",  # static files from the app's folders (no collectstatic here); all else as in production
        DJANGO_SECRET_KEY=settings.SECRET_KEY,  # the sessions this test signs in with are signed with it
        DATABASE_URL=f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        REDIS_URL=redis.url,  # the cache; the broker gets the paired database
        STRIPE_API_BASE=stripe_server.base,
        STRIPE_SECRET_KEY="sk_test_localstripe",
        EMAIL_URL="dummymail://",
        LOG_FORMAT="json",
        **s3.environment(),
    )
    env.pop("CELERY_BROKER_URL", None)
    running = Deployment(env, tmp_path)
    try:
        yield running, redis, s3
    finally:
        running.stop_all()
        redis.stop()
        s3.stop()


def test_two_machines_share_photos_bookings_jobs_and_one_beat(deployment, stripe_server):
    running, redis, s3 = deployment
    first, second = running.web("web-1"), running.web("web-2")
    for name in ("worker-1", "worker-2"):
        running.start(
            name,
            [str(BIN / "celery"), "-A", "mentorship", "worker", "--pool", "solo", "-n", f"{name}@%h", "-l", "INFO"],
        )
    beat = [
        str(BIN / "celery"),
        "-A",
        "mentorship",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
    ]  # each machine its own schedule file
    beat_1 = running.start("beat-1", [*beat, str(running.logs / "b1")])
    wait_for(lambda: "leads: it sends" in running.log("beat-1"), 60, "the first beat to lead")
    running.start("beat-2", [*beat, str(running.logs / "b2")])

    mentor, mentee = bookable_mentor(), UserFactory()
    as_mentor, as_mentee = signed_in(mentor.user, first), signed_in(mentee, first)

    # A photo uploaded through one machine is served through the other (from the bucket).
    photo = {"photo": ("me.jpg", _image("JPEG", (600, 600)), "image/jpeg")}
    uploaded = as_mentor.post(f"{first}{reverse('mentor_profile_edit')}", data=_profile_form(mentor), files=photo)
    assert uploaded.status_code == 200 and uploaded.history and uploaded.history[0].status_code == 302
    mentor.refresh_from_db()
    assert s3.object_names() == [mentor.photo.name]
    served = requests.get(f"{second}{mentor.photo_url}", timeout=10)
    assert served.history[0].status_code == 302 and served.url.startswith(s3.endpoint_url)
    assert served.headers["Content-Type"] == "image/jpeg" and served.content[:2] == b"\xff\xd8"

    # A booking made and paid on one machine is confirmed on the other; the workers tell the mentee once.
    intro = mentor.services.get(duration_minutes=30)
    start = selectors.open_slots(intro, start=timezone.now(), end=timezone.now() + timedelta(days=14))[0]
    chosen = {"service": intro.pk, "start": start.isoformat()}
    held = as_mentee.post(f"{first}{reverse('book', args=[mentor.pk])}", chosen, allow_redirects=False)
    booking = Booking.objects.get(mentee=mentee)
    assert held.status_code == 302 and held.headers["Location"] == reverse("checkout", args=[booking.pk])
    card = stripe_server.confirm_card_setup(payment_services.checkout_setup(booking_id=booking.pk, mentee=mentee))
    paid = as_mentee.post(f"{first}{reverse('checkout_pay', args=[booking.pk])}", {"payment_method": card})
    assert "Payment received. Your session is pending" in paid.text
    confirmed = as_mentor.post(f"{second}{reverse('booking_confirm', args=[booking.pk])}")
    assert confirmed.ok and Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    wait_for(lambda: not OutboxEntry.objects.exclude(status=OutboxEntry.Status.DONE).exists(), 60, "the workers")
    assert Notification.objects.filter(user=mentee, booking=booking, kind="booking_confirmed").count() == 1
    page = as_mentee.get(f"{second}{reverse('booking_detail', args=[booking.pk])}")
    assert page.ok and "Confirmed" in page.text

    # One beat sends; the second waits while the first holds the lead and takes over when it stops.
    wait_for(lambda: "waits: another beat leads" in running.log("beat-2"), 30, "the second beat to try")
    assert "leads: it sends" not in running.log("beat-2")
    running.stop(beat_1)
    wait_for(lambda: "leads: it sends" in running.log("beat-2"), 40, "the second beat to take over")

    # Readiness follows the shared Redis: down when it stops, ready again when it is back and beat ticked.
    assert wait_for(lambda: requests.get(f"{first}/readyz", timeout=10).ok, 30, "readiness")
    redis.stop()
    down = requests.get(f"{first}/readyz", timeout=10)
    checks = down.json()["checks"]
    assert down.status_code == 503 and checks["cache"].startswith("failing") and checks["broker"].startswith("failing")
    assert checks["database"] == "ok" and checks["media"] == "ok"
    redis.start()
    wait_for(lambda: requests.get(f"{second}/readyz", timeout=10).ok, 60, "readiness after Redis came back")
