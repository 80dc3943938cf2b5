"""The ledger: append-only entries of what the platform owes each mentor and what it keeps.

A mentor's balance is the sum of their mentor-account entries. Every entry names
its cause in `source` (unique), so a job that runs twice writes it once.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from bookings import packages
from bookings.models import Booking, PackagePurchase

from .models import Dispute, LedgerEntry, Payment, Refund

Kind, Account = LedgerEntry.Kind, LedgerEntry.Account


# The entries that make up what a booking earned: its split, then every change refunds made to it.
SESSION_KINDS = (Kind.SESSION_SHARE, Kind.PLATFORM_FEE, Kind.REFUND, Kind.REFUND_FAILED)


def platform_fee_cents(gross_cents: int) -> int:
    """The platform's part of `gross_cents`, rounded half up to the cent (in Decimal, never float)."""
    fee = Decimal(gross_cents) * Decimal(str(settings.PLATFORM_FEE_PERCENT)) / 100
    return int(fee.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def kept_cents(booking: Booking) -> int:
    """What the mentee paid for a booking by card and was not given back (a refund on its way counts as given)."""
    paid = Payment.objects.filter(booking=booking, status=Payment.Status.SUCCEEDED)
    return sum(payment.amount_cents - payment.refunded_cents() for payment in paid)


def write_once(**fields) -> LedgerEntry:
    """Write an entry once per source; a second attempt returns the first."""
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(**fields)
    except IntegrityError:
        return LedgerEntry.objects.get(source=fields["source"])


def record_session_earning(booking_id: int) -> LedgerEntry | None:
    """A held session (or one cancelled too late for a refund): what the mentee paid, less any refund so far,
    splits into the mentor's share and the platform fee. A free session earns nothing and writes nothing."""
    # Completed, or cancelled by the mentee inside the window (then the money is the mentor's too).
    booking = Booking.objects.get(pk=booking_id, status__in=[Booking.Status.COMPLETED, Booking.Status.CANCELLED])
    if booking.is_free:  # bookings records no earning for one; this guards an older outbox row
        return None
    with transaction.atomic():
        if booking.package_purchase_id:
            gross = 0 if booking.credit_returned else booking.price_cents  # the credit's share of the package price
        else:
            # Refunds lock their payment: holding the payments, no refund lands between reading what is
            # kept and writing the split (a refund after it finds the split and reverses from there).
            list(Payment.objects.select_for_update().filter(booking=booking).order_by("pk"))
            gross = kept_cents(booking)
        return _split(gross, mentor_id=booking.mentor_id, source=f"booking-{booking.pk}", booking=booking)


def _split(gross: int, *, mentor_id: int, source: str, kind=Kind.SESSION_SHARE, **links) -> LedgerEntry:
    """Money earned: the platform fee to the platform, the rest to the mentor; once per source."""
    fee = platform_fee_cents(gross)
    common = {"mentor_id": mentor_id, **links}
    write_once(account=Account.PLATFORM, kind=Kind.PLATFORM_FEE, amount_cents=fee, source=f"{source}-fee", **common)
    return write_once(account=Account.MENTOR, kind=kind, amount_cents=gross - fee, source=f"{source}-share", **common)


def reverse_credit_earning(booking_id: int) -> LedgerEntry | None:
    """A package credit came back after its session was credited (a dispute): take the earning back."""
    share = LedgerEntry.objects.filter(source=f"booking-{booking_id}-share").first()
    if share is None:
        return None  # not credited: nothing to take back
    fee = LedgerEntry.objects.filter(source=f"booking-{booking_id}-fee").first()
    common = {"mentor_id": share.mentor_id, "booking_id": booking_id, "kind": Kind.REFUND}
    if fee is not None:
        write_once(
            account=Account.PLATFORM, amount_cents=-fee.amount_cents, source=f"booking-{booking_id}-back-fee", **common
        )
    return write_once(
        account=Account.MENTOR, amount_cents=-share.amount_cents, source=f"booking-{booking_id}-back-share", **common
    )


def record_package_expiry(purchase_id: int) -> LedgerEntry | None:
    """Credits left unused when a package expires: their value goes to the mentor, as the terms say."""
    purchase = PackagePurchase.objects.get(pk=purchase_id, status=PackagePurchase.Status.PAID)
    unused = sum(purchase.credit_value_cents(p) for p in packages.expired_unused_positions(purchase))
    entry = None
    if unused:
        entry = _split(
            unused,
            mentor_id=purchase.mentor_id,
            source=f"purchase-{purchase.pk}-expired",
            kind=Kind.PACKAGE_EXPIRED,
            purchase=purchase,
        )
    # Settled only once the entries exist, so a lost task is queued again by the next sweep.
    PackagePurchase.objects.filter(pk=purchase.pk, settled_at__isnull=True).update(settled_at=timezone.now())
    return entry


def record_refund(refund_id: int) -> LedgerEntry | None:
    """A refund of a session already credited: the mentor's share and the fee become the split of what is kept.

    Call it in the transaction that writes the refund, with its payment locked.
    """
    refund = Refund.objects.select_related("payment__booking").get(pk=refund_id)
    return _settle_refunds(refund, source=f"refund-{refund.pk}")


def record_refund_failed(refund_id: int) -> LedgerEntry | None:
    """A refund failed after all: what it took back from the mentor and the platform is theirs again."""
    refund = Refund.objects.select_related("payment__booking").get(pk=refund_id, status=Refund.Status.FAILED)
    return _settle_refunds(refund, source=f"refund-{refund.pk}-failed", kind=Kind.REFUND_FAILED)


def _settle_refunds(refund: Refund, *, source: str, kind=Kind.REFUND) -> LedgerEntry | None:
    """Bring a credited booking's entries to the split of what is kept now.

    Each reversal is (what the totals should be after every refund so far) minus (what they
    are), never a share of one refund rounded on its own: any sequence of refunds, failures
    and retries nets the mentor and the platform to exactly the split of what was kept.
    """
    booking = refund.payment.booking
    if booking is None:
        return None  # a package payment: nothing was credited from it directly
    # Locking the earning serialises every reversal of this booking; none yet means not credited,
    # and the credit will count only what is kept (see record_session_earning).
    credited = LedgerEntry.objects.select_for_update().filter(source=f"booking-{booking.pk}-share").first()
    if credited is None or LedgerEntry.objects.filter(source__in=[f"{source}-fee", f"{source}-share"]).exists():
        return None
    # A chargeback's hold-back stands apart (payments.disputes): it must not be "corrected" away here.
    session_entries = LedgerEntry.objects.filter(booking=booking, kind__in=SESSION_KINDS).exclude(
        source__startswith="dispute-"
    )
    totals = session_entries.aggregate(
        mentor=Sum("amount_cents", filter=Q(account=Account.MENTOR)),
        platform=Sum("amount_cents", filter=Q(account=Account.PLATFORM)),
    )
    kept = kept_cents(booking)
    fee = platform_fee_cents(kept)
    common = {"mentor_id": booking.mentor_id, "booking": booking, "refund": refund, "kind": kind}
    fee_change = fee - (totals["platform"] or 0)
    share_change = kept - fee - (totals["mentor"] or 0)
    entry = None
    if fee_change:
        write_once(account=Account.PLATFORM, amount_cents=fee_change, source=f"{source}-fee", **common)
    if share_change:
        entry = write_once(account=Account.MENTOR, amount_cents=share_change, source=f"{source}-share", **common)
    _hold_back_as_well(booking, fee_change=fee_change, share_change=share_change, source=source)
    return entry


def _hold_back_as_well(booking: Booking, *, fee_change: int, share_change: int, source: str) -> None:
    """A chargeback open or lost holds back all its session has credited (payments.disputes), not only what
    was credited when it opened: a refund's change to the credit while it holds (a refund decided before it
    and refused during it gives its money back to the credit; one made on Stripe takes some) is matched in
    the hold-back, so the session stays at nothing credited until the bank decides for us.

    Runs under the lock of the session's earning, as the hold-back itself is written (so neither misses the other).
    """
    holding = Dispute.objects.filter(booking=booking).exclude(outcome=Dispute.Outcome.WON).order_by("pk").first()
    if holding is None:
        return
    # Written even before the hold-back itself is (a chargeback that came before the credit): the hold-back
    # then counts these entries in what it holds back, so the session nets to nothing either way.
    common = {"mentor_id": booking.mentor_id, "booking": booking, "kind": Kind.REFUND}
    for account, change, part in ((Account.PLATFORM, fee_change, "fee"), (Account.MENTOR, share_change, "share")):
        if change:
            write_once(account=account, amount_cents=-change, source=f"dispute-{holding.pk}-{source}-{part}", **common)


def balance_cents(mentor) -> int:
    return LedgerEntry.objects.filter(mentor=mentor, account=Account.MENTOR).aggregate(t=Sum("amount_cents"))["t"] or 0


# What Earnings lists as the mentor's earnings: their entries other than payouts (listed apart).
LISTED = Q(account=Account.MENTOR) & ~Q(kind__in=[Kind.PAYOUT, Kind.PAYOUT_RETURNED])


def earnings_entries(mentor):
    """The entries Earnings lists, newest first, with what each row names."""
    return (
        LedgerEntry.objects.filter(LISTED, mentor=mentor)
        .select_related("booking__service", "booking__mentee", "purchase__service", "purchase__mentee")
        .order_by("-created_at", "-pk")
    )


def summary(mentor) -> dict:
    """Balance, total earnings, fees and how many entries Earnings lists, in one aggregate query."""
    totals = LedgerEntry.objects.filter(mentor=mentor, account=Account.MENTOR).aggregate(
        balance=Sum("amount_cents"),
        earned=Sum(
            "amount_cents",
            filter=Q(kind__in=[Kind.SESSION_SHARE, Kind.REFUND, Kind.REFUND_FAILED, Kind.PACKAGE_EXPIRED]),
        ),
        paid_out=Sum("amount_cents", filter=Q(kind__in=[Kind.PAYOUT, Kind.PAYOUT_RETURNED])),
        listed=Count("pk", filter=LISTED),
    )
    return {
        "balance_cents": totals["balance"] or 0,
        "earned_cents": totals["earned"] or 0,
        "paid_out_cents": -(totals["paid_out"] or 0),
        "listed_entries": totals["listed"],
    }
