"""Every move and change is told once per event, with its own invite; reminders follow the session's time;
sessions nobody marked are completed after a few days."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import DatabaseError, connection
from icalendar import Calendar

from bookings import reminders, selectors, services
from bookings.models import Booking, SupportTicket
from payments.models import LedgerEntry

from .test_lifecycle import booked

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]


@pytest.fixture
def mentor():
    from .factories import bookable_mentor

    return bookable_mentor()


def invite_of(message) -> Calendar:
    (ics,) = [body for name, body, kind in message.attachments if kind == "text/calendar"]
    return Calendar.from_ical(ics)


def to(person):
    return [m for m in mail.outbox if m.to == [person.email]]


def test_each_reschedule_is_told_with_an_invite_for_the_new_time(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    later = selectors.open_slots(
        booking.service, start=booking.start + timedelta(hours=2), end=booking.start + timedelta(days=1)
    )
    mail.outbox.clear()
    services.booking_reschedule(booking.pk, actor=booking.mentee, new_start=later[0])
    services.booking_reschedule(booking.pk, actor=booking.mentee, new_start=later[2])
    for person in (booking.mentee, mentor.user):
        first, second = (m for m in to(person) if m.subject.startswith("Session moved"))
        starts = [invite_of(m).walk("VEVENT")[0].decoded("dtstart") for m in (first, second)]
        sequences = [int(invite_of(m).walk("VEVENT")[0]["sequence"]) for m in (first, second)]
        assert starts == [later[0], later[2]]
        assert sequences[1] > sequences[0]


def test_a_second_accepted_proposal_is_told_too(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    free = selectors.open_slots(
        booking.service, start=booking.start + timedelta(hours=2), end=booking.start + timedelta(days=1)
    )
    mail.outbox.clear()
    for start in (free[0], free[2]):
        services.booking_suggest_times(booking.pk, actor=mentor.user, starts=[start])
        suggestion = Booking.objects.get(pk=booking.pk).suggestions.get()
        services.booking_accept_suggestion(booking.pk, actor=booking.mentee, suggestion_id=suggestion.pk)
    assert len([m for m in to(booking.mentee) if "suggests other times" in m.subject]) == 2
    moved = [m for m in to(booking.mentee) if m.subject.startswith("Session moved")]
    assert [invite_of(m).walk("VEVENT")[0].decoded("dtstart") for m in moved] == [free[0], free[2]]


def test_a_link_changed_after_confirming_is_announced_with_an_updated_invite(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    (confirmation,) = [m for m in to(booking.mentee) if "confirmed your session" in m.subject]
    old_sequence = int(invite_of(confirmation).walk("VEVENT")[0]["sequence"])
    mail.outbox.clear()
    for link in ("https://meet.example/first", "https://meet.example/second"):
        services.booking_set_links(booking.pk, actor=mentor.user, meeting_link=link, availability_link="")
    services.booking_set_links(  # the same links again: nothing new to tell
        booking.pk, actor=mentor.user, meeting_link="https://meet.example/second", availability_link=""
    )
    told = [m for m in to(booking.mentee) if "updated where to meet" in m.subject]
    assert len(told) == 2
    assert "https://meet.example/first" in told[0].body and "https://meet.example/second" in told[1].body
    events = [invite_of(m).walk("VEVENT")[0] for m in told]
    assert [str(event["location"]) for event in events] == ["https://meet.example/first", "https://meet.example/second"]
    assert old_sequence < int(events[0]["sequence"]) < int(events[1]["sequence"])


def test_a_session_moved_after_its_24h_reminder_gets_one_for_the_new_time(mentor, stripe_server):
    booking = booked(mentor, stripe_server, days_ahead=3)
    new_start = selectors.open_slots(
        booking.service, start=booking.start + timedelta(days=2), end=booking.start + timedelta(days=4)
    )[0]
    with time_machine.travel(booking.start - timedelta(hours=23)):
        assert reminders.send_session_reminders() == 1
        services.booking_suggest_times(booking.pk, actor=mentor.user, starts=[new_start])  # the mentee can't now
        suggestion = Booking.objects.get(pk=booking.pk).suggestions.get()
        services.booking_accept_suggestion(booking.pk, actor=booking.mentee, suggestion_id=suggestion.pk)
        mail.outbox.clear()
        assert reminders.send_session_reminders() == 0  # the new time is days away
    with time_machine.travel(new_start - timedelta(hours=23)):
        assert reminders.send_session_reminders() == 1
    assert len(mail.outbox) == 2 and all("starts in 24 h" in m.subject for m in mail.outbox)


def test_a_session_the_mentor_moves_after_the_1h_reminder_gets_its_reminders_again(mentor, stripe_server):
    booking = booked(mentor, stripe_server, days_ahead=3)
    new_start = selectors.open_slots(
        booking.service, start=booking.start + timedelta(days=2), end=booking.start + timedelta(days=4)
    )[0]
    with time_machine.travel(booking.start - timedelta(minutes=50)):
        assert reminders.send_session_reminders() == 1
        services.booking_suggest_times(booking.pk, actor=mentor.user, starts=[new_start])
        suggestion = Booking.objects.get(pk=booking.pk).suggestions.get()
        services.booking_accept_suggestion(booking.pk, actor=booking.mentee, suggestion_id=suggestion.pk)
    mail.outbox.clear()
    with time_machine.travel(new_start - timedelta(hours=23)):
        assert reminders.send_session_reminders() == 1
    with time_machine.travel(new_start - timedelta(minutes=50)):
        assert reminders.send_session_reminders() == 1
    subjects = sorted(m.subject.split(" starts in ")[1] for m in mail.outbox)
    assert subjects == ["1 h", "1 h", "24 h", "24 h"]


def test_a_session_nobody_marked_is_completed_after_the_set_days_and_both_are_told(mentor, stripe_server, settings):
    settings.BOOKING_AUTO_COMPLETE = timedelta(days=3)
    booking = booked(mentor, stripe_server)
    mail.outbox.clear()
    with time_machine.travel(booking.end + timedelta(days=2, hours=23)):
        assert services.complete_unmarked_sessions() == 0
    with time_machine.travel(booking.end + timedelta(days=3, minutes=1)):
        assert services.complete_unmarked_sessions() == 1
        assert services.complete_unmarked_sessions() == 0
    booking.refresh_from_db()
    assert booking.status == Booking.Status.COMPLETED
    share = LedgerEntry.objects.get(booking=booking, kind=LedgerEntry.Kind.SESSION_SHARE)
    assert share.amount_cents > 0
    assert any("Leave a review" in m.subject for m in to(booking.mentee))
    assert any("completed for you" in m.subject for m in to(mentor.user))


def test_a_session_with_an_open_report_is_not_completed_automatically(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    with time_machine.travel(booking.start + timedelta(minutes=15)):
        services.no_show_report(booking.pk, actor=booking.mentee, note="They never came")
    with time_machine.travel(booking.end + timedelta(days=10)):
        assert services.complete_unmarked_sessions() == 0
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert SupportTicket.objects.get(booking=booking).status == SupportTicket.Status.OPEN


@contextmanager
def outbox_table_unavailable():
    """The database refuses to record side effects for a moment (a real failure, not a stand-in)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE mentorship_outboxentry RENAME TO mentorship_outboxentry_away")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE mentorship_outboxentry_away RENAME TO mentorship_outboxentry")


def test_a_reminder_whose_notice_could_not_be_recorded_is_sent_by_the_next_sweep(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    mail.outbox.clear()
    with time_machine.travel(booking.start - timedelta(hours=23)):
        with outbox_table_unavailable(), pytest.raises(DatabaseError):
            reminders.send_session_reminders()
        assert reminders.send_session_reminders() == 1  # the claim went back with the failed notice
    assert len(mail.outbox) == 2 and all("starts in 24 h" in m.subject for m in mail.outbox)
