"""A mentor's own calendar (an iCal address) makes them busy here: correct to the minute, across zones, recurring
events and DST; a calendar that fails keeps its last good busy time and says why, and never stops a checkout.

Feeds come from a local HTTP server (tests/ics_server.py); the mentor works 09:00–17:00 Monday to Friday in Berlin.
"""

import io
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
import time_machine
from django.core.cache import cache, caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings import selectors, services
from bookings.models import Booking
from mentorship import calendar_feeds, connected_calendars, sealed
from mentorship.models import BusyInterval, ConnectedCalendar, MentorProfile
from notifications.calendar import uid as booking_uid
from tests.factories import MentorProfileFactory, ServiceFactory, UserFactory, weekly_hours
from tests.ics_server import Feed, FeedServer, calendar

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)  # Monday 1 March 2027, 07:00 in Berlin

# Tuesdays 10:00–11:00 in Berlin; on 9 March moved to 14:00, on 16 March cancelled.
WEEKLY = """
UID:weekly-standup
DTSTART;TZID=Europe/Berlin:20270302T100000
DTEND;TZID=Europe/Berlin:20270302T110000
RRULE:FREQ=WEEKLY;BYDAY=TU
EXDATE;TZID=Europe/Berlin:20270316T100000
SUMMARY:Stand-up
"""
WEEKLY_MOVED = """
UID:weekly-standup
RECURRENCE-ID;TZID=Europe/Berlin:20270309T100000
DTSTART;TZID=Europe/Berlin:20270309T140000
DTEND;TZID=Europe/Berlin:20270309T150000
SUMMARY:Stand-up (moved)
"""
ALL_DAY = """
UID:offsite
DTSTART;VALUE=DATE:20270304
DTEND;VALUE=DATE:20270305
SUMMARY:Team offsite
"""
# Wednesdays 10:00–11:00 in New York: 16:00 in Berlin until the US changes clocks (14 March), 15:00 for the two
# weeks before Europe does (28 March), 16:00 again after.
NEW_YORK = """
UID:ny-call
DTSTART;TZID=America/New_York:20270303T100000
DTEND;TZID=America/New_York:20270303T110000
RRULE:FREQ=WEEKLY;COUNT=5
"""
TRANSPARENT = """
UID:focus
DTSTART;TZID=Europe/Berlin:20270305T120000
DTEND;TZID=Europe/Berlin:20270305T130000
TRANSP:TRANSPARENT
SUMMARY:Focus time (shown as free)
"""
FLOATING = """
UID:dentist
DTSTART:20270305T090000
DTEND:20270305T100000
SUMMARY:Dentist (no zone: the mentor's own)
"""
CANCELLED = """
UID:cancelled
DTSTART;TZID=Europe/Berlin:20270308T110000
DTEND;TZID=Europe/Berlin:20270308T120000
STATUS:CANCELLED
"""

ALL_WORKING_DAY = [f"{hour:02d}:{minute:02d}" for hour in range(9, 16) for minute in (0, 30)] + ["16:00"]


@pytest.fixture
def feeds():
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def service():
    mentor = MentorProfileFactory(user__time_zone="Europe/Berlin", minimum_notice_hours=0, booking_horizon_days=60)
    weekly_hours(mentor, days=range(5))
    return ServiceFactory(mentor=mentor, duration_minutes=60)


def starts_on(service, day: date) -> list[str]:
    """The service's free 60-minute starts on `day`, as Berlin wall-clock times."""
    day_start = datetime.combine(day, datetime.min.time(), tzinfo=BERLIN)
    slots = selectors.open_slots(service, start=day_start, end=day_start + timedelta(days=1), now=NOW)
    return [f"{slot.astimezone(BERLIN):%H:%M}" for slot in slots]


def without(*taken: str) -> list[str]:
    return [start for start in ALL_WORKING_DAY if start not in taken]


def connect(service, url: str) -> ConnectedCalendar:
    return connected_calendars.connect_ics(service.mentor, name="Work", address=url)


def test_each_kind_of_event_hides_exactly_its_time(feeds, service):
    feeds.feeds["/work.ics"] = Feed(calendar(WEEKLY, WEEKLY_MOVED, ALL_DAY, NEW_YORK, TRANSPARENT, FLOATING, CANCELLED))
    with time_machine.travel(NOW, tick=False):
        calendar_row = connect(service, feeds.url("/work.ics"))
        assert connected_calendars.sync(calendar_row.pk)

    # The weekly stand-up: a 60-minute session may not start at 09:30, 10:00 or 10:30.
    assert starts_on(service, date(2027, 3, 2)) == without("09:30", "10:00", "10:30")
    # Moved to 14:00 on 9 March (10:00 is free that day), and cancelled on the 16th.
    assert starts_on(service, date(2027, 3, 9)) == without("13:30", "14:00", "14:30")
    assert starts_on(service, date(2027, 3, 16)) == ALL_WORKING_DAY
    assert starts_on(service, date(2027, 3, 23)) == without("09:30", "10:00", "10:30")
    # All day: nothing that day.
    assert starts_on(service, date(2027, 3, 4)) == []
    # New York's 10:00 is 16:00 in Berlin, then 15:00 between the two DST changes, then 16:00 again.
    assert starts_on(service, date(2027, 3, 10)) == without("15:30", "16:00")
    assert starts_on(service, date(2027, 3, 17)) == without("14:30", "15:00", "15:30")
    assert starts_on(service, date(2027, 3, 24)) == without("14:30", "15:00", "15:30")
    assert starts_on(service, date(2027, 3, 31)) == without("15:30", "16:00")
    # Free time (transparent) blocks nothing; a floating 09:00 is the mentor's 09:00; a cancelled event is gone.
    assert starts_on(service, date(2027, 3, 5)) == without("09:00", "09:30")
    assert starts_on(service, date(2027, 3, 8)) == ALL_WORKING_DAY


def test_buffers_keep_clear_of_imported_time(feeds, service):
    service.buffer_after_minutes = 15
    service.buffer_before_minutes = 15
    service.save()
    feeds.feeds["/work.ics"] = Feed(calendar(WEEKLY))
    with time_machine.travel(NOW, tick=False):
        assert connected_calendars.sync(connect(service, feeds.url("/work.ics")).pk)
    # 09:00–10:00 plus 15 minutes after runs into 10:00; 11:00 minus 15 minutes before starts at 10:45.
    assert starts_on(service, date(2027, 3, 2)) == without("09:00", "09:30", "10:00", "10:30", "11:00")


def test_calendar_in_x_wr_timezone_reads_its_floating_times_there(feeds, service):
    """Google's feeds name the calendar's zone in X-WR-TIMEZONE and may write times without one."""
    feeds.feeds["/google.ics"] = Feed(
        calendar("UID:g1\nDTSTART:20270302T100000\nDTEND:20270302T110000", extra="X-WR-TIMEZONE:America/New_York")
    )
    with time_machine.travel(NOW, tick=False):
        assert connected_calendars.sync(connect(service, feeds.url("/google.ics")).pk)
    # 10:00 in New York is 16:00 in Berlin on 2 March.
    assert starts_on(service, date(2027, 3, 2)) == without("15:30", "16:00")


def test_a_copy_of_our_own_session_does_not_block_itself(feeds, service):
    mentee = UserFactory()
    with time_machine.travel(NOW, tick=False):
        start = datetime(2027, 3, 2, 13, 0, tzinfo=BERLIN)
        booking = services.booking_hold(mentee=mentee, service=service, start=start)
        feeds.feeds["/work.ics"] = Feed(
            calendar(
                f"UID:{booking_uid(booking)}\nDTSTART:20270302T120000Z\nDTEND:20270302T130000Z",
                "UID:lunch\nDTSTART:20270302T140000Z\nDTEND:20270302T150000Z",
            )
        )
        assert connected_calendars.sync(connect(service, feeds.url("/work.ics")).pk)
        # Only the other event is busy time: our session's copy is the session itself.
        assert list(BusyInterval.objects.values_list("start", "end")) == [
            (datetime(2027, 3, 2, 14, 0, tzinfo=UTC), datetime(2027, 3, 2, 15, 0, tzinfo=UTC))
        ]
        assert selectors.is_open(service, start, ignoring=booking.pk)


def test_a_session_the_mentor_booked_as_a_mentee_still_makes_them_busy(feeds, service):
    """Their own booking with another mentor has our UID too, but nothing else counts it for their slots."""
    other_mentor = MentorProfileFactory(user__time_zone="Europe/Berlin", minimum_notice_hours=0)
    weekly_hours(other_mentor)
    other = ServiceFactory(mentor=other_mentor, duration_minutes=60)
    with time_machine.travel(NOW, tick=False):
        as_mentee = services.booking_hold(
            mentee=service.mentor.user, service=other, start=datetime(2027, 3, 2, 13, 0, tzinfo=BERLIN)
        )
        feeds.feeds["/work.ics"] = Feed(
            calendar(f"UID:{booking_uid(as_mentee)}\nDTSTART:20270302T120000Z\nDTEND:20270302T130000Z")
        )
        assert connected_calendars.sync(connect(service, feeds.url("/work.ics")).pk)
    assert BusyInterval.objects.count() == 1
    assert starts_on(service, date(2027, 3, 2)) == without("12:30", "13:00", "13:30")


def test_a_failing_calendar_keeps_its_last_good_busy_time_and_says_why(feeds, service, settings):
    settings.CALENDAR_FEED_MAX_BYTES = 5 * 1024 * 1024
    feeds.feeds["/work.ics"] = Feed(calendar(WEEKLY))
    with time_machine.travel(NOW, tick=False) as traveller:
        calendar_row = connect(service, feeds.url("/work.ics"))
        assert connected_calendars.sync(calendar_row.pk)
        good_at = NOW
        busy = list(BusyInterval.objects.values_list("start", "end"))
        expected_errors = [
            (Feed(b"<html><body>Sign in</body></html>", content_type="text/html"), "web page, not a calendar"),
            (Feed(b"\x00\x01 not a calendar at all"), "not a calendar we can read"),
            (Feed(size=50 * 1024 * 1024), "larger than 5 MB"),
            (Feed(status=500), "answered 500"),
            (Feed(status=404), "Nothing is at that address"),
            (Feed(calendar(WEEKLY), delay=3), "did not answer within 1 seconds"),
        ]
        for feed, words in expected_errors:
            traveller.shift(timedelta(minutes=2))
            feeds.feeds["/work.ics"] = feed
            assert not connected_calendars.sync(calendar_row.pk, timeout=1)
            calendar_row.refresh_from_db()
            assert words in calendar_row.last_error
            assert calendar_row.last_synced_at == good_at
            assert list(BusyInterval.objects.values_list("start", "end")) == busy
        assert starts_on(service, date(2027, 3, 2)) == without("09:30", "10:00", "10:30")

        # Read again once the calendar is back: the error goes.
        traveller.shift(timedelta(minutes=2))
        feeds.feeds["/work.ics"] = Feed(calendar(WEEKLY))
        assert connected_calendars.sync(calendar_row.pk)
        calendar_row.refresh_from_db()
        assert calendar_row.last_error == ""


def test_an_unchanged_calendar_is_asked_conditionally_and_changes_nothing(feeds, service):
    feeds.feeds["/work.ics"] = Feed(calendar(WEEKLY))
    with time_machine.travel(NOW, tick=False) as traveller:
        calendar_row = connect(service, feeds.url("/work.ics"))
        assert connected_calendars.sync(calendar_row.pk)
        version = service.mentor.__class__.objects.get(pk=service.mentor_id).availability_version
        traveller.shift(timedelta(minutes=6))
        assert connected_calendars.sync(calendar_row.pk)
        calendar_row.refresh_from_db()
        assert calendar_row.etag and calendar_row.last_synced_at == NOW + timedelta(minutes=6)
        # Unchanged: the mentor's free time (and every cached slot list) stays as it was.
        assert service.mentor.__class__.objects.get(pk=service.mentor_id).availability_version == version

        # A new event: the free time changes at once.
        feeds.feeds["/work.ics"] = Feed(calendar(WEEKLY, ALL_DAY))
        traveller.shift(timedelta(minutes=6))
        assert connected_calendars.sync(calendar_row.pk)
        assert service.mentor.__class__.objects.get(pk=service.mentor_id).availability_version > version
    assert starts_on(service, date(2027, 3, 4)) == []


def test_a_calendar_being_read_is_not_read_twice_at_once(feeds, service):
    feeds.feeds["/work.ics"] = Feed(calendar(WEEKLY))
    with time_machine.travel(NOW, tick=False):
        calendar_row = connect(service, feeds.url("/work.ics"))
        assert connected_calendars.sync(calendar_row.pk)
        assert not connected_calendars.sync(calendar_row.pk)  # claimed a moment ago
    assert feeds.hits["/work.ics"] == 1


def test_checkout_rereads_a_stale_calendar_and_a_dead_one_does_not_stop_it(feeds, service):
    mentee = UserFactory()
    feeds.feeds["/work.ics"] = Feed(calendar())
    with time_machine.travel(NOW, tick=False) as traveller:
        calendar_row = connect(service, feeds.url("/work.ics"))
        assert connected_calendars.sync(calendar_row.pk)
        # The mentor adds a meeting; our copy is ten minutes old when a mentee picks that time.
        feeds.feeds["/work.ics"] = Feed(calendar(WEEKLY))
        traveller.shift(timedelta(minutes=10))
        with pytest.raises(services.BookingError):
            services.booking_hold(mentee=mentee, service=service, start=datetime(2027, 3, 2, 10, 0, tzinfo=BERLIN))

        # The calendar's server dies: the last good busy time stands and checkout goes on at once.
        feeds.feeds["/work.ics"] = Feed(status=503)
        traveller.shift(timedelta(minutes=10))
        booking = services.booking_hold(
            mentee=mentee, service=service, start=datetime(2027, 3, 2, 12, 0, tzinfo=BERLIN)
        )
        assert booking.status == Booking.Status.HELD
        calendar_row.refresh_from_db()
        assert "answered 503" in calendar_row.last_error


def test_addresses_are_kept_sealed_and_private_networks_refused(feeds, service, settings):
    with time_machine.travel(NOW, tick=False):
        calendar_row = connect(service, "webcal://calendar.example.com/private-abc123/basic.ics")
    assert "private-abc123" not in calendar_row.sealed_address
    assert sealed.unseal(calendar_row.sealed_address) == "https://calendar.example.com/private-abc123/basic.ics"
    assert calendar_row.address_hint == "calendar.example.com/…"

    with pytest.raises(connected_calendars.CalendarError):
        connect(service, "file:///etc/passwd")
    settings.CALENDAR_ALLOW_PRIVATE_ADDRESSES = False
    feeds.feeds["/work.ics"] = Feed(calendar(WEEKLY))
    with time_machine.travel(NOW, tick=False):
        private = connect(service, feeds.url("/work.ics"))
        assert not connected_calendars.sync(private.pk)
    private.refresh_from_db()
    assert "not a public address" in private.last_error
    assert feeds.hits["/work.ics"] == 0


def test_removing_a_calendar_gives_its_time_back(feeds, service):
    feeds.feeds["/work.ics"] = Feed(calendar(ALL_DAY))
    with time_machine.travel(NOW, tick=False):
        calendar_row = connect(service, feeds.url("/work.ics"))
        assert connected_calendars.sync(calendar_row.pk)
        assert starts_on(service, date(2027, 3, 4)) == []
        assert connected_calendars.disconnect(service.mentor, calendar_row.pk)
    assert starts_on(service, date(2027, 3, 4)) == ALL_WORKING_DAY


def test_beat_queues_each_calendar_when_due(feeds, service):
    feeds.feeds["/work.ics"] = Feed(calendar(WEEKLY))
    with time_machine.travel(NOW, tick=False) as traveller:
        connect(service, feeds.url("/work.ics"))
        assert connected_calendars.sync_due() == 1  # eager in the tests: read at once
        assert feeds.hits["/work.ics"] == 1
        traveller.shift(timedelta(minutes=2))
        assert connected_calendars.sync_due() == 0
        traveller.shift(timedelta(minutes=4))
        assert connected_calendars.sync_due() == 1
    assert feeds.hits["/work.ics"] == 2


def test_the_profile_costs_the_same_queries_with_1_or_500_imported_events(feeds, client):
    """The profile's slots for a visitor, caches cold: one query for imported busy time, however much there is."""
    counts = []
    for events in (1, 500):
        mentor = MentorProfileFactory(user__time_zone="Europe/Berlin", minimum_notice_hours=0)
        weekly_hours(mentor, days=range(5))
        ServiceFactory(mentor=mentor, duration_minutes=60)
        path = f"/feed-{events}.ics"
        feeds.feeds[path] = Feed(
            calendar(
                *[
                    f"UID:e{index}\nDTSTART:{(NOW + timedelta(hours=2 + 2 * index)):%Y%m%dT%H%M%SZ}\n"
                    f"DTEND:{(NOW + timedelta(hours=3 + 2 * index)):%Y%m%dT%H%M%SZ}"
                    for index in range(events)
                ]
            )
        )
        with time_machine.travel(NOW, tick=False):
            calendar_row = connected_calendars.connect_ics(mentor, name="Work", address=feeds.url(path))
            assert connected_calendars.sync(calendar_row.pk)
            assert BusyInterval.objects.filter(mentor=mentor).count() == events
            cache.clear()
            caches["pages"].clear()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"/mentors/{mentor.pk}/")
            assert response.status_code == 200
            counts.append(len(queries))
    assert counts[1] == counts[0]


def test_a_new_key_reseals_every_address(settings, service):
    old_key, new_key = settings.CALENDAR_SECRET_KEYS[0], "bmV3LWtleS1mb3ItY2FsZW5kYXItYWRkcmVzc2VzLTE="
    calendar_row = connect(service, "https://calendar.example.com/secret/basic.ics")
    settings.CALENDAR_SECRET_KEYS = [new_key, old_key]
    call_command("reseal_calendars", stdout=io.StringIO())
    settings.CALENDAR_SECRET_KEYS = [new_key]
    calendar_row.refresh_from_db()
    assert sealed.unseal(calendar_row.sealed_address) == "https://calendar.example.com/secret/basic.ics"
    settings.CALENDAR_SECRET_KEYS = [old_key]
    with pytest.raises(sealed.Unreadable):
        sealed.unseal(calendar_row.sealed_address)


def test_a_server_sending_a_byte_at_a_time_is_cut_off_at_the_time_limit(feeds, service):
    feeds.feeds["/drip.ics"] = Feed(calendar(WEEKLY), drip=0.2)
    with time_machine.travel(NOW, tick=False):
        calendar_row = connect(service, feeds.url("/drip.ics"))
    started = time.monotonic()
    with time_machine.travel(NOW, tick=False):
        assert not connected_calendars.sync(calendar_row.pk, timeout=2)
    assert time.monotonic() - started < 5  # not the minute the whole body would take
    calendar_row.refresh_from_db()
    assert "did not answer within 2 seconds" in calendar_row.last_error


def test_what_a_server_says_in_its_headers_is_stored_clean(feeds, service):
    """PostgreSQL refuses NUL in text; a header may carry one."""
    feeds.feeds["/work.ics"] = Feed(
        calendar(WEEKLY), with_etag=False, headers=(("ETag", '"a\x00b"'), ("Last-Modified", "Mon\x00day"))
    )
    with time_machine.travel(NOW, tick=False):
        calendar_row = connect(service, feeds.url("/work.ics"))
        assert connected_calendars.sync(calendar_row.pk)
    calendar_row.refresh_from_db()
    assert calendar_row.etag == '"ab"' and calendar_row.last_modified == "Monday"


def test_an_event_repeating_every_second_since_1970_is_refused_at_once(feeds, service):
    feeds.feeds["/work.ics"] = Feed(
        calendar(WEEKLY, "UID:tick\nDTSTART:19700101T000000Z\nDTEND:19700101T000001Z\nRRULE:FREQ=SECONDLY")
    )
    started = time.monotonic()
    with time_machine.travel(NOW, tick=False):
        calendar_row = connect(service, feeds.url("/work.ics"))
        assert not connected_calendars.sync(calendar_row.pk)
    assert time.monotonic() - started < 5
    calendar_row.refresh_from_db()
    assert "repeats too often for too long (secondly since 1970)" in calendar_row.last_error


def test_only_busy_events_count_towards_the_limit_and_more_is_refused(feeds, service):
    free_minutes = [
        f"UID:f{n}\nDTSTART:{NOW + timedelta(minutes=n):%Y%m%dT%H%M%SZ}\nDTEND:"
        f"{NOW + timedelta(minutes=n + 1):%Y%m%dT%H%M%SZ}\nTRANSP:TRANSPARENT"
        for n in range(calendar_feeds.MAX_BUSY + 100)
    ]
    feeds.feeds["/work.ics"] = Feed(calendar(*free_minutes, WEEKLY))
    with time_machine.travel(NOW, tick=False) as traveller:
        calendar_row = connect(service, feeds.url("/work.ics"))
        assert connected_calendars.sync(calendar_row.pk)
        assert starts_on(service, date(2027, 3, 2)) == without("09:30", "10:00", "10:30")

        busy_minutes = [event.replace("TRANSP:TRANSPARENT", "") for event in free_minutes]
        feeds.feeds["/work.ics"] = Feed(calendar(*busy_minutes))
        traveller.shift(timedelta(minutes=6))
        assert not connected_calendars.sync(calendar_row.pk)
    calendar_row.refresh_from_db()
    assert f"more than {calendar_feeds.MAX_BUSY} busy events" in calendar_row.last_error
    assert starts_on(service, date(2027, 3, 2)) == without("09:30", "10:00", "10:30")  # the last good read


def test_an_event_under_way_changes_nothing_from_one_read_to_the_next(feeds, service):
    """A meeting going on now (or a holiday today) must not look new at every read: the cached slots stay."""
    feeds.feeds["/work.ics"] = Feed(
        calendar(
            f"UID:now\nDTSTART:{NOW - timedelta(hours=1):%Y%m%dT%H%M%SZ}\n"
            f"DTEND:{NOW + timedelta(hours=2):%Y%m%dT%H%M%SZ}"
        ),
        with_etag=False,
    )
    with time_machine.travel(NOW, tick=False) as traveller:
        calendar_row = connect(service, feeds.url("/work.ics"))
        assert connected_calendars.sync(calendar_row.pk)
        version = MentorProfile.objects.get(pk=service.mentor_id).availability_version
        traveller.shift(timedelta(minutes=6))
        assert connected_calendars.sync(calendar_row.pk)
    assert MentorProfile.objects.get(pk=service.mentor_id).availability_version == version


def test_the_address_actually_connected_to_must_be_public(feeds, settings):
    """Checked on the connection itself, so a name that resolves to a public address when checked and to a
    private one when connected (DNS rebinding) is refused too."""
    feeds.feeds["/work.ics"] = Feed(calendar(WEEKLY))
    settings.CALENDAR_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(calendar_feeds.FeedError, match="not a public address"):
        requests.get(feeds.url("/work.ics"), timeout=5, hooks={"response": calendar_feeds.check_peer})
    settings.CALENDAR_ALLOW_PRIVATE_ADDRESSES = True
    assert requests.get(feeds.url("/work.ics"), timeout=5, hooks={"response": calendar_feeds.check_peer}).ok
