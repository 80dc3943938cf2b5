"""Reminder sweepers, run every minute by beat. Each claims its work with a conditional
update on the booking, in the transaction that records the notice, so running twice,
concurrently, late or dying half-way sends each reminder once.
A sweeper that was down catches up by sending only the latest reminder that is due.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Booking
from .services import queue_notification

Status = Booking.Status
COMPLETE_REMINDER_AFTER = timedelta(minutes=15)


def send_session_reminders(*, now: datetime | None = None) -> int:
    """24 h and 1 h before a confirmed session, to both parties. A reminder whose moment had
    passed when the booking was confirmed is skipped: the confirmation said it all."""
    now = now or timezone.now()
    windows = sorted(settings.BOOKING_REMINDERS)  # e.g. [1 h, 24 h]
    sent = 0
    # Only the sessions with a reminder to send: for each window, those whose closest due window it is,
    # not reminded for it yet and confirmed before its moment (the checks below say the same, row by row).
    due_rows = Q()
    for shorter, window in zip([timedelta(0), *windows], windows, strict=False):
        due_rows |= (
            Q(start__gt=now + shorter, start__lte=now + window)
            & (Q(last_reminder_hours__isnull=True) | Q(last_reminder_hours__gt=window.total_seconds() / 3600))
            & (Q(confirmed_at__isnull=True) | Q(confirmed_at__lte=F("start") - window))
        )
    upcoming = Booking.objects.filter(due_rows, status=Status.CONFIRMED)
    for booking in upcoming:
        due = [w for w in windows if now >= booking.start - w]
        if not due:
            continue
        window = due[0]  # the one closest to the start
        if booking.confirmed_at and booking.confirmed_at > booking.start - window:
            continue
        hours = window.total_seconds() / 3600
        with transaction.atomic():  # the claim and the notice commit together, or neither does
            claimed = Booking.objects.filter(
                Q(last_reminder_hours__isnull=True) | Q(last_reminder_hours__gt=hours),
                pk=booking.pk,
                status=Status.CONFIRMED,
            ).update(last_reminder_hours=hours)
            if claimed:  # keyed by the start: a session moved after a reminder gets one for its new time
                queue_notification(booking, f"reminder_{hours:g}h", event=f"{booking.start:%Y%m%d%H%M}")
                sent += 1
    return sent


def send_pending_nudges(*, now: datetime | None = None) -> int:
    """Tell the mentor about an unanswered request after 24 h, after 72 h, and the day before it expires.

    Reads only the requests whose next nudge is due (Booking.nudge_due_at, kept by the services and here)."""
    now = now or timezone.now()
    sent = 0
    for booking in Booking.objects.filter(status=Status.PENDING, nudge_due_at__lte=now):
        moments = booking.nudge_moments()
        due = sum(1 for moment in moments if moment <= now)
        if due == 0 or due <= booking.nudges_sent or now >= booking.pending_expires_at:
            # Not due after all (moved meanwhile) or over (the expiry sweeper takes it): due again when it is.
            later = None if now >= booking.pending_expires_at else booking.next_nudge_at()
            Booking.objects.filter(pk=booking.pk, nudge_due_at=booking.nudge_due_at).update(nudge_due_at=later)
            continue
        with transaction.atomic():
            booking.nudges_sent = due
            if Booking.objects.filter(pk=booking.pk, status=Status.PENDING, nudges_sent__lt=due).update(
                nudges_sent=due, nudge_due_at=booking.next_nudge_at()
            ):
                queue_notification(booking, f"pending_nudge_{due}")
                sent += 1
    return sent


def send_complete_reminders(*, now: datetime | None = None) -> int:
    """Ask the mentor to mark a session complete once it has ended."""
    now = now or timezone.now()
    sent = 0
    ended = Booking.objects.filter(
        status=Status.CONFIRMED, end__lte=now - COMPLETE_REMINDER_AFTER, complete_reminder_sent=False
    )
    for booking in ended:
        with transaction.atomic():
            if Booking.objects.filter(pk=booking.pk, complete_reminder_sent=False).update(complete_reminder_sent=True):
                queue_notification(booking, "complete_reminder")
                sent += 1
    return sent


def run_all(*, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    return {
        "reminders": send_session_reminders(now=now),
        "nudges": send_pending_nudges(now=now),
        "complete": send_complete_reminders(now=now),
    }
