"""Nothing waits on the database for ever: a mentor's row held by a stuck transaction elsewhere makes "Book
session" answer "Busy right now, try again" within the lock timeout, and works once the lock is gone."""

from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from bookings import selectors
from bookings.models import Booking

from .factories import UserFactory, bookable_mentor

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="lock and statement timeouts are PostgreSQL's"),
]


def test_every_connection_gives_up_on_slow_statements_and_long_lock_waits():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        statement = cursor.fetchone()[0]
        cursor.execute("SHOW lock_timeout")
        lock = cursor.fetchone()[0]
    assert (statement, lock) == ("20s", "3s")


def test_a_stuck_lock_on_the_mentor_answers_busy_and_the_same_click_works_once_it_is_gone(client):
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(intro, start=now + timedelta(days=2), end=now + timedelta(days=9))[0]
    client.force_login(UserFactory())
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '300ms'")  # this test's connection serves the page: wait less
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as other:  # another process's transaction, stuck while holding the row
        other.execute("SELECT 1 FROM mentorship_mentorprofile WHERE id = %s FOR UPDATE", [mentor.pk])
        page = client.post(reverse("book", args=[mentor.pk]), {"service": intro.pk, "start": start.isoformat()})
        assert page.status_code == 503 and page["Retry-After"] == "5"
        assert "Busy right now" in page.content.decode()
        assert not Booking.objects.exists()
        other.rollback()
    page = client.post(reverse("book", args=[mentor.pk]), {"service": intro.pk, "start": start.isoformat()})
    assert page.status_code == 302 and Booking.objects.count() == 1
