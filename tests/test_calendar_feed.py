"""The calendar feed stays cheap for apps that fetch it every few minutes: a bounded window of sessions, answered
304 Not Modified while nothing in it changed, and a fixed number of queries whatever the history."""

import gzip
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from bookings import selectors
from bookings import services as booking_services
from notifications import services as notification_services

from .factories import UserFactory, bookable_mentor
from .test_booking_lists import sessions

pytestmark = pytest.mark.django_db


@pytest.fixture
def mentor():
    return bookable_mentor()


def feed_url(user) -> str:
    return reverse("calendar_feed", args=[notification_services.calendar_feed_token(user)])


def starts_in(response) -> list:
    return [event.decoded("dtstart") for event in Calendar.from_ical(response.content).walk("VEVENT")]


def test_an_unchanged_feed_answers_not_modified_and_every_change_gives_a_new_etag(client, mentor):
    mentee = UserFactory()
    pending, confirmed = sessions(mentor, mentee, 2)
    url = feed_url(mentor.user)
    first = client.get(url)
    assert first.status_code == 200 and first["Cache-Control"] == "private, max-age=300"
    etag, last_modified = first["ETag"], first["Last-Modified"]

    again = client.get(url, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert client.get(url, headers={"if-modified-since": last_modified}).status_code == 304

    seen = {etag}

    def changed() -> str:
        response = client.get(url, headers={"if-none-match": " ,".join(seen)})
        assert response.status_code == 200, "a change answered 304"
        assert response["ETag"] not in seen
        seen.add(response["ETag"])
        return response

    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    free = selectors.open_slots(intro, start=now + timedelta(days=5), end=now + timedelta(days=30))
    new = booking_services.booking_hold(mentee=mentee, service=intro, start=free[0])
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304  # held at checkout: not listed yet
    booking_services.booking_mark_paid(new.pk)
    assert len(starts_in(changed())) == 3

    booking_services.booking_reschedule(pending.pk, actor=mentee, new_start=free[1])
    assert free[1] in starts_in(changed())

    booking_services.booking_assign_meeting_link(confirmed.pk, "https://meet.example.com/abc")
    assert b"meet.example.com/abc" in changed().content

    booking_services.booking_cancel(new.pk, actor=mentee)
    assert b"STATUS:CANCELLED" in changed().content


def test_the_feed_keeps_ninety_days_of_past_sessions(client, mentor):
    mentee = UserFactory()
    (booking,) = sessions(mentor, mentee, 1)
    url = feed_url(mentee)
    assert starts_in(client.get(url)) == [booking.start]
    with time_machine.travel(booking.start + selectors.FEED_PAST - timedelta(hours=1)):
        assert starts_in(client.get(url)) == [booking.start]
    with time_machine.travel(booking.start + selectors.FEED_PAST + timedelta(hours=1)):
        assert starts_in(client.get(url)) == []


@pytest.mark.parametrize("count", [3, 60])
def test_the_feed_costs_the_same_queries_at_any_size(client, mentor, count, django_assert_max_num_queries):
    sessions(mentor, UserFactory(), count)
    url = feed_url(mentor.user)
    # The feed's token, the version (one aggregate), the sessions with their people and session types.
    with django_assert_max_num_queries(3):
        response = client.get(url)
    assert len(starts_in(response)) == count
    # Polled again within the minute with nothing written since: the kept answer, no query at all.
    with django_assert_max_num_queries(0):
        assert client.get(url, headers={"if-none-match": response["ETag"]}).status_code == 304


def test_a_calendar_app_that_accepts_gzip_gets_the_same_feed_in_a_tenth_of_the_bytes(client, mentor):
    sessions(mentor, UserFactory(), 20)
    url = feed_url(mentor.user)
    plain = client.get(url)
    zipped = client.get(url, headers={"accept-encoding": "gzip, deflate"})
    assert zipped["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain
    assert "Accept-Encoding" in zipped["Vary"] and "Accept-Encoding" in plain["Vary"]
    assert gzip.decompress(zipped.content) == plain.content
    assert len(zipped.content) * 5 < len(plain.content)
    assert zipped["ETag"] == "W/" + plain["ETag"]
    again = client.get(url, headers={"accept-encoding": "gzip", "if-none-match": zipped["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("accept_encoding", "zipped"),
    [("gzip;q=0, identity", False), ("GZIP; q=0.5", True), ("*", True), ("br, *;q=0", False), ("x-gzip", True)],
)
def test_gzip_only_for_a_client_that_takes_it(client, mentor, accept_encoding, zipped):
    sessions(mentor, UserFactory(), 2)
    response = client.get(feed_url(mentor.user), headers={"accept-encoding": accept_encoding})
    assert (response.get("Content-Encoding") == "gzip") is zipped
    assert response.content.startswith(b"\x1f\x8b") is zipped
