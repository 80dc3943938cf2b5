"""CalDAV accounts against a real CalDAV server (Radicale on a free local port): the mentor's calendars are
found, the ones they pick make them busy (recurring events, exceptions, all-day, other zones, as for iCal
addresses), and confirmed sessions are written into the one they chose, moved and removed with the session.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import requests
import time_machine

from bookings import services
from mentorship import caldav_accounts, connected_calendars
from mentorship.caldav_accounts import Account
from mentorship.calendar_feeds import FeedError
from mentorship.models import ConnectedCalendar
from notifications.calendar import uid as booking_uid
from tests.caldav_server import CalDAVServer
from tests.factories import UserFactory
from tests.ics_server import Feed, FeedServer, calendar
from tests.test_calendar_import import (
    ALL_DAY,
    ALL_WORKING_DAY,
    BERLIN,
    NEW_YORK,
    NOW,
    TRANSPARENT,
    WEEKLY,
    WEEKLY_MOVED,
    service,  # noqa: F401 (a fixture)
    starts_on,
    without,
)

PASSWORD = "app-password-1234"


@pytest.fixture
def dav():
    server = CalDAVServer({"lena": PASSWORD}).start()
    yield server
    server.stop()


def account(dav) -> Account:
    return Account(dav.url, "lena", PASSWORD)


def connect(service, dav, *, busy=("Work",), write_to=""):  # noqa: F811
    found = dict(caldav_accounts.calendars(account(dav)))
    by_name = {name: url for url, name in found.items()}
    return connected_calendars.connect_caldav(
        service.mentor,
        account(dav),
        found=found,
        busy=[by_name[name] for name in busy],
        write_to=by_name[write_to] if write_to else "",
    )


@pytest.mark.django_db
def test_picked_calendars_make_the_mentor_busy_exactly(dav, service):  # noqa: F811
    work, personal = dav.calendar("lena", "Work"), dav.calendar("lena", "Personal")
    dav.calendar("lena", "Holidays").save_event(calendar(ALL_DAY).decode())  # not picked: hides nothing
    work.save_event(calendar(WEEKLY, WEEKLY_MOVED).decode())
    work.save_event(calendar(NEW_YORK).decode())
    personal.save_event(calendar(TRANSPARENT).decode())
    with time_machine.travel(NOW, tick=False):
        made = connect(service, dav, busy=("Work", "Personal"))
        assert sorted(calendar.name for calendar in made) == ["Personal", "Work"]
        assert all(connected_calendars.sync(calendar.pk) for calendar in made)

    assert starts_on(service, date(2027, 3, 2)) == without("09:30", "10:00", "10:30")
    assert starts_on(service, date(2027, 3, 9)) == without("13:30", "14:00", "14:30")
    assert starts_on(service, date(2027, 3, 16)) == ALL_WORKING_DAY
    assert starts_on(service, date(2027, 3, 17)) == without("14:30", "15:00", "15:30")  # New York, between DSTs
    assert starts_on(service, date(2027, 3, 31)) == without("15:30", "16:00")
    assert starts_on(service, date(2027, 3, 4)) == ALL_WORKING_DAY  # the unpicked calendar's all-day event
    assert starts_on(service, date(2027, 3, 5)) == ALL_WORKING_DAY  # free time blocks nothing


@pytest.mark.django_db
def test_a_wrong_password_or_a_server_that_goes_away_is_told_to_the_mentor(dav, service):  # noqa: F811
    dav.calendar("lena", "Work").save_event(calendar(WEEKLY).decode())
    with pytest.raises(FeedError, match="refused that user name and password"):
        caldav_accounts.calendars(Account(dav.url, "lena", "wrong"))
    with time_machine.travel(NOW, tick=False) as traveller:
        (work,) = connect(service, dav)
        assert connected_calendars.sync(work.pk)
        dav.stop()
        traveller.shift(timedelta(minutes=6))
        assert not connected_calendars.sync(work.pk, timeout=2)
    work.refresh_from_db()
    assert work.last_error == "The calendar server could not be reached."
    assert work.last_synced_at == NOW
    assert starts_on(service, date(2027, 3, 2)) == without("09:30", "10:00", "10:30")  # the last good busy time


@pytest.mark.django_db(transaction=True)
def test_confirmed_sessions_are_written_moved_and_removed(dav, service):  # noqa: F811
    work = dav.calendar("lena", "Work")
    mentee = UserFactory(display_name="Sam Student")
    with time_machine.travel(NOW, tick=False):
        connect(service, dav, busy=(), write_to="Work")
        assert ConnectedCalendar.objects.get(write_back=True).counts_busy is False

        start = datetime(2027, 3, 2, 12, 0, tzinfo=BERLIN)
        booking = services.booking_hold(mentee=mentee, service=service, start=start)
        services.booking_mark_paid(booking.pk)
        assert work.events() == []  # pending: not in the mentor's calendar yet
        services.booking_confirm(booking.pk, actor=service.mentor.user)

        (written,) = work.events()
        event = written.icalendar_instance.walk("VEVENT")[0]
        assert str(event["UID"]) == booking_uid(booking)  # the same event as the e-mailed invite
        assert event.start == start.astimezone(UTC)
        assert "Sam Student" in str(event["SUMMARY"])
        assert "ATTENDEE" not in event and "ORGANIZER" not in event  # the server sends no invitation of its own

        new_start = datetime(2027, 3, 3, 14, 0, tzinfo=BERLIN)
        services.booking_reschedule(booking.pk, actor=mentee, new_start=new_start)
        (moved,) = work.events()
        assert moved.icalendar_instance.walk("VEVENT")[0].start == new_start.astimezone(UTC)

        services.booking_cancel(booking.pk, actor=service.mentor.user, reason="Ill")
        assert work.events() == []


@pytest.mark.django_db(transaction=True)
def test_a_session_written_back_does_not_block_its_own_time(dav, service):  # noqa: F811
    """The write-back calendar may also count as busy: our own session's copy there is not a second meeting."""
    work_on_server = dav.calendar("lena", "Work")
    mentee = UserFactory()
    with time_machine.travel(NOW, tick=False) as traveller:
        (work,) = connect(service, dav, busy=("Work",), write_to="Work")
        start = datetime(2027, 3, 2, 12, 0, tzinfo=BERLIN)
        booking = services.booking_hold(mentee=mentee, service=service, start=start)
        services.booking_mark_paid(booking.pk)
        services.booking_confirm(booking.pk, actor=service.mentor.user)
        assert len(work_on_server.events()) == 1
        traveller.shift(timedelta(minutes=6))
        assert connected_calendars.sync(work.pk)
        assert not work.busy.exists()


def test_a_caldav_server_in_a_private_network_is_refused(dav, settings):
    settings.CALENDAR_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(FeedError, match="not a public address"):
        caldav_accounts.calendars(account(dav))


def test_a_server_answering_garbage_is_told_not_a_500():
    feeds = FeedServer().start()
    try:
        feeds.feeds["/dav/"] = Feed(b"<multistatus><not xml", status=207, content_type="application/xml")
        with pytest.raises(FeedError, match="does not answer as a CalDAV server"):
            caldav_accounts.calendars(Account(feeds.url("/dav/"), "lena", PASSWORD))
    finally:
        feeds.stop()


@pytest.mark.django_db(transaction=True)
def test_a_session_already_in_the_calendar_from_its_invite_is_updated_in_place(dav, service):  # noqa: F811
    """The mentor's calendar may hold the e-mailed invite under a name of its own: the same UID is updated there,
    not refused as a conflict or written twice."""
    work = dav.calendar("lena", "Work")
    mentee = UserFactory()
    with time_machine.travel(NOW, tick=False):
        connect(service, dav, busy=(), write_to="Work")
        booking = services.booking_hold(
            mentee=mentee, service=service, start=datetime(2027, 3, 2, 12, 0, tzinfo=BERLIN)
        )
        services.booking_mark_paid(booking.pk)
        invite = calendar(f"UID:{booking_uid(booking)}\nDTSTART:20270302T110000Z\nDTEND:20270302T113000Z\nSUMMARY:x")
        put = requests.put(
            f"{work.url}invite-from-email.ics",
            data=invite,
            headers={"Content-Type": "text/calendar"},
            auth=("lena", PASSWORD),
            timeout=10,
        )
        assert put.status_code in (201, 204)
        services.booking_confirm(booking.pk, actor=service.mentor.user)
    (event,) = work.events()
    assert str(event.url).endswith("invite-from-email.ics")
    assert event.icalendar_instance.walk("VEVENT")[0].end == datetime(2027, 3, 2, 12, 0, tzinfo=BERLIN).astimezone(
        UTC
    ) + timedelta(minutes=60)
