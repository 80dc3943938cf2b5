"""Races for one time against PostgreSQL: exactly one mentee gets it, everyone else a clear message."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings import selectors
from bookings.models import Booking

from .conftest import skip_or_fail
from .factories import UserFactory, bookable_mentor

pytestmark = pytest.mark.django_db(transaction=True)
RACERS = 24


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        skip_or_fail("Races need PostgreSQL: set DATABASE_URL=postgres://…")


def race(posts: list[tuple[Client, str, dict]]) -> list:
    """Send every POST at the same moment, each from its own thread and database connection."""
    barrier = threading.Barrier(len(posts))
    responses = [None] * len(posts)

    def run(index, client, url, data):
        try:
            barrier.wait()
            responses[index] = client.post(url, data)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, *post)) for i, post in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def logged_in_client() -> Client:
    client = Client()
    client.force_login(UserFactory())
    return client


def outcome(responses):
    won = [r for r in responses if "/checkout/" in r.url]
    told = [r for r in responses if "/mentors/" in r.url]
    return won, told


def test_many_mentees_racing_for_one_slot(mentor_and_slot):
    mentor, service, start = mentor_and_slot
    url = reverse("book", args=[mentor.pk])
    posts = [(logged_in_client(), url, {"service": service.pk, "start": start.isoformat()}) for _ in range(RACERS)]
    responses = race(posts)
    assert all(r is not None and r.status_code == 302 for r in responses)
    won, told = outcome(responses)
    assert (len(won), len(told)) == (1, RACERS - 1)
    assert Booking.objects.filter(status=Booking.Status.HELD).count() == 1
    follow = posts[responses.index(told[0])][0].get(told[0].url)
    assert "This time was just taken — please pick another." in follow.content.decode()


def test_overlapping_times_of_different_services_race_too(mentor_and_slot):
    mentor, intro, start = mentor_and_slot
    deep_dive = mentor.services.get(duration_minutes=60)
    url = reverse("book", args=[mentor.pk])
    choices = [(intro, start), (deep_dive, start - timedelta(minutes=30)), (deep_dive, start)]
    posts = [
        (logged_in_client(), url, {"service": service.pk, "start": at.isoformat()})
        for i in range(RACERS)
        for service, at in [choices[i % len(choices)]]
    ]
    won, told = outcome(race(posts))
    assert (len(won), len(told)) == (1, RACERS - 1)
    held = Booking.objects.filter(status=Booking.Status.HELD)
    assert held.count() == 1


def test_the_database_refuses_overlap_even_without_the_lock(mentor_and_slot):
    mentor, service, start = mentor_and_slot
    mentee = UserFactory()
    fields = {
        "mentee": mentee,
        "mentor": mentor,
        "service": service,
        "end": start + timedelta(minutes=30),
        "price_cents": 4000,
        "currency": "usd",
        "status": Booking.Status.PENDING,
    }
    Booking.objects.create(start=start, blocked_start=start, blocked_end=start + timedelta(minutes=45), **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        later = start + timedelta(minutes=30)
        Booking.objects.create(start=later, blocked_start=later, blocked_end=later + timedelta(minutes=30), **fields)
    # Bookings that no longer take time do not count.
    Booking.objects.update(status=Booking.Status.DECLINED)
    Booking.objects.create(start=start, blocked_start=start, blocked_end=start + timedelta(minutes=30), **fields)


@pytest.fixture
def mentor_and_slot():
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    slots = selectors.open_slots(intro, start=now, end=now + timedelta(days=7))
    return mentor, intro, slots[2]
