"""Chargebacks: Stripe's disputes recorded against our payments, the mentor's share held back while
one is open or lost, and staff and the mentor told.

Events come in any order and more than once. A dispute's state only moves forward (a
closed one never opens again), ledger entries are written once per source, and notices
once per key, so any order of `created`, `updated` and `closed` ends in the same state.
"""

import logging
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone

from mentorship.money import format_cents

from . import gateway, ledger, notices
from .models import Dispute, LedgerEntry, Payment

log = logging.getLogger(__name__)

Outcome, Kind, Account = Dispute.Outcome, LedgerEntry.Kind, LedgerEntry.Account
# Stripe's closed statuses; "warning_closed" is an inquiry that never became a chargeback.
CLOSED = {"won": Outcome.WON, "warning_closed": Outcome.WON, "prevented": Outcome.WON, "lost": Outcome.LOST}


def dispute_sync(obj: dict) -> Dispute | None:
    """Record a dispute from a Stripe `charge.dispute.*` event. None when its charge is not one of ours.

    The event is signed by Stripe; which payment it is on is taken from Stripe's charge, not the event.
    """
    charge_id = obj.get("charge") if isinstance(obj.get("charge"), str) else (obj.get("charge") or {}).get("id")
    intent_id = gateway.charge_payment_intent(charge_id) if charge_id else ""
    payment = Payment.objects.filter(stripe_payment_intent_id=intent_id).first() if intent_id else None
    if payment is None:
        log.warning("Dispute %s is on charge %s, not a payment of ours; ignored", obj.get("id"), charge_id)
        return None
    if obj["currency"].lower() != payment.currency.lower() or obj["amount"] > payment.amount_cents:
        log.warning("Dispute %s does not match payment %s (amount or currency); ignored", obj["id"], payment.pk)
        return None
    outcome = CLOSED.get(obj["status"], Outcome.OPEN)
    with transaction.atomic():
        Payment.objects.select_for_update().get(pk=payment.pk)  # one event of this payment at a time
        dispute = Dispute.objects.filter(stripe_dispute_id=obj["id"]).first()
        opened = dispute is None
        if opened:
            dispute = Dispute(
                payment=payment,
                booking_id=payment.booking_id,
                stripe_dispute_id=obj["id"],
                opened_at=datetime.fromtimestamp(obj["created"], tz=UTC),
            )
        was_open = opened or dispute.outcome == Outcome.OPEN
        if was_open:  # a closed dispute is final: a late `created` or `updated` changes nothing
            dispute.amount_cents = obj["amount"]
            dispute.currency = obj["currency"].lower()
            dispute.reason = (obj.get("reason") or "")[:40]
            dispute.status = obj["status"][:30]
            dispute.outcome = outcome
            if outcome != Outcome.OPEN:
                dispute.closed_at = timezone.now()
            dispute.save()
        dispute_ledger_apply(dispute.pk)
        if opened:
            _tell(dispute, "opened")
        if was_open and dispute.outcome != Outcome.OPEN:
            _tell(dispute, "closed")
    return dispute


def dispute_ledger_apply(dispute_id: int) -> None:
    """Hold back all a disputed session has credited (the mentor's share and the fee); give it back if the
    dispute is won.

    All of it, whatever amount the bank disputes: the session's earning waits for the bank's decision (as the
    mentor is told). What a refund changes in the credit while the dispute holds is held back as well
    (ledger._hold_back_as_well). Safe to run again at any time (e.g. after the session is credited later):
    each entry is written once. A won dispute writes the hold-back and its undoing, so the entries are the
    same whatever order the events came in.
    """
    # Locked, so two runs never write halves of different computations. Only this row: payment confirmation
    # locks the booking before the payment, and dispute_sync holds the payment's lock already.
    dispute = Dispute.objects.select_for_update(of=("self",)).select_related("booking").get(pk=dispute_id)
    booking = dispute.booking
    if booking is None:
        return  # a package payment: no one session to take back; staff decide
    # Then the session's earning, which refunds lock to change its credit: none of their changes lands
    # between reading the credit here and writing its hold-back (nor between summing the hold-back and undoing it).
    if LedgerEntry.objects.select_for_update().filter(source=f"booking-{booking.pk}-share").first() is None:
        return  # nothing credited (yet): nothing to hold back
    source = f"dispute-{dispute.pk}"
    common = {"mentor_id": booking.mentor_id, "booking": booking}
    if not LedgerEntry.objects.filter(source=f"{source}-share").exists():
        credited = _credited(booking, Account.MENTOR, source), _credited(booking, Account.PLATFORM, source)
        if sum(credited) > 0:  # else all of it was refunded already: nothing to hold back
            ledger.write_once(
                account=Account.PLATFORM, kind=Kind.REFUND, amount_cents=-credited[1], source=f"{source}-fee", **common
            )
            ledger.write_once(
                account=Account.MENTOR, kind=Kind.REFUND, amount_cents=-credited[0], source=f"{source}-share", **common
            )
    held = LedgerEntry.objects.filter(source__startswith=f"{source}-").exclude(source__startswith=f"{source}-won-")
    if dispute.outcome == Outcome.WON and held.exists():
        totals = held.aggregate(
            mentor=Sum("amount_cents", filter=Q(account=Account.MENTOR)),
            platform=Sum("amount_cents", filter=Q(account=Account.PLATFORM)),
        )
        ledger.write_once(
            account=Account.PLATFORM,
            kind=Kind.PLATFORM_FEE,
            amount_cents=-(totals["platform"] or 0),
            source=f"{source}-won-fee",
            **common,
        )
        ledger.write_once(
            account=Account.MENTOR,
            kind=Kind.SESSION_SHARE,
            amount_cents=-(totals["mentor"] or 0),
            source=f"{source}-won-share",
            **common,
        )


def disputes_ledger_catch_up(booking_id: int) -> None:
    """After a session is credited: hold back its share if a dispute on it is open or was lost."""
    for dispute_id in Dispute.objects.filter(booking_id=booking_id).values_list("pk", flat=True):
        with transaction.atomic():
            dispute_ledger_apply(dispute_id)


def _credited(booking, account: str, source: str) -> int:
    """What the session has on an account so far, other disputes' entries aside (this one's, matching refunds
    that came before its hold-back, count)."""
    entries = LedgerEntry.objects.filter(booking=booking, account=account, payout__isnull=True)
    entries = entries.exclude(Q(source__startswith="dispute-") & ~Q(source__startswith=f"{source}-"))
    return entries.aggregate(total=Sum("amount_cents"))["total"] or 0


def _tell(dispute: Dispute, event: str) -> None:
    """Every staff member and the session's mentor hear of a dispute opening and of its outcome."""
    booking = dispute.booking
    amount = format_cents(dispute.amount_cents, dispute.currency)
    what = f"booking B-{booking.pk:06d}" if booking else f"package purchase P-{dispute.payment.purchase_id:06d}"
    if event == "opened":
        subject = f"Chargeback opened: {amount} on {what}"
        body = (
            f"The card holder's bank disputed {amount} paid for {what} (reason: {dispute.reason or 'not given'}). "
            "Stripe holds the money until the dispute closes; evidence can be sent from the Stripe dashboard."
        )
    else:
        subject = f"Chargeback {dispute.outcome}: {amount} on {what}"
        body = f"The dispute of {amount} on {what} is closed: {dispute.get_outcome_display()}."
    admin_link = reverse("admin:payments_dispute_change", args=[dispute.pk])
    notices.tell_staff(
        kind=f"dispute_{event}", key=f"dispute-{dispute.pk}-{event}", subject=subject, body=body, link=admin_link
    )
    if booking is None:
        return
    mentor_user = booking.mentor.user
    mentor_user_id = mentor_user.pk
    day = f"{timezone.localtime(booking.start, mentor_user.zone):%d %b %Y}"
    if event == "opened":
        mentor_body = (
            f"The mentee's bank disputed the payment for your session on {day} ({amount}). "
            "Your earning from it is held back until the dispute closes; we will tell you the outcome."
        )
    elif dispute.outcome == Outcome.WON:
        mentor_body = (
            f"The dispute of the payment for your session on {day} was closed in our "
            "favour: your earning from it is back on your balance."
        )
    else:
        mentor_body = (
            f"The bank upheld the dispute of the payment for your session on {day}: "
            "the earning from it stays taken back."
        )
    notices.tell(
        mentor_user_id,
        kind=f"dispute_{event}",
        key=f"dispute-{dispute.pk}-{event}-user-{mentor_user_id}",
        subject="A payment for your session was disputed" if event == "opened" else "A payment dispute was closed",
        body=mentor_body,
        link=reverse("booking_detail", args=[booking.pk]),
    )
