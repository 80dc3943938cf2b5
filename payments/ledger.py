"""The mentor ledger: append-only entries; a mentor's balance is their sum."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum

from bookings.models import Booking

from .models import LedgerEntry


def platform_fee_cents(gross_cents: int) -> int:
    return round(gross_cents * settings.PLATFORM_FEE_PERCENT / 100)


def record_session_earning(booking_id: int) -> LedgerEntry:
    """A completed session's price, less the platform fee, goes to the mentor. Once per booking."""
    booking = Booking.objects.get(pk=booking_id, status=Booking.Status.COMPLETED)
    existing = LedgerEntry.objects.filter(booking=booking, kind=LedgerEntry.Kind.SESSION_EARNING).first()
    if existing:
        return existing
    fee = platform_fee_cents(booking.price_cents)
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(
                mentor_id=booking.mentor_id,
                booking=booking,
                kind=LedgerEntry.Kind.SESSION_EARNING,
                amount_cents=booking.price_cents - fee,
                gross_cents=booking.price_cents,
                platform_fee_cents=fee,
            )
    except IntegrityError:  # a concurrent run won
        return LedgerEntry.objects.get(booking=booking, kind=LedgerEntry.Kind.SESSION_EARNING)


def summary(mentor) -> dict:
    """Balance and total earnings in one query."""
    totals = LedgerEntry.objects.filter(mentor=mentor).aggregate(
        balance=Sum("amount_cents"),
        earned=Sum("amount_cents", filter=Q(kind=LedgerEntry.Kind.SESSION_EARNING)),
    )
    return {"balance_cents": totals["balance"] or 0, "earned_cents": totals["earned"] or 0}
