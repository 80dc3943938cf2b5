"""The booking lifecycle with the real payment server: cancel per policy, reschedule, links, no-shows, reminders."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from bookings import policies, reminders, selectors, services
from bookings.models import Booking, SupportTicket
from payments import services as payment_services
from payments.models import LedgerEntry, Refund

from .factories import UserFactory, bookable_mentor
from .test_payments import pay

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]


@pytest.fixture
def mentor():
    return bookable_mentor()


def booked(mentor, stripe_server, *, days_ahead=3, confirm=True, mentee=None):
    """A paid (and by default confirmed) 30-minute session about `days_ahead` days from now."""
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(
        intro, start=now + timedelta(days=days_ahead), end=now + timedelta(days=days_ahead + 2)
    )[0]
    booking = services.booking_hold(mentee=mentee or UserFactory(), service=intro, start=start)
    pay(stripe_server, booking)
    if confirm:
        services.booking_confirm(booking.pk, actor=mentor.user)
    booking.refresh_from_db()
    return booking


def test_cancelling_before_the_window_refunds_in_full_and_the_preview_says_so(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    terms = policies.cancellation_terms(booking, by="mentee")
    assert terms.full_refund and "full refund of $40.00" in terms.summary
    mail.outbox.clear()
    services.booking_cancel(booking.pk, actor=booking.mentee)
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by, booking.cancellation_summary) == (
        "cancelled",
        "mentee",
        terms.summary,
    )
    assert Refund.objects.get().amount_cents == 4000
    mentee_mail = next(m for m in mail.outbox if m.to == [booking.mentee.email])
    assert terms.summary in mentee_mail.body  # the e-mail says what the preview said
    assert any(m.to == [mentor.user.email] for m in mail.outbox)


def test_cancelling_inside_the_window_refunds_nothing_and_says_ask_your_mentor(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    with time_machine.travel(booking.start - timedelta(hours=2)):
        terms = policies.cancellation_terms(booking, by="mentee")
        assert not terms.full_refund and "Ask your mentor" in terms.summary
        services.booking_cancel(booking.pk, actor=booking.mentee)
    assert not Refund.objects.exists()
    # The mentor may still give some back.
    from payments import services as payment_services

    payment_services.refund_grant(booking_id=booking.pk, actor=mentor.user, amount_cents=2000)
    assert Refund.objects.get().amount_cents == 2000


def test_a_pending_booking_can_always_be_cancelled_with_a_full_refund(mentor, stripe_server):
    booking = booked(mentor, stripe_server, confirm=False)
    with time_machine.travel(booking.start - timedelta(hours=1)):
        services.booking_cancel(booking.pk, actor=booking.mentee)
    assert Refund.objects.get().amount_cents == 4000


def test_a_mentor_cancelling_lets_the_mentee_choose_a_new_time_or_the_refund(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    mail.outbox.clear()
    with time_machine.travel(booking.start - timedelta(hours=1)):
        services.booking_cancel(booking.pk, actor=mentor.user, reason="I'm ill, sorry")
    booking.refresh_from_db()
    assert booking.status == "cancelled" and booking.rebook_until is not None
    assert not Refund.objects.exists()  # the money waits for the mentee's choice
    mentee_mail = next(m for m in mail.outbox if m.to == [booking.mentee.email])
    assert f"/bookings/{booking.pk}/rebook/" in mentee_mail.body  # pick a new time
    assert "a full refund of $40.00" in mentee_mail.body and f"/bookings/{booking.pk}/" in mentee_mail.body
    assert "If you don't choose by" in mentee_mail.body
    with pytest.raises(services.BookingError):
        services.booking_cancel(booking.pk, actor=mentor.user)  # a second click changes nothing
    with pytest.raises(services.BookingError, match="Only the mentee or the mentor"):
        services.booking_cancel(booking.pk, actor=UserFactory())

    services.booking_take_refund(booking.pk, actor=booking.mentee)
    assert Refund.objects.get().amount_cents == 4000
    with pytest.raises(services.BookingError, match="closed"):
        services.booking_take_refund(booking.pk, actor=booking.mentee)  # once
    with pytest.raises(services.BookingError, match="closed"):
        services.booking_rebook(booking.pk, actor=booking.mentee, new_start=booking.start + timedelta(days=1))


def test_a_new_time_after_the_mentor_cancels_keeps_the_payment_and_counts_no_reschedule(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    other = booked(mentor, stripe_server, days_ahead=5)
    services.booking_cancel(booking.pk, actor=mentor.user)
    later = selectors.open_slots(
        booking.service, start=booking.start + timedelta(days=1), end=booking.start + timedelta(days=2)
    )
    with pytest.raises(services.BookingError, match="Only the mentee"):
        services.booking_rebook(booking.pk, actor=mentor.user, new_start=later[0])
    with pytest.raises(services.BookingError, match="just taken"):
        services.booking_rebook(booking.pk, actor=booking.mentee, new_start=other.start)
    mail.outbox.clear()
    moved = services.booking_rebook(booking.pk, actor=booking.mentee, new_start=later[0])
    assert (moved.status, moved.start, moved.reschedules_used, moved.rebook_until) == ("confirmed", later[0], 0, None)
    assert booking.payments.count() == 1 and not Refund.objects.exists()
    assert later[0] not in selectors.open_slots(booking.service, start=later[0], end=later[0] + timedelta(minutes=1))
    subjects = sorted(m.subject for m in mail.outbox)
    assert any(subject.startswith("Booked again with") for subject in subjects)
    assert any("picked a new time after you cancelled" in subject for subject in subjects)
    # Confirmed again, it may be cancelled (and chosen about) again, and both hear of it again.
    mail.outbox.clear()
    services.booking_cancel(booking.pk, actor=mentor.user)
    booking.refresh_from_db()
    assert booking.rebook_until is not None
    assert sorted(m.to[0] for m in mail.outbox) == sorted([booking.mentee.email, mentor.user.email])
    # The mentor may not give part of it back while the mentee chooses, and the cancelled time is not offered.
    with pytest.raises(payment_services.CheckoutError, match="choosing between a new time and a full refund"):
        payment_services.refund_grant(booking_id=booking.pk, actor=mentor.user, amount_cents=1000)
    with pytest.raises(services.BookingError, match="the time Maya Mentor cancelled|the time .* cancelled"):
        services.booking_rebook(booking.pk, actor=booking.mentee, new_start=booking.start)


def test_without_an_answer_the_refund_is_made_once(mentor, stripe_server, settings):
    settings.BOOKING_REBOOK_WINDOW = timedelta(days=2)
    booking = booked(mentor, stripe_server)
    services.booking_cancel(booking.pk, actor=mentor.user)
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert services.refund_unanswered_cancellations() == 0
    mail.outbox.clear()
    with time_machine.travel(timezone.now() + timedelta(days=2, minutes=1)):
        assert services.refund_unanswered_cancellations() == 1
        assert services.refund_unanswered_cancellations() == 0
        with pytest.raises(services.BookingError, match="closed"):
            services.booking_rebook(booking.pk, actor=booking.mentee, new_start=booking.start + timedelta(days=1))
    assert Refund.objects.get().amount_cents == 4000
    assert [m.subject for m in mail.outbox if m.to == [booking.mentee.email]] == [
        f"Your refund for the session with {mentor.user.display_name}"
    ]


def test_a_leaving_mentee_with_an_open_choice_gets_the_refund(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    services.booking_cancel(booking.pk, actor=mentor.user)
    services.bookings_close_for_leaving(booking.mentee)
    booking.refresh_from_db()
    assert booking.rebook_until is None
    assert Refund.objects.get().amount_cents == 4000


def test_reschedule_keeps_the_payment_and_status_within_the_limit_and_window(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    intro = booking.service
    later = selectors.open_slots(intro, start=booking.start + timedelta(hours=2), end=booking.start + timedelta(days=1))
    moved = services.booking_reschedule(booking.pk, actor=booking.mentee, new_start=later[0])
    assert (moved.start, moved.status, moved.reschedules_used) == (later[0], "confirmed", 1)
    assert moved.blocked_end - moved.blocked_start == timedelta(minutes=30)
    assert booking.start in selectors.open_slots(intro, start=booking.start, end=booking.start + timedelta(minutes=1))
    services.booking_reschedule(booking.pk, actor=booking.mentee, new_start=later[2])
    with pytest.raises(services.BookingError, match="most allowed"):
        services.booking_reschedule(booking.pk, actor=booking.mentee, new_start=later[4])
    assert booking.payments.count() == 1


def test_reschedule_is_refused_inside_the_window_and_onto_taken_time(mentor, stripe_server):
    first = booked(mentor, stripe_server)
    second = booked(mentor, stripe_server, days_ahead=4)
    with pytest.raises(services.BookingError, match="just taken"):
        services.booking_reschedule(first.pk, actor=first.mentee, new_start=second.start)
    with time_machine.travel(first.start - timedelta(hours=3)), pytest.raises(services.BookingError, match="window"):
        services.booking_reschedule(first.pk, actor=first.mentee, new_start=second.start + timedelta(hours=2))


def test_links_are_added_by_the_mentor_after_confirming(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    services.booking_set_links(
        booking.pk,
        actor=mentor.user,
        meeting_link="https://meet.example/abc",
        availability_link="https://cal.example/x",
    )
    booking.refresh_from_db()
    assert booking.meeting_link == "https://meet.example/abc"
    with pytest.raises(services.BookingError, match="Only the mentor"):
        services.booking_set_links(booking.pk, actor=booking.mentee, meeting_link="", availability_link="")


def test_a_mentor_no_show_is_reported_after_10_minutes_and_staff_refund_it(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    staff = UserFactory(is_staff=True)
    with (
        time_machine.travel(booking.start + timedelta(minutes=5)),
        pytest.raises(services.BookingError, match="10 minutes"),
    ):
        services.no_show_report(booking.pk, actor=booking.mentee)
    with time_machine.travel(booking.start + timedelta(minutes=11)):
        ticket = services.no_show_report(booking.pk, actor=booking.mentee, note="Waited 15 minutes")
        with pytest.raises(services.BookingError, match="already an open report"):
            services.no_show_report(booking.pk, actor=booking.mentee)
    services.ticket_resolve(ticket.pk, staff=staff, resolution=SupportTicket.Resolution.MENTOR_NO_SHOW_REFUND)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.NO_SHOW
    assert Refund.objects.get().amount_cents == 4000
    with pytest.raises(services.BookingError, match="already resolved"):
        services.ticket_resolve(ticket.pk, staff=staff, resolution=SupportTicket.Resolution.REJECTED)


def test_a_mentee_no_show_counts_as_held_and_pays_the_mentor(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    with time_machine.travel(booking.start + timedelta(minutes=15)):
        ticket = services.no_show_report(booking.pk, actor=mentor.user)
    services.ticket_resolve(ticket.pk, staff=UserFactory(is_staff=True), resolution="mentee_no_show")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.COMPLETED and not Refund.objects.exists()
    assert LedgerEntry.objects.get(account="mentor").amount_cents > 0


def test_reminders_24h_and_1h_go_once_to_both_even_when_run_twice_or_late(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    mail.outbox.clear()
    with time_machine.travel(booking.start - timedelta(hours=23)):
        assert reminders.send_session_reminders() == 1
        assert reminders.send_session_reminders() == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted([booking.mentee.email, mentor.user.email])
    assert all("starts in 24 h" in m.subject for m in mail.outbox)
    mail.outbox.clear()
    with time_machine.travel(booking.start - timedelta(minutes=50)):
        assert reminders.send_session_reminders() == 1
        assert reminders.send_session_reminders() == 0
    assert len(mail.outbox) == 2 and all("starts in 1 h" in m.subject for m in mail.outbox)


def test_a_worker_that_was_down_sends_only_the_latest_reminder(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    mail.outbox.clear()
    with time_machine.travel(booking.start - timedelta(minutes=30)):  # missed the 24 h moment entirely
        reminders.run_all()
        reminders.run_all()
    assert len(mail.outbox) == 2 and all("starts in 1 h" in m.subject for m in mail.outbox)


def test_a_booking_confirmed_inside_a_window_skips_that_reminder(mentor, stripe_server):
    booking = booked(mentor, stripe_server, confirm=False)
    with time_machine.travel(booking.start - timedelta(hours=5)):
        services.booking_confirm(booking.pk, actor=mentor.user)
        mail.outbox.clear()
        assert reminders.send_session_reminders() == 0  # the 24 h reminder would be late and pointless
    with time_machine.travel(booking.start - timedelta(minutes=59)):
        assert reminders.send_session_reminders() == 1


def test_nudges_about_pending_requests_go_at_24h_72h_and_the_day_before_expiry(mentor, stripe_server):
    booking = booked(mentor, stripe_server, days_ahead=10, confirm=False)
    mail.outbox.clear()
    sent = []
    for hours in (23, 25, 26, 73, 24 * 6 + 1, 24 * 6 + 2):
        with time_machine.travel(booking.created_at + timedelta(hours=hours)):
            sent.append(reminders.send_pending_nudges())
    assert sent == [0, 1, 0, 1, 1, 0]
    assert [m.to for m in mail.outbox] == [[mentor.user.email]] * 3


def test_the_mentor_is_reminded_once_to_mark_complete(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    mail.outbox.clear()
    with time_machine.travel(booking.end + timedelta(minutes=20)):
        assert reminders.send_complete_reminders() == 1
        assert reminders.send_complete_reminders() == 0
    assert [m.to for m in mail.outbox] == [[mentor.user.email]]
    assert "mark your session" in mail.outbox[0].subject


def test_the_mentor_suggests_other_times_and_the_mentee_accepts_one_keeping_the_payment(mentor, stripe_server):
    booking = booked(mentor, stripe_server, confirm=False)
    others = selectors.open_slots(
        booking.service, start=booking.start + timedelta(hours=1), end=booking.start + timedelta(days=1)
    )
    with pytest.raises(services.BookingError, match="one to 3"):
        services.booking_suggest_times(booking.pk, actor=mentor.user, starts=others[:4])
    services.booking_suggest_times(booking.pk, actor=mentor.user, starts=others[:2])
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING and booking.suggestions.count() == 2
    assert any("suggests other times" in m.subject for m in mail.outbox)
    second = booking.suggestions.last()
    with pytest.raises(services.BookingError, match="Only the mentee"):
        services.booking_accept_suggestion(booking.pk, actor=mentor.user, suggestion_id=second.pk)
    services.booking_accept_suggestion(booking.pk, actor=booking.mentee, suggestion_id=second.pk)
    booking.refresh_from_db()
    assert (booking.status, booking.start) == (Booking.Status.CONFIRMED, others[1])
    assert not booking.suggestions.exists() and not Refund.objects.exists()
    assert booking.payments.count() == 1


def test_the_mentor_proposes_moving_a_confirmed_session_and_it_stays_confirmed(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    later = selectors.open_slots(
        booking.service, start=booking.start + timedelta(hours=2), end=booking.start + timedelta(days=1)
    )
    services.booking_suggest_times(booking.pk, actor=mentor.user, starts=[later[0]])
    services.booking_accept_suggestion(booking.pk, actor=booking.mentee, suggestion_id=booking.suggestions.get().pk)
    booking.refresh_from_db()
    assert (booking.status, booking.start, booking.reschedules_used) == (Booking.Status.CONFIRMED, later[0], 0)
    assert any("Session moved" in m.subject for m in mail.outbox)


def test_either_party_can_open_a_dispute_and_staff_can_refund_it(mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    services.booking_complete(booking.pk, actor=mentor.user, now=booking.end)
    with pytest.raises(services.BookingError, match="Tell us what happened"):
        services.dispute_open(booking.pk, actor=booking.mentee, note=" ")
    ticket = services.dispute_open(booking.pk, actor=booking.mentee, note="The session was 10 minutes long.")
    services.ticket_resolve(
        ticket.pk, staff=UserFactory(is_staff=True), resolution=SupportTicket.Resolution.FULL_REFUND
    )
    assert Refund.objects.get().amount_cents == 4000
    from payments import ledger

    assert ledger.balance_cents(mentor) == 0  # the refund after completion took the share back


def test_a_confirmed_session_gets_a_meeting_room_unless_the_mentor_gave_a_link(mentor, stripe_server, settings):
    settings.JITSI_BASE_URL = "https://meet.jit.si"
    first = booked(mentor, stripe_server)
    second = booked(mentor, stripe_server, days_ahead=4)
    assert first.meeting_link.startswith("https://meet.jit.si/Mentorship-")
    assert first.meeting_link != second.meeting_link
    confirmation = next(
        m for m in mail.outbox if "confirmed your session" in m.subject and m.to == [first.mentee.email]
    )
    assert f"Join: {first.meeting_link}" in confirmation.body
    services.booking_set_links(
        first.pk, actor=mentor.user, meeting_link="https://meet.google.com/abc", availability_link=""
    )
    first.refresh_from_db()
    assert first.meeting_link == "https://meet.google.com/abc"  # the mentor's own link wins


def test_a_late_cancellation_pays_the_mentor_until_they_give_money_back(mentor, stripe_server, settings):
    from payments import services as payment_services

    settings.PLATFORM_FEE_PERCENT = 15
    booking = booked(mentor, stripe_server)
    services.booking_cancel(booking.pk, actor=booking.mentee, now=booking.start - timedelta(hours=2))
    share = LedgerEntry.objects.get(booking=booking, account="mentor")
    assert share.amount_cents == 3400  # $40 less the 15% fee: the time was kept for the mentee
    payment_services.refund_grant(booking_id=booking.pk, actor=mentor.user, amount_cents=2000)
    mentor_total = sum(e.amount_cents for e in LedgerEntry.objects.filter(booking=booking, account="mentor"))
    assert mentor_total == 1700  # half given back: half of the share taken back
