"""In-app notifications, e-mail preferences and the personal calendar feed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from bookings import reminders, services
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
    import time_machine

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
