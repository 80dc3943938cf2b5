"""In-app notifications, e-mail preferences and the personal calendar feed."""

import socket
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from bookings import reminders, services
from mentorship.zones import zone_label
from notifications import calendar
from notifications import services as notification_services
from notifications.models import Notification

from .factories import UserFactory, bookable_mentor
from .test_lifecycle import booked

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]


def test_every_notice_is_kept_in_the_app_and_marked_read(client, stripe_server):
    mentor = bookable_mentor()
    booking = booked(mentor, stripe_server)
    client.force_login(booking.mentee)
    page = client.get(reverse("notifications")).content.decode()
    assert "Payment received" in page and "confirmed your session" in page
    assert 'aria-label="Notifications, 2 unread"' in page
    one = Notification.objects.filter(user=booking.mentee).first()
    response = client.post(reverse("notifications_read"), {"notification": one.pk})
    assert response.url == reverse("booking_detail", args=[booking.pk])
    assert Notification.objects.filter(user=booking.mentee, read_at__isnull=True).count() == 1
    client.post(reverse("notifications_read"))
    assert not Notification.objects.filter(user=booking.mentee, read_at__isnull=True).exists()
    other = UserFactory()
    client.force_login(other)
    client.post(reverse("notifications_read"), {"notification": one.pk})  # someone else's id: nothing happens
    assert 'aria-label="Notifications, 0 unread"' in client.get(reverse("notifications")).content.decode()


def test_preferences_stop_e_mails_but_keep_the_notice(client, stripe_server):
    mentor = bookable_mentor()
    booking = booked(mentor, stripe_server)
    client.force_login(booking.mentee)
    client.post(reverse("notification_settings"), {"email_bookings": "on", "email_payouts": "on"})  # no reminders
    mail.outbox.clear()
    with time_machine.travel(booking.start - timedelta(minutes=30)):
        reminders.send_session_reminders()
    assert [m.to for m in mail.outbox] == [[mentor.user.email]]  # the mentee asked for no reminder e-mails
    assert Notification.objects.filter(user=booking.mentee, kind="reminder_1h").exists()


def test_the_calendar_feed_lists_sessions_and_a_reset_revokes_the_old_address(client, stripe_server):
    mentor = bookable_mentor()
    booking = booked(mentor, stripe_server)
    token = notification_services.calendar_feed_token(booking.mentee)
    url = reverse("calendar_feed", args=[token])
    response = client.get(url)  # a calendar app, not logged in
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert [e.decoded("dtstart") for e in events] == [booking.start]
    client.force_login(booking.mentee)
    client.post(reverse("notification_settings"), {"reset_feed": "1"})
    client.logout()
    assert client.get(url).status_code == 404
    services.booking_cancel(booking.pk, actor=booking.mentee)
    new_token = notification_services.calendar_feed_token(booking.mentee)
    (event,) = Calendar.from_ical(client.get(reverse("calendar_feed", args=[new_token])).content).walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"


# What each e-mail must say (to the mentee, to the mentor); None where that side is not told.
# Texts that depend on the booking's state (refund amounts, who cancelled) are checked where
# the transition happens, in test_lifecycle and test_payments.
EMAIL_PHRASES = {
    "booking_requested": (None, "booked a session with you and has paid"),
    "booking_paid": ("pending until", None),
    "booking_confirmed": ("confirmed your session", "You confirmed your session with"),
    "booking_declined": ("full refund of $40.00 to your card ending 4242", None),
    "booking_completed": ("marked your session as complete", None),
    "booking_expired": ("full refund of $40.00 to your card ending 4242", "You did not answer"),
    "booking_cancelled_by_mentee": ("cancel", "cancel"),  # who cancelled and the refund: see test_lifecycle
    "booking_cancelled_by_mentor": ("cancel", "cancel"),
    "booking_rescheduled": ("has moved", "moved their session"),
    "booking_rebooked": ("You picked a new time", "picked a new time after you cancelled"),
    "rebook_refunded": ("is refunded in full", None),
    "links_changed": ("updated the links for your session", "You updated the links"),
    "booking_auto_completed": ("now counts as complete", "we completed it for you"),
    "times_suggested": ("suggests these instead", None),
    "suggestion_accepted": ("confirmed your session", "accepted one of your suggested times"),
    "complete_reminder": (None, "Mark it Complete"),
    "no_show_reported": ("A no-show was reported", "A no-show was reported"),
    "ticket_mentor_no_show_refund": ("You get a full refund", "The mentee gets a full refund"),
    "ticket_mentee_no_show": ("counts as held", "your share is added to your balance"),
    "ticket_rejected": ("not upheld", "not upheld"),
    "ticket_full_refund": ("you get a full refund", "the mentee gets a full refund"),
    "reminder_24h": ("is coming up", "is coming up"),
    "reminder_1h": ("is coming up", "is coming up"),
    "pending_nudge_24h": (None, "is waiting for your answer"),
}


def test_every_sender_names_each_kind():
    kinds = set(notification_services.BOOKING_MESSAGES) | {"reminder_24h", "reminder_1h", "pending_nudge_24h"}
    assert kinds == set(EMAIL_PHRASES)


@pytest.mark.parametrize("kind", sorted(EMAIL_PHRASES))
def test_each_e_mail_says_what_happened_in_the_recipients_zone_and_sending_twice_sends_once(kind, stripe_server):
    mentor = bookable_mentor()  # New York
    booking = booked(mentor, stripe_server)  # the mentee is in London
    Notification.objects.filter(booking=booking, kind=kind).delete()  # booking it sent some already
    mail.outbox.clear()
    notification_services.send_booking_notification(booking.pk, kind)
    notification_services.send_booking_notification(booking.pk, kind)  # a retried job
    to_mentee, to_mentor = EMAIL_PHRASES[kind]
    expected = {booking.mentee.email: to_mentee, mentor.user.email: to_mentor}
    expected = {address: phrase for address, phrase in expected.items() if phrase}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(expected)  # once each
    for email in mail.outbox:
        recipient = booking.mentee if email.to == [booking.mentee.email] else mentor.user
        other = mentor.user if recipient == booking.mentee else booking.mentee
        assert expected[recipient.email].lower() in email.body.lower(), email.body
        assert email.body.startswith(f"Hi {recipient},")
        own = f"{booking.start.astimezone(recipient.zone):%H:%M}"
        theirs = (
            f"{booking.start.astimezone(other.zone):%H:%M} for {other} ({zone_label(other.time_zone, booking.start)})"
        )
        if kind != "times_suggested":  # that one lists the suggested times instead
            assert (
                own in email.body
                and f"({zone_label(recipient.time_zone, booking.start)})" in email.body
                and theirs in email.body
            )
        assert f"/bookings/{booking.pk}/" in email.body and "Choose which e-mails you get" in email.body
        html = email.alternatives[0][0]
        assert email.alternatives[0][1] == "text/html" and "<!doctype html>" in html
        assert f"Hi {recipient}," in html and html.count('class="primary-action"') == 1  # one button per notice
        has_invite = any(name.endswith(".ics") for name, *_ in email.attachments)
        assert has_invite == (kind in calendar.CALENDAR_KINDS)


def test_the_payout_e_mail_links_to_earnings(stripe_server):
    user = UserFactory()
    notification_services.notify(
        user, kind="payout_processed", key="payout-1", subject="Payout of $34.00 is on its way", body="Hi", link="/e/"
    )
    (email,) = mail.outbox
    assert "Open it on Mentorship: http://" in email.body and email.body.rstrip().endswith("/settings/notifications/")


def _unreachable_smtp(settings):
    with socket.socket() as probe:  # a port nothing listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2


def test_a_failed_e_mail_is_kept_and_retried_with_backoff_until_it_is_sent(settings):
    user = UserFactory()
    _unreachable_smtp(settings)
    notice = notification_services.notify(user, kind="payout_processed", key="p-1", subject="Payout", body="Hi")
    notice.refresh_from_db()
    assert (notice.email_status, notice.email_attempts) == ("failed", 1) and notice.email_error
    assert notification_services.retry_failed_emails() == 0  # too soon: the first wait is 5 minutes
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert notification_services.retry_failed_emails() == 1
        assert notification_services.retry_failed_emails() == 0  # run twice, sent once
    assert [m.subject for m in mail.outbox] == ["Payout"]
    notice.refresh_from_db()
    assert (notice.email_status, notice.email_attempts) == ("sent", 2)


def test_a_failing_address_is_given_up_after_five_attempts(settings):
    user = UserFactory()
    _unreachable_smtp(settings)
    notice = notification_services.notify(user, kind="payout_processed", key="p-2", subject="Payout", body="Hi")
    now = timezone.now()
    for hours in range(1, 8):
        with time_machine.travel(now + timedelta(hours=hours)):
            notification_services.retry_failed_emails()
    notice.refresh_from_db()
    assert (notice.email_status, notice.email_attempts) == ("gave_up", 5)


def test_a_send_a_dead_worker_left_half_way_is_picked_up_again():
    user = UserFactory()
    stuck = Notification.objects.create(
        user=user,
        kind="payout_processed",
        key="p-3",
        subject="Payout",
        body="Hi",
        email_status="sending",
        email_attempted_at=timezone.now(),
        email_attempts=1,
    )
    Notification.objects.create(user=user, kind="payout_processed", key="p-4", subject="Lost", body="Hi")
    assert notification_services.retry_failed_emails() == 0  # the worker may still be at it; the task may be queued
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert notification_services.retry_failed_emails() == 2
    assert sorted(m.subject for m in mail.outbox) == ["Lost", "Payout"]
    stuck.refresh_from_db()
    assert stuck.email_status == "sent"
