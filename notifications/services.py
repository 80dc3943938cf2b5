"""Telling people what happened to a booking: stored in-app, then e-mailed once."""

import secrets
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from bookings import packages, selectors
from bookings.models import Booking, PackagePurchase

from . import calendar, email, meetings
from .models import CalendarFeed, Notification, Preferences

# kind -> (who hears about it, subject, template). A subject may be a pair: (to the mentee, to the mentor).
# Times in each e-mail are in the recipient's zone.
BOOKING_MESSAGES = {
    "booking_requested": ("mentor", "New booking request from {mentee}", "booking_requested"),
    "booking_paid": ("mentee", "Payment received — waiting for {mentor} to confirm", "booking_paid"),
    "booking_confirmed": (
        "both",
        ("{mentor} confirmed your session", "You confirmed {mentee}'s session on {day}"),
        "booking_confirmed",
    ),
    "booking_declined": ("mentee", "{mentor} declined your session", "booking_declined"),
    # Completion is when we ask the mentee for a review.
    "booking_completed": ("mentee", "How was your session with {mentor}? Leave a review", "booking_completed"),
    "booking_auto_completed": (
        "both",
        ("Your session with {mentor} is complete. Leave a review", "Your session with {mentee} was completed for you"),
        "booking_auto_completed",
    ),
    "booking_expired": (
        "both",
        ("Your request expired without an answer", "{mentee}'s request expired without your answer"),
        "booking_expired",
    ),
    "booking_cancelled_by_mentee": ("both", "Session cancelled: {service} on {day}", "booking_cancelled"),
    "booking_cancelled_by_mentor": (
        "both",
        ("{mentor} had to cancel your session", "You cancelled {mentee}'s session on {day}"),
        "booking_cancelled",
    ),
    "booking_rescheduled": ("both", "Session moved to {day}", "booking_rescheduled"),
    "booking_rebooked": (
        "both",
        ("Booked again with {mentor}: {day}", "{mentee} picked a new time after you cancelled: {day}"),
        "booking_rescheduled",
    ),
    "rebook_refunded": ("mentee", "Your refund for the session with {mentor}", "rebook_refunded"),
    "links_changed": (
        "both",
        ("{mentor} updated where to meet", "You updated the links for {mentee}'s session on {day}"),
        "links_changed",
    ),
    "times_suggested": ("mentee", "{mentor} suggests other times", "times_suggested"),
    "suggestion_accepted": ("both", "Confirmed for {day}", "booking_confirmed"),
    "complete_reminder": ("mentor", "Please mark your session with {mentee} complete", "complete_reminder"),
    "no_show_reported": ("both", "No-show reported for your session on {day}", "no_show_reported"),
    "ticket_mentor_no_show_refund": ("both", "Your support request is settled", "ticket_resolved"),
    "ticket_mentee_no_show": ("both", "Your support request is settled", "ticket_resolved"),
    "ticket_rejected": ("both", "Your support request is settled", "ticket_resolved"),
    "ticket_full_refund": ("both", "Your support request is settled", "ticket_resolved"),
}


def wants_email(user, kind: str) -> bool:
    preferences = Preferences.objects.filter(user=user).first()
    if preferences is None:
        return True
    if kind.startswith(("reminder_", "pending_nudge_", "complete_reminder", "package_expiring")):
        return preferences.email_reminders
    if kind.startswith("payout"):
        return preferences.email_payouts
    if kind == "new_message":
        return preferences.email_messages
    return preferences.email_bookings


def preferences_update(user, **choices) -> Preferences:
    preferences, _ = Preferences.objects.get_or_create(user=user)
    for name, value in choices.items():
        setattr(preferences, name, value)
    preferences.save()
    return preferences


def mark_read(user, *, notification_id: int | None = None) -> int:
    """Mark one (or every) unread notification of this person as read."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


def calendar_feed_token(user, *, reset: bool = False) -> str:
    """The secret of the person's calendar feed; resetting makes the old address stop working."""
    feed = CalendarFeed.objects.filter(user=user).first()
    if feed is None or reset:
        token = secrets.token_urlsafe(32)
        CalendarFeed.objects.update_or_create(user=user, defaults={"token": token})
        return token
    return feed.token


def message_for(kind: str) -> tuple[str, str, str]:
    if kind.startswith("reminder_"):
        return ("both", "Reminder: {service} with {other} starts in {lead}", "reminder")
    if kind.startswith("pending_nudge_"):
        return ("mentor", "{mentee} is waiting for your answer", "pending_nudge")
    return BOOKING_MESSAGES[kind]


def send_booking_notification(booking_id: int, kind: str, *, event: str = "") -> list[Notification]:
    """Tell the people concerned, once per booking, kind and event (a second move is a new event)."""
    booking = Booking.objects.select_related("mentee", "mentor__user", "service").get(pk=booking_id)
    if kind in calendar.CALENDAR_KINDS:
        meetings.ensure_link(booking)  # the confirmation carries where to meet
    audience, subject, template = message_for(kind)
    recipients = {"mentor": [booking.mentor.user], "mentee": [booking.mentee]}.get(
        audience, [booking.mentee, booking.mentor.user]
    )
    card_last4 = selectors.booking_fact(booking, "card_last4")  # told by payments (notifications names none of it)
    decline_reason = selectors.decline_reason(booking) if kind == "booking_declined" else ""
    sent = []
    for recipient in recipients:
        other = booking.mentor.user if recipient == booking.mentee else booking.mentee
        context = {
            "booking": booking,
            "kind": kind,
            "recipient": recipient,
            "is_mentee": recipient == booking.mentee,
            "other": other,
            "mentor": booking.mentor.user,
            "mentee": booking.mentee,
            "zone": recipient.time_zone,
            "site_url": settings.SITE_URL,
            "days": f"{settings.BOOKING_AUTO_COMPLETE.total_seconds() / 86400:g}",
            "card_last4": card_last4,
            "decline_reason": decline_reason,
        }
        with timezone.override(recipient.zone):
            body = render_to_string(f"notifications/email/{template}.txt", context)
            wording = subject if isinstance(subject, str) else subject[recipient != booking.mentee]
            if kind == "booking_paid" and booking.package_purchase_id:
                wording = "Credit used — waiting for {mentor} to confirm"
            elif kind == "booking_paid" and booking.is_free:
                wording = "Request sent — waiting for {mentor} to confirm"
            title = wording.format(
                mentee=booking.mentee,
                mentor=booking.mentor.user,
                other=other,
                service=booking.service.title,
                day=f"{timezone.localtime(booking.start):%a %-d %b, %H:%M}",
                lead=kind.removeprefix("reminder_").replace("h", " h"),
            )
        sent.append(
            notify(
                recipient,
                kind=kind,
                key=f"booking-{booking.pk}-{kind}{f'-{event}' if event else ''}-user-{recipient.pk}",
                subject=title,
                body=body,
                booking=booking,
                link=reverse("booking_review", args=[booking.pk])
                if kind == "booking_completed" or (kind == "booking_auto_completed" and recipient == booking.mentee)
                else "",
            )
        )
    return [notice for notice in sent if notice is not None]


def notify(
    recipient, *, kind: str, key: str, subject: str, body: str, booking=None, link: str = ""
) -> Notification | None:
    """Store the notice (once per key, however often this runs), then e-mail it if the person wants that.

    Nobody is told anything once their account is deleted (inactive): None."""
    if not recipient.is_active:
        return None
    if not link and booking is not None:
        link = reverse("booking_detail", args=[booking.pk])
    email_status = Notification.Email.PENDING if wants_email(recipient, kind) else Notification.Email.SKIPPED
    # Built from names and titles: kept to one line and to the column, so a long name can't fail the insert.
    subject = email.subject_line(subject, Notification._meta.get_field("subject").max_length)
    try:
        with transaction.atomic():
            notification, _ = Notification.objects.get_or_create(
                key=key,
                defaults={
                    "user": recipient,
                    "booking": booking,
                    "kind": kind,
                    "subject": subject,
                    "body": body,
                    "link": link,
                    "email_status": email_status,
                },
            )
    except IntegrityError:
        notification = Notification.objects.get(key=key)
    # After commit (at once outside a transaction): the notice and what claimed it are kept first.
    transaction.on_commit(partial(email.deliver, notification.pk))
    return notification


def retry_failed_emails() -> int:
    """Send again what failed or was left half-way; each notice is still claimed before sending."""
    return sum(email.deliver(pk) for pk in email.due_for_retry())


def send_failed_emails_again(notification_ids) -> tuple[int, int]:
    """Staff's retry of failed sends (e.g. after fixing an address): a fresh round of attempts.

    Returns (sent, failed notices tried)."""
    failed = Notification.objects.filter(
        pk__in=list(notification_ids), email_status__in=[Notification.Email.FAILED, Notification.Email.GAVE_UP]
    )
    ids = list(failed.values_list("pk", flat=True))
    Notification.objects.filter(pk__in=ids).update(email_status=Notification.Email.PENDING, email_attempts=0)
    return sum(email.deliver(pk) for pk in ids), len(ids)


PURCHASE_MESSAGES = {
    # kind -> [(who, subject, template)]
    "package_paid": [
        ("mentee", "Your package is ready: {package}", "package_paid"),
        ("mentor", "{mentee} bought your package {package}", "package_sold"),
    ],
    "package_expiring": [("mentee", "Your package credits expire on {expires}", "package_expiring")],
}


def send_purchase_notification(purchase_id: int, kind: str) -> list[Notification]:
    purchase = PackagePurchase.objects.select_related("mentee", "mentor__user", "service").get(pk=purchase_id)
    sent = []
    for audience, subject, template in PURCHASE_MESSAGES[kind]:
        recipient = purchase.mentee if audience == "mentee" else purchase.mentor.user
        with timezone.override(recipient.zone):
            context = {
                "purchase": purchase,
                "recipient": recipient,
                "credits_left": packages.credits_left(purchase),
                "site_url": settings.SITE_URL,
            }
            body = render_to_string(f"notifications/email/{template}.txt", context)
            title = subject.format(
                package=purchase.title,
                mentee=purchase.mentee,
                expires=f"{timezone.localtime(purchase.expires_at):%-d %B}",
            )
        link = reverse("my_packages") if audience == "mentee" else reverse("earnings")
        sent.append(
            notify(
                recipient,
                kind=kind,
                key=f"purchase-{purchase.pk}-{kind}-user-{recipient.pk}",
                subject=title,
                body=body,
                link=link,
            )
        )
    return [notice for notice in sent if notice is not None]
