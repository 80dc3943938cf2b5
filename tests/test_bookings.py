"""Booking transitions through the real services: guards, audit rows, hold expiry and slot pages."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bookings import selectors, services
from bookings.models import Booking, BookingEvent
from mentorship.services import availability_changed

from .factories import UserFactory, bookable_mentor

pytestmark = pytest.mark.django_db


def first_open_slot(service):
    """The first free time of a whole day, the day after tomorrow: far enough that moving the clock a little
    keeps it bookable, and with the rest of that day's hours after it whatever the hour the tests run."""
    day = (timezone.now() + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    return selectors.open_slots(service, start=day, end=day + timedelta(days=7))[0]


@pytest.fixture
def mentor():
    return bookable_mentor()


@pytest.fixture
def intro(mentor):
    return mentor.services.get(duration_minutes=30)


def test_a_hold_takes_the_slot_and_a_second_hold_is_told_it_is_taken(mentor, intro):
    start = first_open_slot(intro)
    booking = services.booking_hold(mentee=UserFactory(), service=intro, start=start, message=" Help with my CV ")
    assert booking.status == Booking.Status.HELD and booking.message == "Help with my CV"
    assert booking.end - booking.start == timedelta(minutes=30)
    assert start not in selectors.open_slots(intro, start=start, end=start + timedelta(hours=1))

    with pytest.raises(services.BookingError, match="just taken"):
        services.booking_hold(mentee=UserFactory(), service=intro, start=start)
    # The 60-minute service overlaps it too: the mentor's time is one calendar.
    deep_dive = mentor.services.get(duration_minutes=60)
    with pytest.raises(services.BookingError, match="just taken"):
        services.booking_hold(mentee=UserFactory(), service=deep_dive, start=start - timedelta(minutes=30))
    assert Booking.objects.count() == 1


def test_a_time_outside_the_mentors_hours_cannot_be_held(intro):
    start = first_open_slot(intro).replace(minute=10)
    with pytest.raises(services.BookingError):
        services.booking_hold(mentee=UserFactory(), service=intro, start=start)
    assert not Booking.objects.exists()


def test_expired_holds_are_released_once_and_free_the_slot(intro):
    start = first_open_slot(intro)
    booking = services.booking_hold(mentee=UserFactory(), service=intro, start=start)
    assert services.release_expired_holds() == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert services.release_expired_holds() == 1
        assert services.release_expired_holds() == 0
        booking.refresh_from_db()
        assert booking.status == Booking.Status.ABANDONED
        assert start in selectors.open_slots(intro, start=start, end=start + timedelta(minutes=1))
    assert list(booking.events.values_list("to_status", flat=True)) == ["held", "abandoned"]


def test_only_the_mentor_confirms_and_a_second_click_changes_nothing(mentor, intro):
    booking = services.booking_hold(mentee=UserFactory(), service=intro, start=first_open_slot(intro))
    services.booking_mark_paid(booking.pk)
    with pytest.raises(services.BookingError, match="Only the mentor"):
        services.booking_confirm(booking.pk, actor=booking.mentee)
    services.booking_confirm(booking.pk, actor=mentor.user)
    with pytest.raises(services.BookingError, match="confirmed now"):
        services.booking_confirm(booking.pk, actor=mentor.user)
    assert BookingEvent.objects.filter(booking=booking, to_status="confirmed").count() == 1


def test_complete_only_after_the_session_ends(mentor, intro):
    booking = services.booking_hold(mentee=UserFactory(), service=intro, start=first_open_slot(intro))
    services.booking_mark_paid(booking.pk)
    services.booking_confirm(booking.pk, actor=mentor.user)
    with pytest.raises(services.BookingError, match="once it has ended"):
        services.booking_complete(booking.pk, actor=mentor.user)
    services.booking_complete(booking.pk, actor=mentor.user, now=booking.end)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.COMPLETED


def test_another_users_booking_page_is_not_found(client, intro):
    booking = services.booking_hold(mentee=UserFactory(), service=intro, start=first_open_slot(intro))
    client.force_login(UserFactory())
    assert client.get(reverse("booking_detail", args=[booking.pk])).status_code == 404
    assert client.post(reverse("booking_confirm", args=[booking.pk])).status_code == 404
    client.force_login(booking.mentee)  # a party is told why
    response = client.post(reverse("booking_confirm", args=[booking.pk]), follow=True)
    assert "Only the mentor" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD


def test_profile_names_the_zone_and_costs_the_same_queries_with_1_or_500_bookings(client, mentor, intro):
    client.force_login(UserFactory(time_zone="Asia/Kolkata"))
    url = reverse("mentor_profile", args=[mentor.pk])
    held = services.booking_hold(mentee=UserFactory(), service=intro, start=first_open_slot(intro))
    with CaptureQueriesContext(connection) as one_booking:
        response = client.get(url)
    assert "Kolkata (IST, UTC+5:30), yours" in response.content.decode()

    mentee = UserFactory()
    # After the hold, whatever the hour the test runs at (PostgreSQL refuses overlapping bookings).
    base = held.blocked_end.replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    Booking.objects.bulk_create(
        Booking(
            mentee=mentee,
            mentor=mentor,
            service=intro,
            start=base + timedelta(hours=hour),
            end=base + timedelta(hours=hour, minutes=30),
            blocked_start=base + timedelta(hours=hour),
            blocked_end=base + timedelta(hours=hour, minutes=30),
            status=Booking.Status.CONFIRMED,
            price_cents=4000,
            currency="usd",
        )
        for hour in range(499)
    )
    availability_changed(mentor.pk)  # what the booking services do: the cached slots of before are not read
    with CaptureQueriesContext(connection) as many_bookings:
        client.get(url)
    assert (
        len(many_bookings) == len(one_booking) <= 16
    )  # incl. session, nav counts, rating, reviews, packages, response time, the availability version


def test_bad_slot_input_gets_a_message_and_books_nothing(client, mentor, intro):
    client.force_login(UserFactory())
    response = client.post(reverse("book", args=[mentor.pk]), {"service": intro.pk, "start": "not-a-time"}, follow=True)
    assert "Pick a time from the calendar." in response.content.decode()
    assert not Booking.objects.exists()


def test_booking_the_same_time_twice_returns_the_same_checkout(intro):
    mentee = UserFactory()
    start = first_open_slot(intro)
    first = services.booking_hold(mentee=mentee, service=intro, start=start)
    assert services.booking_hold(mentee=mentee, service=intro, start=start) == first
    # Picking another time lets the first one go: one checkout at a time.
    other = services.booking_hold(mentee=mentee, service=intro, start=start + timedelta(minutes=30))
    first.refresh_from_db()
    assert (first.status, other.status) == (Booking.Status.ABANDONED, Booking.Status.HELD)


def test_a_request_cannot_be_confirmed_after_its_start(mentor, intro):
    booking = services.booking_hold(mentee=UserFactory(), service=intro, start=first_open_slot(intro))
    services.booking_mark_paid(booking.pk)
    with pytest.raises(services.BookingError, match="start time has passed"):
        services.booking_confirm(booking.pk, actor=mentor.user, now=booking.start)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING


@pytest.mark.parametrize("start", ["0001-01-01T00:30+01:00", "2026-12-01T10:00", "tomorrow"])
def test_tampered_times_get_a_message_and_book_nothing(client, mentor, intro, start):
    client.force_login(UserFactory())
    response = client.post(reverse("book", args=[mentor.pk]), {"service": intro.pk, "start": start}, follow=True)
    assert "Pick a time from the calendar." in response.content.decode()
    assert not Booking.objects.exists()


def test_a_tampered_service_value_is_refused_cleanly(client, mentor):
    client.force_login(UserFactory())
    response = client.post(reverse("book", args=[mentor.pk]), {"service": "1\r\nX: y", "start": "x"}, follow=True)
    assert response.status_code == 200
    assert "That session type is not available." in response.content.decode()


def test_a_services_own_buffers_keep_the_time_around_its_bookings_free(mentor):
    deep_dive = mentor.services.get(duration_minutes=60)
    deep_dive.buffer_after_minutes = 30
    deep_dive.save()
    intro = mentor.services.get(duration_minutes=30)
    # The first time of a whole day, so the hours after it are open whatever the clock says now.
    day = (timezone.now() + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    start = selectors.open_slots(deep_dive, start=day, end=day + timedelta(days=1))[0]
    booking = services.booking_hold(mentee=UserFactory(), service=deep_dive, start=start)
    assert (booking.blocked_start, booking.blocked_end) == (start, start + timedelta(minutes=90))
    later = selectors.open_slots(intro, start=start, end=start + timedelta(hours=3))
    assert start + timedelta(minutes=60) not in later  # inside the 30-minute buffer
    assert start + timedelta(minutes=90) in later


def test_notice_and_horizon_come_from_the_mentors_rules(mentor, intro):
    now = timezone.now()
    mentor.minimum_notice_hours, mentor.booking_horizon_days = 48, 5
    mentor.save()
    slots = selectors.open_slots(intro, start=now, end=now + timedelta(days=30))
    assert slots and min(slots) >= now + timedelta(hours=48)
    assert max(slots) < now + timedelta(days=5)


def test_policies_show_on_the_profile_and_are_kept_on_the_booking_as_agreed(client, mentor, intro, stripe_server):
    mentor.cancellation_window_hours, mentor.no_show_policy = 72, "No refund if you miss it."
    mentor.save()
    page = client.get(reverse("mentor_profile", args=[mentor.pk])).content.decode()
    assert "Cancel more than 72 hours before the start" in page and "No refund if you miss it." in page
    booking = services.booking_hold(mentee=UserFactory(), service=intro, start=first_open_slot(intro))
    mentor.cancellation_window_hours = 1
    mentor.save()
    booking.refresh_from_db()
    assert (booking.cancellation_window_hours, booking.no_show_policy) == (72, "No refund if you miss it.")
    client.force_login(booking.mentee)
    assert "Cancel more than 72 hours" in client.get(reverse("checkout", args=[booking.pk])).content.decode()
