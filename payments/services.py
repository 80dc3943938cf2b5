"""Charging at checkout, payment confirmation (page or webhook) and refunds.

Our row is written and committed before each Stripe call, and the call's
idempotency key comes from that row, so a retry never charges or refunds twice.
"""

import contextlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings import packages
from bookings import services as booking_services
from bookings.models import Booking, Package, PackagePurchase
from mentorship import log_context, outbox
from mentorship.models import MentorProfile
from mentorship.money import format_cents

from . import gateway, ledger
from .models import Dispute, Payment, Refund, StripeCustomer

log = logging.getLogger(__name__)


class CheckoutError(Exception):
    """Checkout cannot go on; the message is for the mentee."""

    def __init__(self, message: str, *, hold_lost: bool = False):
        super().__init__(message)
        self.hold_lost = hold_lost


class RefundFailed(Exception):
    """Stripe did not take a refund; the job retries it."""


HOLD_LOST = "Your hold on this time ran out and the time is no longer reserved. Please pick a time again."


def customer_for(user) -> str:
    existing = StripeCustomer.objects.filter(user=user).first()
    if existing:
        return existing.customer_id
    customer_id = gateway.create_customer(email=user.email, name=str(user), user_id=user.pk)
    # A parallel request may have stored it already: same idempotency key, so the same customer.
    with contextlib.suppress(IntegrityError):
        StripeCustomer.objects.create(user=user, customer_id=customer_id)
    return customer_id


def _payable(mentee, *, booking_id: int | None = None, purchase_id: int | None = None) -> Booking | PackagePurchase:
    """What this checkout pays for, locked: a held booking or a package purchase awaiting payment."""
    if purchase_id is None:
        return _payable_booking(booking_id, mentee)
    purchase = PackagePurchase.objects.select_for_update().filter(pk=purchase_id, mentee=mentee).first()
    if purchase is None:
        raise CheckoutError("We found no such package purchase.")
    if purchase.status == PackagePurchase.Status.PAID:
        raise CheckoutError("This package is already paid for.")
    if purchase.status != PackagePurchase.Status.AWAITING_PAYMENT:
        raise CheckoutError(PURCHASE_CLOSED, hold_lost=True)
    package = Package.objects.select_related("service", "mentor").get(pk=purchase.package_id)
    if not (package.is_active and package.service.is_active and package.mentor.is_approved):
        raise CheckoutError("This package is no longer on offer, so we did not charge you.", hold_lost=True)
    return purchase


NOTHING_TO_PAY = "This session is free, so there is nothing to pay."
PURCHASE_CLOSED = "This purchase was left unpaid for too long and is closed. Please choose the package again."


def _payable_booking(booking_id: int, mentee) -> Booking:
    booking = Booking.objects.select_for_update().get(pk=booking_id, mentee=mentee)
    if booking.is_free:  # never charged: booked without a checkout (bookings.services.booking_hold)
        raise CheckoutError(NOTHING_TO_PAY)
    if booking.status != Booking.Status.HELD:
        if booking.payments.filter(status=Payment.Status.SUCCEEDED).exists():
            raise CheckoutError("This session is already paid for.")
        raise CheckoutError(HOLD_LOST, hold_lost=True)
    if booking.hold_expires_at <= timezone.now():
        raise CheckoutError(HOLD_LOST, hold_lost=True)
    return booking


def checkout_setup(*, mentee, booking_id: int | None = None, purchase_id: int | None = None) -> str:
    """Check the booking's hold (or the purchase) is still good and return a SetupIntent secret for the card form."""
    with transaction.atomic():
        paid_for = _payable(mentee, booking_id=booking_id, purchase_id=purchase_id)
        # No new card while the last attempt's outcome is unknown: it may have been charged.
        if paid_for.payments.filter(status=Payment.Status.PROCESSING).exists():
            raise CheckoutError(STILL_CHECKING)
    try:
        return gateway.create_setup_intent(customer_id=customer_for(mentee))
    except gateway.GatewayError as error:
        raise CheckoutError(str(error)) from error


def checkout_pay(
    *, mentee, payment_method_id: str, booking_id: int | None = None, purchase_id: int | None = None
) -> Payment:
    """Charge the card the page just set up. Declines raise CheckoutError and keep the hold.

    When Stripe does not answer in time the attempt stays processing (it may have been charged):
    payments.stuck asks Stripe again within minutes, with the same idempotency key.
    """
    if booking_id is not None and purchase_id is None:
        free = Booking.objects.filter(pk=booking_id, mentee=mentee, price_cents=0, package_purchase__isnull=True)
        if free.exists():  # before any word with Stripe: a free session never reaches it
            raise CheckoutError(NOTHING_TO_PAY)
    try:
        _check_own_card(mentee, payment_method_id)
        _give_up_unfinished_authentication(booking_id=booking_id, purchase_id=purchase_id)
    except gateway.GatewayError as error:
        raise CheckoutError(str(error)) from error
    with transaction.atomic():
        paid_for = _payable(mentee, booking_id=booking_id, purchase_id=purchase_id)
        if paid_for.payments.filter(status=Payment.Status.SUCCEEDED).exists():
            raise CheckoutError("This is already paid for.")
        if paid_for.payments.filter(status__in=Payment.IN_FLIGHT).exists():
            raise CheckoutError(STILL_CHECKING)
        payment = Payment.objects.create(
            booking_id=booking_id if purchase_id is None else None,
            purchase_id=purchase_id,
            amount_cents=paid_for.price_cents,
            currency=paid_for.currency,
            payment_method_id=payment_method_id,
        )
    try:
        return charge_send(payment, mentee=mentee)
    except gateway.OutcomeUnknown as error:
        log.warning("No answer from Stripe for payment %s; it stays processing until asked again", payment.pk)
        raise CheckoutError(CHARGE_UNKNOWN) from error
    except gateway.GatewayError as error:
        # If Stripe charged after all, its webhook finds this row and the money is kept or refunded.
        payment_failed(payment.pk, str(error))
        raise CheckoutError(str(error)) from error


NOT_YOUR_CARD = (
    "That card is not saved to your account, so we did not charge it. Enter your card details, then press Pay."
)


def _check_own_card(mentee, payment_method_id: str) -> None:
    """Only the payer's own card is charged: the one saved for them, or one Stripe keeps under their customer.

    A card id is no secret once seen (in a page, a log or a screenshot), and Stripe would charge another
    customer's card to this checkout if asked to.
    """
    saved = saved_card(mentee)
    if saved is not None and saved.saved_payment_method_id == payment_method_id:
        return
    if gateway.payment_method_owner(payment_method_id) != customer_for(mentee):
        log.warning("User %s tried to pay with a card saved to another customer", mentee.pk)
        raise CheckoutError(NOT_YOUR_CARD)


STILL_CHECKING = (
    "We are still checking your last payment attempt with our payment provider. This takes at most a few "
    "minutes and you are never charged twice: please look at your booking again in a few minutes."
)
CHARGE_UNKNOWN = (
    "Our payment provider did not answer in time, so we do not know yet whether your card was charged. "
    "We check again within a few minutes and you are never charged twice; please look at your booking "
    "again in a few minutes."
)


def charge_send(payment: Payment, *, mentee) -> Payment:
    """Ask Stripe to charge a payment row and apply its answer.

    The same row always sends the same request under the same idempotency key, so sending it
    again after an answer was lost returns the first charge instead of making a second one.
    """
    for_what = (
        {"package_purchase_id": str(payment.purchase_id)}
        if payment.purchase_id
        else {"booking_id": str(payment.booking_id)}
    )
    result = gateway.charge(
        payment_id=payment.pk,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        customer_id=customer_for(mentee),
        payment_method_id=payment.payment_method_id,
        metadata=for_what,
    )
    Payment.objects.filter(pk=payment.pk).update(
        stripe_payment_intent_id=result.payment_intent_id, card_brand=result.card_brand, card_last4=result.card_last4
    )
    if result.status == "succeeded" and result.card_last4:
        StripeCustomer.objects.filter(user=mentee).update(
            saved_payment_method_id=payment.payment_method_id,
            saved_card_brand=result.card_brand,
            saved_card_last4=result.card_last4,
        )
    return _apply_intent_status(payment.pk, result)


def saved_card(user) -> StripeCustomer | None:
    """The card a returning mentee paid with last time, if any."""
    return StripeCustomer.objects.filter(user=user).exclude(saved_payment_method_id="").first()


def _payments_of(*, booking_id: int | None, purchase_id: int | None):
    return (
        Payment.objects.filter(purchase_id=purchase_id)
        if purchase_id
        else Payment.objects.filter(booking_id=booking_id)
    )


def _give_up_unfinished_authentication(*, booking_id: int | None, purchase_id: int | None) -> None:
    """A mentee who left 3-D Secure half-way may pay with another card: cancel the old attempt first."""
    unfinished = _payments_of(booking_id=booking_id, purchase_id=purchase_id).filter(
        status=Payment.Status.REQUIRES_ACTION
    )
    for payment in unfinished:
        try:
            result = gateway.cancel_payment_intent(payment.stripe_payment_intent_id)
        except gateway.GatewayError:
            result = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
        _apply_intent_status(payment.pk, result)


def checkout_after_authentication(*, mentee, booking_id: int | None = None, purchase_id: int | None = None) -> Payment:
    """Re-read the payment from Stripe after the page ran 3-D Secure."""
    mine = Q(purchase__mentee=mentee) if purchase_id else Q(booking__mentee=mentee)
    payment = _payments_of(booking_id=booking_id, purchase_id=purchase_id).filter(mine).order_by("-pk").first()
    if payment is None or not payment.stripe_payment_intent_id:
        raise CheckoutError("We found no payment to check. Please try again.")
    try:
        result = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
    except gateway.GatewayError as error:
        raise CheckoutError(str(error)) from error
    payment = _apply_intent_status(payment.pk, result)
    if payment.status == Payment.Status.FAILED:
        raise CheckoutError(payment.failure_message)
    return payment


def authentication_secret(payment: Payment) -> str:
    """The client secret the page needs to run 3-D Secure for this payment."""
    try:
        return gateway.retrieve_payment_intent(payment.stripe_payment_intent_id).client_secret
    except gateway.GatewayError as error:
        raise CheckoutError(str(error)) from error


def _apply_intent_status(payment_id: int, result: gateway.ChargeResult) -> Payment:
    if result.status == "succeeded":
        return payment_succeeded(payment_id)
    if result.status == "requires_action":
        Payment.objects.filter(pk=payment_id, status=Payment.Status.PROCESSING).update(
            status=Payment.Status.REQUIRES_ACTION
        )
    elif result.status in ("requires_payment_method", "canceled"):
        payment_failed(payment_id, "The card could not be authenticated. Please try again or use another card.")
    return Payment.objects.get(pk=payment_id)


@log_context.about(payment_id="payment_id")
def payment_succeeded(payment_id: int) -> Payment:
    """Money arrived (from the page or the webhook, in any order): the booking goes to pending once.

    The payment and the booking change in one transaction, so a crash never leaves a
    charge without its booking. Money that cannot buy the time (a second charge, or a
    time taken after the hold ran out) is refunded by a job that retries.
    """
    Status = Booking.Status
    if Payment.objects.filter(pk=payment_id, purchase__isnull=False).exists():
        return _package_payment_succeeded(payment_id)
    with transaction.atomic():
        payment = Payment.objects.select_related("booking").get(pk=payment_id)
        log_context.bind(booking_id=payment.booking_id)
        # Locks in the order every booking path takes them: mentor, booking, payment.
        MentorProfile.objects.select_for_update().get(pk=payment.booking.mentor_id)
        booking = Booking.objects.select_for_update().get(pk=payment.booking_id)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        newly_paid = _mark_succeeded(payment)
        already_paid = booking.payments.filter(status=Payment.Status.SUCCEEDED).exclude(pk=payment.pk).exists()
        if newly_paid and booking.package_purchase_id:
            log.warning(
                "Payment %s arrived for booking %s already paid with a credit; refunding", payment.pk, booking.pk
            )
            _refund_on_commit(payment, "duplicate")
        elif newly_paid and already_paid:
            log.warning("Payment %s is a second charge for booking %s; refunding it", payment.pk, booking.pk)
            _refund_on_commit(payment, "duplicate")
        elif booking.status in (Status.HELD, Status.ABANDONED) and payment.refunded_cents():
            # Refunded on Stripe (the dashboard) before it reached us: it buys no time, and the rest goes back too.
            log.warning(
                "Payment %s for booking %s arrived already refunded; refunding the rest", payment.pk, booking.pk
            )
            _refund_on_commit(payment, "refunded_before_paid")
        elif booking.status in (Status.HELD, Status.ABANDONED):
            try:
                with transaction.atomic():
                    booking_services.booking_mark_paid(booking.pk)
            except booking_services.BookingError:
                log.warning("Payment %s arrived for booking %s whose time is gone; refunding", payment.pk, booking.pk)
                _refund_on_commit(payment, "time_taken")
    return payment


def _mark_succeeded(payment: Payment) -> bool:
    """Record the locked payment as succeeded; True if it was not already."""
    if payment.status == Payment.Status.SUCCEEDED:
        return False
    payment.status = Payment.Status.SUCCEEDED
    payment.failure_message = ""
    payment.save(update_fields=["status", "failure_message", "updated_at"])
    return True


def _package_payment_succeeded(payment_id: int) -> Payment:
    """A package is paid: its credits start, once; a second charge for it is refunded."""
    with transaction.atomic():
        purchase_id = Payment.objects.values_list("purchase_id", flat=True).get(pk=payment_id)
        PackagePurchase.objects.select_for_update().get(pk=purchase_id)  # purchase, then payment
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        newly_paid = _mark_succeeded(payment)
        others = Payment.objects.filter(purchase_id=purchase_id, status=Payment.Status.SUCCEEDED).exclude(pk=payment.pk)
        if newly_paid and others.exists():
            log.warning("Payment %s is a second charge for package purchase %s; refunding it", payment.pk, purchase_id)
            _refund_on_commit(payment, "duplicate")
        elif not payment.refunded_cents() and not packages.purchase_mark_paid(purchase_id) and newly_paid:
            log.warning(
                "Payment %s for package purchase %s came after an account was deleted; refunding",
                payment.pk,
                purchase_id,
            )
            _refund_on_commit(payment, "account_closed")
    return payment


def _refund_on_commit(payment: Payment, reason: str) -> None:
    """Refund what is left of a payment locked by the caller: the row is written now, in the caller's
    transaction, so from its commit on the payment counts as refunded and can buy nothing; the outbox
    sends it to Stripe after commit (and refunds_retry would, if even that were lost)."""
    refund = _create_refund(payment, payment.amount_cents, reason)
    if refund is not None:
        outbox.record("payments.refund_decided", refund_id=refund.pk)


def payment_failed(payment_id: int, message: str) -> None:
    Payment.objects.filter(pk=payment_id, status__in=Payment.IN_FLIGHT).update(
        status=Payment.Status.FAILED, failure_message=message[:300]
    )


def _create_refund(payment: Payment, amount_cents: int, reason: str, **fields) -> Refund | None:
    """The one place a Refund row is made: `payment` must be locked (select_for_update) by the caller.

    The amount is capped at what is left of the payment, so refunds never add up to more than was
    charged whoever asks, in any order, on any retry; None (and no row) when nothing is left. The
    ledger follows in the same transaction.
    """
    if payment.status != Payment.Status.SUCCEEDED:
        log.warning("Refund of payment %s (%s) asked for; nothing was charged", payment.pk, payment.status)
        return None
    if reason != OUTSIDE_APP and _disputed(payment):
        log.warning("Refund of payment %s asked for while its charge is disputed; the dispute decides", payment.pk)
        return None
    left = payment.amount_cents - payment.refunded_cents()
    amount = min(amount_cents, left)
    if amount <= 0:
        return None
    refund = Refund.objects.create(payment=payment, amount_cents=amount, reason=reason, **fields)
    if payment.refunded_cents() > payment.amount_cents:  # the cap above, checked again under the lock
        raise RuntimeError(f"Payment {payment.pk} would be refunded beyond its charge")
    ledger.record_refund(refund.pk)
    return refund


def _disputed(payment: Payment) -> bool:
    """A chargeback is open or was lost: the bank decides where this money goes, and Stripe refuses refunds."""
    return payment.disputes.exclude(outcome=Dispute.Outcome.WON).exists()


def _locked_payment(payment_id: int) -> Payment:
    return Payment.objects.select_for_update().get(pk=payment_id)


def refund_payment(payment: Payment, *, amount_cents: int, reason: str) -> Refund:
    """Refund part or all of a payment, exactly `amount_cents`: ValueError if that is more than is left.

    A refund Stripe refuses comes back failed (failure_message says why); RefundFailed if Stripe could
    not be reached (the row waits and is sent again).
    """
    with transaction.atomic():
        payment = _locked_payment(payment.pk)
        remaining = payment.amount_cents - payment.refunded_cents()
        if payment.status != Payment.Status.SUCCEEDED or not 0 < amount_cents <= remaining:
            raise ValueError(f"Cannot refund {amount_cents} of payment {payment.pk}: {remaining} left to refund.")
        refund = _create_refund(payment, amount_cents, reason)
        if refund is None:
            raise ValueError(f"Payment {payment.pk} is disputed: the bank decides where its money goes.")
    return _send_refund(refund)


# Stripe's answers that mean it looked at the request and said no, so nothing happened (unlike no
# answer, or its own 5xx, after which it may have): read from the SDK error the gateway wraps.
REFUSED_STATUSES = (400, 402, 404)


def stripe_refused(error: gateway.GatewayError) -> bool:
    return getattr(error.__cause__, "http_status", None) in REFUSED_STATUSES


def stripe_reason(error: gateway.GatewayError) -> str:
    """Stripe's own words for a refusal, for staff (the gateway's message is written for users)."""
    return getattr(error.__cause__, "user_message", None) or str(error)


# How long a worker's claim to send a refund holds: far longer than a Stripe call may take, after
# which a worker that died holding it is taken over.
SEND_LEASE = timedelta(minutes=2)


def _send_refund(refund: Refund, *, now=None) -> Refund:
    """Send one refund row to Stripe under its own idempotency key and record the answer.

    Claimed first by a conditional UPDATE: a row another worker is sending is left to it. Refused by
    Stripe: the row is failed with the reason, and what it took back in the ledger is restored.
    Stripe not reached (or no answer): RefundFailed, the row waits as it is for a retry.
    """
    now = now or timezone.now()
    claimed = (
        Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING, stripe_refund_id="")
        .filter(Q(send_claimed_at__isnull=True) | Q(send_claimed_at__lte=now - SEND_LEASE))
        .update(send_claimed_at=now)
    )
    if not claimed:  # sent already, or being sent right now
        refund.refresh_from_db()
        return refund
    try:
        stripe_id, status = gateway.refund(
            refund_id=refund.pk,
            payment_intent_id=refund.payment.stripe_payment_intent_id,
            amount_cents=refund.amount_cents,
        )
    except gateway.GatewayError as error:
        if not stripe_refused(error):
            Refund.objects.filter(pk=refund.pk, stripe_refund_id="").update(send_claimed_at=None)
            raise RefundFailed(f"Refund {refund.pk} did not reach Stripe") from error
        log.warning("Stripe refused refund %s: %s", refund.pk, stripe_reason(error))
        _refund_refused(refund, stripe_reason(error))
    else:
        new_status = {"succeeded": Refund.Status.SUCCEEDED, "failed": Refund.Status.FAILED}.get(
            status, Refund.Status.PENDING
        )
        Refund.objects.filter(pk=refund.pk, stripe_refund_id="").update(stripe_refund_id=stripe_id, status=new_status)
        if new_status == Refund.Status.FAILED:
            _refund_refused(refund, "Stripe reported the refund failed.")
    refund.refresh_from_db()
    return refund


def _refund_refused(refund: Refund, reason: str) -> None:
    with transaction.atomic():
        _locked_payment(refund.payment_id)
        failed = Refund.objects.filter(pk=refund.pk).exclude(status=Refund.Status.SUCCEEDED)
        if failed.update(status=Refund.Status.FAILED, failure_message=reason[:300]):
            ledger.record_refund_failed(refund.pk)


def _send_unsent(payment_id: int) -> None:
    """Send every refund of a payment that has not reached Stripe yet (this one's, or an earlier attempt's)."""
    for unsent in Refund.objects.filter(payment_id=payment_id, status=Refund.Status.PENDING, stripe_refund_id=""):
        _send_refund(unsent)


@log_context.about(refund_id="refund_id")
def refund_send(refund_id: int) -> Refund:
    """Send a refund row decided earlier, unless it has been sent already. Safe to run twice."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    log_context.bind(payment_id=refund.payment_id)
    if refund.status == Refund.Status.PENDING and not refund.stripe_refund_id:
        return _send_refund(refund)
    return refund


GRANTABLE = (Booking.Status.CONFIRMED, Booking.Status.COMPLETED, Booking.Status.CANCELLED)


def refundable_cents(booking: Booking) -> int:
    payments = Payment.objects.filter(booking=booking, status=Payment.Status.SUCCEEDED)
    return sum(p.amount_cents - p.refunded_cents() for p in payments)


def refund_grant(*, booking_id: int, actor, amount_cents: int) -> Refund:
    """A mentor gives back part or all of what was paid (e.g. after the cancellation window)."""
    booking = Booking.objects.select_related("mentor").get(pk=booking_id)
    if booking.mentor.user_id != actor.pk:
        raise CheckoutError("Only the mentor of this booking can give a refund.")
    if booking.status not in GRANTABLE:
        raise CheckoutError("This booking has no payment you can refund from here.")
    if booking.rebook_until is not None:
        raise CheckoutError(
            f"{booking.mentee} is choosing between a new time and a full refund, so there is nothing to give back yet."
        )
    payment = Payment.objects.filter(booking=booking, status=Payment.Status.SUCCEEDED).order_by("pk").first()
    if payment is not None and _disputed(payment):
        raise CheckoutError(
            "The mentee's bank is reviewing a dispute about this payment, so it can't be refunded here: "
            "the dispute decides where the money goes."
        )
    left = refundable_cents(booking)
    if payment is None or not 0 < amount_cents <= left:
        raise CheckoutError(f"You can refund between $0.01 and {format_cents(left, booking.currency)}.")
    try:
        refund = refund_payment(payment, amount_cents=amount_cents, reason="granted_by_mentor")
    except ValueError:
        raise CheckoutError("That is more than is left to refund.") from None
    if refund.status == Refund.Status.FAILED:  # refused: recorded, and refunds_retry tries it again
        raise RefundFailed(f"Stripe refused refund {refund.pk}: {refund.failure_message}")
    return refund


def refund_payment_in_full(payment_id: int, *, reason: str) -> Refund | None:
    """Give back what is left of one payment; running it twice refunds once.

    The row is written first (capped at what is left), then every unsent refund of the payment is sent.
    """
    refund = _decide_full_refund(payment_id, reason)
    _send_unsent(payment_id)
    if refund is not None:
        refund.refresh_from_db()
    return refund


# More than any payment: "whatever is left", capped by _create_refund.
MAX_CENTS = 2**31 - 1


def _decide_full_refund(payment_id: int, reason: str) -> Refund | None:
    with transaction.atomic():
        return _create_refund(_locked_payment(payment_id), MAX_CENTS, reason)


def refund_booking_in_full(booking_id: int, *, reason: str) -> list[Refund]:
    """Give back everything not yet refunded on a booking. Running it twice refunds once.

    Every row is written before any is sent, so Stripe being down loses none of them (RefundFailed,
    and refunds_retry sends them).
    """
    payment_ids = list(
        Payment.objects.filter(booking_id=booking_id, status=Payment.Status.SUCCEEDED).values_list("pk", flat=True)
    )
    refunds = [refund for pk in payment_ids if (refund := _decide_full_refund(pk, reason)) is not None]
    not_sent = None
    for payment_id in payment_ids:
        try:
            _send_unsent(payment_id)
        except RefundFailed as error:
            not_sent = error
    if not_sent is not None:
        raise not_sent
    for refund in refunds:
        refund.refresh_from_db()
    return refunds


def credit_returned(booking_id: int) -> Refund | None:
    """A package credit came back. Any earning from it is taken back; if the package had expired by then,
    the credit can't be used again, so its value is refunded to the card that bought the package."""
    ledger.reverse_credit_earning(booking_id)
    booking = Booking.objects.select_related("package_purchase").get(pk=booking_id)
    purchase = booking.package_purchase
    if not (booking.credit_returned and booking.credit_returned_at >= purchase.expires_at):
        return None
    payment = Payment.objects.filter(purchase=purchase, status=Payment.Status.SUCCEEDED).order_by("pk").first()
    if payment is None:
        return None
    source = f"credit-after-expiry-{booking.pk}"
    with transaction.atomic():
        payment = _locked_payment(payment.pk)
        done = payment.refunds.filter(reason=source).exists()
        refund = None if done else _create_refund(payment, booking.price_cents, source)
    _send_unsent(payment.pk)
    if refund is not None:
        refund.refresh_from_db()
    return refund


RETRY_AFTER = timedelta(minutes=5)
MAX_REFUND_ATTEMPTS = 3


def refunds_retry(*, now=None) -> int:
    """Send refunds that never reached Stripe, and try again those Stripe refused or failed, each for no
    more than is left of its payment at that moment. Safe to run twice."""
    now = now or timezone.now()
    sent = 0
    unsent = Refund.objects.filter(status=Refund.Status.PENDING, stripe_refund_id="", created_at__lte=now - RETRY_AFTER)
    for refund in unsent.select_related("payment"):
        with contextlib.suppress(RefundFailed):
            sent += _send_refund(refund, now=now).stripe_refund_id != ""
    for failed_id in _failed_refunds_to_retry().values_list("pk", flat=True):
        retry = _retry_failed_refund(failed_id)
        if retry is not None:
            with contextlib.suppress(RefundFailed):
                sent += _send_refund(retry, now=now).stripe_refund_id != ""
    return sent


OUTSIDE_APP = "outside_app"  # the reason of a refund made on Stripe itself (the dashboard), not by us
STRIPE_REFUND_STATUS = {
    "succeeded": Refund.Status.SUCCEEDED,
    "failed": Refund.Status.FAILED,
    "canceled": Refund.Status.FAILED,
}


def _failed_refunds_to_retry():
    """Failed refunds not yet retried, on payments that still have something left to refund."""
    given_back = (
        Refund.objects.filter(payment=OuterRef("payment"))
        .exclude(status=Refund.Status.FAILED)
        .values("payment")
        .annotate(total=Sum("amount_cents"))
        .values("total")
    )
    return (
        Refund.objects.filter(
            status=Refund.Status.FAILED, retried_by__isnull=True, attempt__lt=MAX_REFUND_ATTEMPTS
        )  # past the last attempt, reconciliation reports it to staff
        .exclude(reason=OUTSIDE_APP)  # made on Stripe by a person: not ours to try again
        .annotate(left=F("payment__amount_cents") - Coalesce(Subquery(given_back), 0))
        .filter(left__gt=0)
        .order_by("pk")
    )


def _retry_failed_refund(failed_id: int) -> Refund | None:
    """A new refund for a failed one (a new idempotency key), capped at what is left now; None if nothing is."""
    with transaction.atomic():
        payment_id = Refund.objects.values_list("payment_id", flat=True).get(pk=failed_id)
        payment = _locked_payment(payment_id)
        failed = Refund.objects.select_for_update().get(pk=failed_id)
        if failed.status != Refund.Status.FAILED or Refund.objects.filter(retry_of=failed).exists():
            return None
        # Its failure may have come from Stripe's side (refund_sync): give the ledger back first.
        ledger.record_refund_failed(failed.pk)
        return _create_refund(payment, failed.amount_cents, failed.reason, retry_of=failed, attempt=failed.attempt + 1)


def refund_sync(stripe_refund_id: str) -> Refund | None:
    """Take a refund from Stripe (after a webhook said it changed): ours gets Stripe's status, and one made
    outside the app is recorded. None when the refund is not on a payment of ours."""
    refund, _ = _refund_from_stripe(gateway.refund_facts(stripe_refund_id))
    return refund


def payment_refunds_sync(payment_intent_id: str) -> list[Refund]:
    """Record every refund Stripe holds for one of our payments that we did not know; returns those."""
    recorded = []
    for facts in gateway.refunds_of(payment_intent_id):
        refund, new = _refund_from_stripe(facts)
        if new:
            recorded.append(refund)
    return recorded


def _refund_from_stripe(facts: gateway.RefundFacts) -> tuple[Refund | None, bool]:
    """(our row for Stripe's refund, whether it was recorded just now)."""
    status = STRIPE_REFUND_STATUS.get(facts.status, Refund.Status.PENDING)
    payment = Payment.objects.filter(stripe_payment_intent_id=facts.payment_intent_id).first()
    known = Refund.objects.filter(stripe_refund_id=facts.refund_id).first()
    if known is None and payment is None:
        log.warning("Refund %s is not on a payment of ours (%s); ignored", facts.refund_id, facts.payment_intent_id)
        return None, False
    if known is not None:
        return _take_status(known, status), False
    if facts.currency.lower() != payment.currency.lower():
        log.warning(
            "Refund %s is in %s, payment %s in %s; ignored",
            facts.refund_id,
            facts.currency,
            payment.pk,
            payment.currency,
        )
        return None, False
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)  # one writer of this payment's refunds
        known = Refund.objects.filter(stripe_refund_id=facts.refund_id).first()
        if known is not None:  # another delivery recorded it meanwhile
            return _take_status(known, status), False
        ours = payment.refunds.filter(pk=_int(facts.metadata.get("refund_id")), stripe_refund_id="").first()
        if ours is not None:  # ours reached Stripe but its id was never stored (a crash after the call)
            Refund.objects.filter(pk=ours.pk).update(stripe_refund_id=facts.refund_id, status=status)
            ours.refresh_from_db()
            return ours, False
        left = payment.amount_cents - payment.refunded_cents()
        # Never more than was charged on our books, even if Stripe let more through.
        amount = min(facts.amount, payment.amount_cents if status == Refund.Status.FAILED else left)
        if amount <= 0:
            log.warning("Refund %s of payment %s is beyond what was charged; not recorded", facts.refund_id, payment.pk)
            return None, False
        if amount < facts.amount:
            log.warning("Refund %s of payment %s capped at %s of %s", facts.refund_id, payment.pk, amount, facts.amount)
        refund = Refund.objects.create(
            payment=payment, amount_cents=amount, reason=OUTSIDE_APP, status=status, stripe_refund_id=facts.refund_id
        )
        if status != Refund.Status.FAILED:
            ledger.record_refund(refund.pk)
    log.warning(
        "Refund %s of payment %s was made outside the app; recorded as refund %s",
        facts.refund_id,
        payment.pk,
        refund.pk,
    )
    return refund, True


def _take_status(refund: Refund, status: str) -> Refund:
    """Stripe's word on a refund we know. One that fails after it was counted gives the ledger back what it
    took (once per refund), whoever made it: a refund made outside the app is not retried by us."""
    with transaction.atomic():
        _locked_payment(refund.payment_id)
        before = Refund.objects.values_list("status", flat=True).get(pk=refund.pk)
        Refund.objects.filter(pk=refund.pk).update(status=status)
        if status == Refund.Status.FAILED and before != Refund.Status.FAILED:
            ledger.record_refund_failed(refund.pk)
    refund.refresh_from_db()
    return refund


def _int(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


def intent_mismatch(payment: Payment, facts: gateway.IntentFacts) -> str:
    """Why Stripe's PaymentIntent is not the one our payment row made, or "" if it is.

    Another environment sharing the Stripe account numbers its payments as we do, so
    `metadata.payment_id` alone proves nothing: amount, currency, customer and our
    environment's name must agree as well.
    """
    payer_id = payment.booking.mentee_id if payment.booking_id else payment.purchase.mentee_id
    customer = StripeCustomer.objects.filter(user_id=payer_id).values_list("customer_id", flat=True).first()
    environment = facts.metadata.get("environment")
    if environment is None and payment.stripe_payment_intent_id == facts.payment_intent_id:
        # Charged before intents named their environment: the id our row stored from our own call proves it ours.
        environment = settings.STRIPE_IDEMPOTENCY_PREFIX
    checks = [
        ("intent", payment.stripe_payment_intent_id or facts.payment_intent_id, facts.payment_intent_id),
        ("payment_id", str(payment.pk), facts.metadata.get("payment_id", "")),
        ("environment", settings.STRIPE_IDEMPOTENCY_PREFIX, environment or ""),
        ("amount", payment.amount_cents, facts.amount),
        ("currency", payment.currency.lower(), facts.currency.lower()),
        ("customer", customer, facts.customer),
    ]
    return ", ".join(f"{name} ours {ours!r}, Stripe {theirs!r}" for name, ours, theirs in checks if ours != theirs)


@log_context.about()
def payment_sync(intent_id: str) -> Payment | None:
    """Take a payment's status from Stripe: the event is not trusted (it may be late, repeated or from another
    environment), so the intent is read again and must match our row; a mismatch is logged and changes nothing.
    Refunds already made on Stripe are recorded first, so a refunded payment never makes its booking pending."""
    facts = gateway.payment_intent_facts(intent_id)
    payment = Payment.objects.filter(stripe_payment_intent_id=intent_id).first()
    if payment is None and _int(facts.metadata.get("payment_id")):
        payment = Payment.objects.filter(pk=_int(facts.metadata["payment_id"])).first()
    if payment is None:
        log.warning("Webhook for unknown PaymentIntent %s", intent_id)
        return None
    log_context.bind(payment_id=payment.pk, booking_id=payment.booking_id)
    problem = intent_mismatch(payment, facts)
    if problem:
        log.warning("PaymentIntent %s does not match payment %s (%s); ignored", intent_id, payment.pk, problem)
        return None
    Payment.objects.filter(pk=payment.pk, stripe_payment_intent_id="").update(stripe_payment_intent_id=intent_id)
    if facts.amount_refunded:
        payment_refunds_sync(intent_id)
    return _apply_intent_status(payment.pk, facts.as_result())
