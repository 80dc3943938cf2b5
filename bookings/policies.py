"""The booking policies, in one place: what cancelling means (the cancel page's preview, the refund and the
e-mail all use it) and how long a request may wait for the mentor, as pages and e-mails state it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from mentorship.money import format_cents

from .models import Booking

# How long after the start either side waits before reporting that the other did not come.
NO_SHOW_WAIT = timedelta(minutes=10)


@dataclass(frozen=True)
class CancellationTerms:
    full_refund: bool
    refund_cents: int
    summary: str


def cancellation_terms(booking: Booking, *, by: str, now: datetime | None = None) -> CancellationTerms:
    """What cancelling now means for the money. `by` is "mentee" or "mentor"."""
    now = now or timezone.now()
    if booking.is_free:  # nothing was paid, so no refund and no window that keeps money
        return CancellationTerms(True, 0, "This session is free, so there is nothing to refund.")
    credit = booking.package_purchase_id is not None
    back = (
        "your package credit comes back"
        if credit
        else f"you get a full refund of {format_cents(booking.price_cents, booking.currency)}"
    )
    if by == "mentor":
        return CancellationTerms(True, booking.price_cents, f"The mentor cancelled: {back}.")
    if booking.status == Booking.Status.PENDING:
        return CancellationTerms(True, booking.price_cents, f"Not confirmed yet, so {back}.")
    deadline = timezone.localtime(booking.cancellation_deadline)
    if now < booking.cancellation_deadline:
        return CancellationTerms(
            True,
            booking.price_cents,
            f"You cancel before the cancellation window ({booking.cancellation_window_hours} h before the start): "
            f"{back}.",
        )
    closed = f"The cancellation window closed on {deadline:%A %-d %B at %H:%M} ({booking.cancellation_window_hours} h "
    if credit:
        return CancellationTerms(False, 0, closed + "before the start), so the package credit is used.")
    return CancellationTerms(
        False,
        0,
        closed + "before the start), so there is no automatic refund. "
        "Ask your mentor: they can give a full or partial refund.",
    )


def rebook_summary(booking: Booking) -> str:
    """What the mentor's cancellation means while the mentee chooses (a new time, or the refund). The deadline,
    Booking.rebook_until, is said apart, in each reader's zone."""
    if booking.is_free:
        return "The mentor cancelled. You can pick a new time."
    back = (
        "your package credit back"
        if booking.package_purchase_id is not None
        else f"a full refund of {format_cents(booking.price_cents, booking.currency)}"
    )
    return f"The mentor cancelled. Pick a new time without paying again, or get {back}."


def duration_text(span: timedelta) -> str:
    """How a policy's length reads: "7 days", "1 day", "36 hours", "90 minutes"."""
    minutes = round(span.total_seconds() / 60)
    if minutes % (24 * 60) == 0:
        count, unit = minutes // (24 * 60), "day"
    elif minutes % 60 == 0:
        count, unit = minutes // 60, "hour"
    else:
        count, unit = minutes, "minute"
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def rebook_window_text() -> str:
    """How long the mentee has to choose a new time or the refund after the mentor cancels (BOOKING_REBOOK_WINDOW)."""
    return duration_text(settings.BOOKING_REBOOK_WINDOW)


def pending_timeout_text() -> str:
    """How long a paid request waits for the mentor before it is cancelled and refunded (BOOKING_PENDING_TIMEOUT)."""
    return duration_text(settings.BOOKING_PENDING_TIMEOUT)
