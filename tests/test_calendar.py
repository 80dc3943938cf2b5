"""Calendar invites: parsed back with icalendar, stable UID, SEQUENCE that rises, UTC times across DST."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from bookings import selectors, services
from notifications import calendar

from .factories import UserFactory, bookable_mentor
from .test_lifecycle import booked

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]


def parse(ics: bytes):
    cal = Calendar.from_ical(ics)
    (event,) = cal.walk("VEVENT")
    return cal, event


def test_the_invite_round_trips_and_follows_the_booking(stripe_server):
    mentor = bookable_mentor(user__display_name="Maya Mentor")
    booking = booked(mentor, stripe_server)
    cal, event = parse(calendar.booking_ics(booking))
    assert (str(cal["method"]), str(event["status"])) == ("REQUEST", "CONFIRMED")
    assert event.decoded("dtstart") == booking.start and event.decoded("dtend") == booking.end
    assert str(event["summary"]) == "30-min intro with Maya Mentor"
    assert str(event["organizer"]) == f"mailto:{mentor.user.email}"
    first_uid, first_sequence = str(event["uid"]), int(event["sequence"])

    later = selectors.open_slots(
        booking.service, start=booking.start + timedelta(hours=2), end=booking.start + timedelta(days=1)
    )
    services.booking_reschedule(booking.pk, actor=booking.mentee, new_start=later[0])
    booking.refresh_from_db()
    _, moved = parse(calendar.booking_ics(booking))
    assert str(moved["uid"]) == first_uid and int(moved["sequence"]) == first_sequence + 1
    assert moved.decoded("dtstart") == later[0]
    invite = next(m for m in mail.outbox if "moved" in m.subject and m.to == [booking.mentee.email])
    ((name, content, mimetype),) = invite.attachments
    assert name.endswith(".ics") and parse(content)[1].decoded("dtstart") == later[0]

    services.booking_cancel(booking.pk, actor=booking.mentee)
    booking.refresh_from_db()
    cal, cancelled = parse(calendar.booking_ics(booking))
    assert (str(cal["method"]), str(cancelled["status"])) == ("CANCEL", "CANCELLED")
    assert int(cancelled["sequence"]) == first_sequence + 2


def test_times_stay_right_across_a_dst_change(stripe_server):
    mentor = bookable_mentor()  # New York, 09:00–17:00
    zone = ZoneInfo("America/New_York")
    # Sessions on both sides of the 1 November 2026 change, at 09:00 New York time.
    for day in (datetime(2026, 10, 30, 9, tzinfo=zone), datetime(2026, 11, 2, 9, tzinfo=zone)):
        booking = mentor.bookings.model(
            mentor=mentor,
            mentee=UserFactory(),
            service=mentor.services.first(),
            start=day,
            end=day + timedelta(minutes=30),
            blocked_start=day,
            blocked_end=day + timedelta(minutes=30),
            status="confirmed",
            price_cents=4000,
            currency="usd",
        )
        booking.save()
        _, event = parse(calendar.booking_ics(booking))
        start = event.decoded("dtstart")
        assert start.tzinfo is not None and start.astimezone(zone).hour == 9
        assert start.astimezone(UTC).hour == (13 if day.month == 10 else 14)


def test_only_the_parties_download_the_ics(client, stripe_server):
    booking = booked(bookable_mentor(), stripe_server)
    url = reverse("booking_ics", args=[booking.pk])
    client.force_login(booking.mentee)
    response = client.get(url)
    assert response["Content-Type"].startswith("text/calendar") and b"BEGIN:VCALENDAR" in response.content
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
