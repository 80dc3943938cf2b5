"""Sending a stored notification by e-mail: plain text plus HTML from one base template.

Each send is claimed with a conditional update, so two workers never send the same
notice. A failure is recorded on the row and the retry job tries again with backoff;
a send a dead worker left half-way is picked up again after CLAIM_TIMEOUT. After
MAX_ATTEMPTS the row is marked "failed for good", which staff see (and can retry) in admin. A notice to an
address the e-mail provider reported as undeliverable (notifications.suppression) is not sent, and never retried.

Header values are folded onto one line before sending: forms refuse names with line breaks,
but a name stored before that rule (or written around the forms) must not stop the mail.
"""

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from . import calendar, suppression
from .models import Notification

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
CLAIM_TIMEOUT = timedelta(minutes=10)
Email = Notification.Email


# Control characters and Unicode line/paragraph separators: anything that could break or fold a header line.
HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def header_value(value: str) -> str:
    """One line, safe for a mail header: each run of control characters becomes a single space."""
    return " ".join(HEADER_BREAKS.sub(" ", value).split())


def subject_line(value: str, limit: int) -> str:
    """A subject as stored and sent: one line, and shortened with "…" to fit `limit` characters."""
    line = header_value(value)
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def header_address(value: str) -> str:
    """An address never holds spaces or control characters; dropping them leaves what the person typed."""
    return "".join(HEADER_BREAKS.sub("", value).split())


def backoff(attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt: 5, 10, 20, 40 minutes."""
    return timedelta(minutes=5 * 2 ** max(attempts - 1, 0))


DEFAULT_ACTION = "Open on Mentorship"
NUMBERED_KIND = re.compile(r"_(\d+(\.\d+)?h|\d+)$")
# Notices whose one button asks the reader to act on the booking page.
PAGE_ACTIONS = {
    "booking_requested": "Confirm or decline",
    "pending_nudge": "Confirm or decline",
    "complete_reminder": "Mark complete",
    "times_suggested": "Pick a time",
    "booking_paid": "View request",
}
# Notices about a session that is on: the button joins it when there is a video link.
SESSION_ON = {
    "booking_confirmed",
    "suggestion_accepted",
    "booking_rescheduled",
    "booking_rebooked",
    "links_changed",
    "reminder",
}
ENDED_WITHOUT_SESSION = {"booking_declined", "booking_expired", "booking_cancelled_by_mentee", "no_show_reported"}


def primary_action(notification: Notification) -> tuple[str, str]:
    """The notice's one button: (label, absolute address). Non-booking notices open their link."""
    link = f"{settings.SITE_URL}{notification.link}" if notification.link else ""
    booking = notification.booking
    if booking is None:
        return (DEFAULT_ACTION, link) if link else ("", "")
    kind = NUMBERED_KIND.sub("", notification.kind)  # reminder_2h, pending_nudge_1 …
    for_mentor = notification.user_id == booking.mentor.user_id
    page = f"{settings.SITE_URL}{reverse('booking_detail', args=[booking.pk])}"
    if kind in PAGE_ACTIONS:
        return PAGE_ACTIONS[kind], page
    if kind in ("booking_completed", "booking_auto_completed") and not for_mentor:
        return "Leave a review", f"{settings.SITE_URL}{reverse('booking_review', args=[booking.pk])}"
    if kind in SESSION_ON and booking.status == booking.Status.CONFIRMED:
        if booking.meeting_link and not booking.service.in_person:
            return "Join", booking.meeting_link
        return "View session", page
    if kind == "booking_cancelled_by_mentor" and not for_mentor and booking.rebook_until is not None:
        return "Pick a new time", f"{settings.SITE_URL}{reverse('booking_rebook', args=[booking.pk])}"
    if kind == "booking_cancelled_by_mentor" and not for_mentor:
        profile = reverse("mentor_profile", args=[booking.mentor_id])
        return "Book another time", f"{settings.SITE_URL}{profile}?service={booking.service_id}"
    if kind in ENDED_WITHOUT_SESSION or kind.startswith(("booking_cancelled", "ticket_")):
        return "View booking", page
    return "View session", page


def calendar_links(notification: Notification) -> dict[str, str]:
    """Add-to-calendar links for a notice that puts a session on (the approval, a move, new links)."""
    booking = notification.booking
    if (
        booking is None
        or notification.kind not in calendar.CALENDAR_KINDS
        or booking.status != booking.Status.CONFIRMED
    ):
        return {}
    return calendar.links(booking, for_mentor=notification.user_id == booking.mentor.user_id)


def render(notification: Notification) -> tuple[str, str]:
    """The plain-text and HTML bodies: the notice, its one button, add-to-calendar links where the
    session is on, and how to change e-mail choices."""
    action, action_url = primary_action(notification)
    context = {
        "notification": notification,
        "recipient": notification.user,
        "action": action,
        "action_url": action_url,
        "default_action": action == DEFAULT_ACTION,
        "calendar": calendar_links(notification),
        "preferences_url": f"{settings.SITE_URL}{reverse('notification_settings')}",
        "site_url": settings.SITE_URL,
    }
    return (
        render_to_string("notifications/email/base.txt", context),
        render_to_string("notifications/email/base.html", context),
    )


def _attachment(notification: Notification) -> tuple | None:
    """Notices that change the calendar carry the booking's current invite."""
    booking = notification.booking
    if booking is None or notification.kind not in calendar.CALENDAR_KINDS:
        return None
    ics = calendar.booking_ics(booking, for_mentor=notification.user_id == booking.mentor.user_id)
    return (f"session-{booking.pk}.ics", ics, "text/calendar")


def _claim(notification_id: int, now) -> bool:
    due = Q(email_status__in=[Email.PENDING, Email.FAILED]) | Q(
        email_status=Email.SENDING, email_attempted_at__lt=now - CLAIM_TIMEOUT
    )
    return bool(
        Notification.objects.filter(due, pk=notification_id).update(
            email_status=Email.SENDING, email_attempted_at=now, email_attempts=F("email_attempts") + 1
        )
    )


def deliver(notification_id: int) -> bool:
    """Send the notice's e-mail if it is still due; True when this call sent it."""
    if not _claim(notification_id, timezone.now()):
        return False
    notification = Notification.objects.select_related("user", "booking__mentor__user", "booking__service").get(
        pk=notification_id
    )
    if suppression.is_undeliverable(notification.user.email):
        # The provider reported this address bounces or complains: the notice stays in the app, and the retry
        # job never takes it up again. The person sees a banner asking them to fix their address.
        Notification.objects.filter(pk=notification.pk).update(email_status=Email.SUPPRESSED, email_error="")
        return False
    try:  # building the message is inside too: one bad notice must not stop the retry job's batch
        text, html = render(notification)
        message = EmailMultiAlternatives(
            header_value(notification.subject), text, to=[header_address(notification.user.email)]
        )
        message.attach_alternative(html, "text/html")
        if attachment := _attachment(notification):
            message.attach(*attachment)
        message.send()
    except Exception as error:  # any failure: the notice stays, the retry job tries again
        gave_up = notification.email_attempts >= MAX_ATTEMPTS
        (log.error if gave_up else log.warning)(
            "E-mail for notification %s failed (attempt %s%s): %s",
            notification.pk,
            notification.email_attempts,
            ", giving up" if gave_up else "",
            error,
        )
        Notification.objects.filter(pk=notification.pk).update(
            email_status=Email.GAVE_UP if gave_up else Email.FAILED, email_error=str(error)[:300]
        )
        return False
    Notification.objects.filter(pk=notification.pk).update(
        email_status=Email.SENT, emailed_at=timezone.now(), email_error=""
    )
    return True


def due_for_retry(now=None, limit: int = 200) -> list[int]:
    """Failed sends whose backoff has passed, sends a dead worker left, and sends whose task was lost."""
    now = now or timezone.now()
    stale = now - CLAIM_TIMEOUT
    rows = Notification.objects.filter(
        Q(email_status=Email.FAILED)
        | Q(email_status=Email.SENDING, email_attempted_at__lt=stale)
        | Q(email_status=Email.PENDING, created_at__lt=stale)
    ).values_list("pk", "email_status", "email_attempts", "email_attempted_at")
    return [
        pk
        for pk, status, attempts, attempted_at in rows.order_by("pk")[:limit]
        if status != Email.FAILED or attempted_at + backoff(attempts) <= now
    ]
