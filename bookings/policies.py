"""The cancellation policy, in one place: the cancel page's preview, the refund and the e-mail all use it."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from mentorship.money import format_cents

from .models import Booking


@dataclass(frozen=True)
class CancellationTerms:
    full_refund: bool
    refund_cents: int
    summary: str


def cancellation_terms(booking: Booking, *, by: str, now: datetime | None = None) -> CancellationTerms:
    """What cancelling now means for the money. `by` is "mentee" or "mentor"."""
    now = now or timezone.now()
    price = format_cents(booking.price_cents, booking.currency)
    if by == "mentor":
        return CancellationTerms(True, booking.price_cents, f"The mentor cancelled: full refund of {price}.")
    if booking.status == Booking.Status.PENDING:
        return CancellationTerms(True, booking.price_cents, f"Not confirmed yet, so you get a full refund of {price}.")
    deadline = timezone.localtime(booking.cancellation_deadline)
    if now < booking.cancellation_deadline:
        return CancellationTerms(
            True,
            booking.price_cents,
            f"You cancel before the cancellation window ({booking.cancellation_window_hours} h before the start): "
            f"full refund of {price}.",
        )
    return CancellationTerms(
        False,
        0,
        f"The cancellation window closed on {deadline:%A %-d %B at %H:%M} ({booking.cancellation_window_hours} h "
        "before the start), so there is no automatic refund. Ask your mentor: they can give a full or partial refund.",
    )
