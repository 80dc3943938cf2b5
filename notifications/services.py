"""Telling people what happened to a booking: stored in-app, then e-mailed once."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from bookings.models import Booking

from .models import Notification

# kind -> (who hears about it, subject). Times in each e-mail are in the recipient's zone.
BOOKING_MESSAGES = {
    "booking_requested": ("mentor", "New booking request from {mentee}"),
    "booking_paid": ("mentee", "Payment received — waiting for {mentor} to confirm"),
    "booking_confirmed": ("mentee", "{mentor} confirmed your session"),
    "booking_declined": ("mentee", "{mentor} declined your session — full refund on its way"),
    "booking_completed": ("mentee", "Your session with {mentor} is complete"),
    "booking_expired": ("mentee", "{mentor} did not answer in time — full refund on its way"),
}


def send_booking_notification(booking_id: int, kind: str) -> Notification:
    booking = Booking.objects.select_related("mentee", "mentor__user", "service").get(pk=booking_id)
    audience, subject = BOOKING_MESSAGES[kind]
    recipient = booking.mentor.user if audience == "mentor" else booking.mentee
    context = {
        "booking": booking,
        "recipient": recipient,
        "mentor": booking.mentor.user,
        "mentee": booking.mentee,
        "zone": recipient.time_zone,
        "site_url": settings.SITE_URL,
    }
    with timezone.override(recipient.zone):
        body = render_to_string(f"notifications/email/{kind}.txt", context)
    return notify(
        recipient,
        kind=kind,
        key=f"booking-{booking.pk}-{kind}-user-{recipient.pk}",
        subject=subject.format(mentee=booking.mentee, mentor=booking.mentor.user),
        body=body,
        booking=booking,
    )


def notify(recipient, *, kind: str, key: str, subject: str, body: str, booking=None) -> Notification:
    """Store the notice and e-mail it, once per key however often this runs."""
    try:
        with transaction.atomic():
            notification, _ = Notification.objects.get_or_create(
                key=key,
                defaults={"user": recipient, "booking": booking, "kind": kind, "subject": subject, "body": body},
            )
    except IntegrityError:
        notification = Notification.objects.get(key=key)
    # Claim the e-mail with a conditional update so two workers never both send it.
    if Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(emailed_at=timezone.now()):
        try:
            send_mail(notification.subject, notification.body, None, [recipient.email])
        except Exception:
            Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
            raise
    return notification
