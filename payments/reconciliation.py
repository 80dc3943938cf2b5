"""Comparing our payments and refunds with Stripe's, and putting right what can be put right.

Run daily by beat and by hand (`manage.py reconcile_payments`). It takes Stripe's
word for each payment and refund we know, records refunds made on Stripe that we
did not know, refunds any succeeded charge whose booking no longer holds a time,
and reports every mismatch it saw.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from bookings.models import Booking

from . import gateway, services
from .models import Payment, Refund

log = logging.getLogger(__name__)

# Bookings whose money should have gone back in full: no time is held for it any more.
NOT_LIVE = (Booking.Status.ABANDONED, Booking.Status.DECLINED, Booking.Status.EXPIRED)
STRIPE_TO_OURS = {"succeeded": Payment.Status.SUCCEEDED, "requires_action": Payment.Status.REQUIRES_ACTION}


@dataclass
class Report:
    checked_payments: int = 0
    checked_refunds: int = 0
    mismatches: list[str] = field(default_factory=list)
    refunded: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"Checked {self.checked_payments} payments and {self.checked_refunds} refunds with Stripe.",
            *(f"Mismatch: {line}" for line in self.mismatches),
            *(f"Refunded: {line}" for line in self.refunded),
        ]


def reconcile(*, days: int = 30) -> Report:
    report = Report()
    since = timezone.now() - timedelta(days=days)
    for payment in Payment.objects.filter(created_at__gte=since).exclude(stripe_payment_intent_id=""):
        report.checked_payments += 1
        try:
            on_stripe = gateway.payment_intent_facts(payment.stripe_payment_intent_id)
            problem = services.intent_mismatch(payment, on_stripe)
            if problem:  # not ours to act on: a person must look
                report.mismatches.append(f"payment {payment.pk}: Stripe's intent differs ({problem})")
                continue
            # Refunds made on Stripe that we never heard of (the dashboard, a lost webhook): recorded first,
            # so the status sync below sees them.
            recorded = (
                services.payment_refunds_sync(payment.stripe_payment_intent_id) if on_stripe.amount_refunded else []
            )
            for refund in recorded:
                report.mismatches.append(
                    f"payment {payment.pk}: refund {refund.stripe_refund_id} of {refund.amount_cents} on Stripe "
                    f"was not ours; recorded as refund {refund.pk}"
                )
            ours = payment.status
            if STRIPE_TO_OURS.get(on_stripe.status, Payment.Status.FAILED) != ours:
                report.mismatches.append(f"payment {payment.pk}: ours {ours}, Stripe {on_stripe.status}")
                services.payment_sync(payment.stripe_payment_intent_id)
        except gateway.GatewayError as error:
            report.mismatches.append(
                f"payment {payment.pk}: could not read {payment.stripe_payment_intent_id} ({error})"
            )
    for payment in Payment.objects.filter(status=Payment.Status.SUCCEEDED, booking__status__in=NOT_LIVE):
        left = payment.amount_cents - payment.refunded_cents()
        if left <= 0:
            continue
        try:  # the row is written first: if Stripe can't be reached now, refunds_retry sends it
            services.refund_payment(payment, amount_cents=left, reason="reconciliation")
        except (services.RefundFailed, ValueError) as error:
            report.mismatches.append(f"payment {payment.pk}: refund of {left} cents not sent yet ({error})")
            continue
        report.refunded.append(
            f"payment {payment.pk}: {left} cents for booking {payment.booking_id} ({payment.booking.status})"
        )
    for refund in Refund.objects.filter(created_at__gte=since).exclude(stripe_refund_id=""):
        report.checked_refunds += 1
        before = refund.status
        try:
            after = services.refund_sync(refund.stripe_refund_id)
        except gateway.GatewayError as error:
            report.mismatches.append(f"refund {refund.pk}: could not read {refund.stripe_refund_id} ({error})")
            continue
        if after is not None and after.status != before:
            report.mismatches.append(f"refund {refund.pk}: ours {before}, Stripe {after.status}")
    for refund in Refund.objects.filter(status=Refund.Status.FAILED, attempt__gte=services.MAX_REFUND_ATTEMPTS):
        report.mismatches.append(f"refund {refund.pk}: failed {refund.attempt} times; a person must look at it")
    for line in report.mismatches + report.refunded:
        log.warning("Reconciliation: %s", line)
    return report
