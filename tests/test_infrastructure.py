"""The real components: the Celery broker and worker, the beat schedule, the database and cache in use."""

import os
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from bookings import selectors, services
from bookings.models import Booking
from mentorship.celery import app as celery_app

from .factories import UserFactory, bookable_mentor


def test_beat_schedules_the_hold_release_job_and_the_outbox_sweep_every_minute():
    celery_app.autodiscover_tasks(force=True)  # what a worker does at start
    for name in ("release-expired-holds", "sweep-outbox"):
        entry = celery_app.conf.beat_schedule[name]
        assert entry["task"] in celery_app.tasks
        assert entry["schedule"] <= timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_a_worker_releases_expired_holds_through_the_real_broker():
    if os.environ.get("REDIS_URL"):
        assert celery_app.conf.broker_url.startswith("redis://")
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(intro, start=now, end=now + timedelta(days=7))[0]
    booking = services.booking_hold(mentee=UserFactory(), service=intro, start=start)
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=now - timedelta(minutes=1))

    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
        celery_app.send_task("bookings.tasks.release_expired_holds")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # waiting on another thread's work, not moving time
            booking.refresh_from_db()
            if booking.status == Booking.Status.ABANDONED:
                break
            time.sleep(0.1)
    assert booking.status == Booking.Status.ABANDONED


@pytest.mark.django_db
def test_the_configured_database_and_cache_are_the_ones_in_use():
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert connection.vendor == "postgresql"
    cache.set("health", "ok", 5)
    assert cache.get("health") == "ok"


def test_every_beat_entry_names_a_job_a_worker_knows():
    celery_app.autodiscover_tasks(force=True)
    for name, entry in celery_app.conf.beat_schedule.items():
        assert entry["task"] in celery_app.tasks, name
