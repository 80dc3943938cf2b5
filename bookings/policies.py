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
