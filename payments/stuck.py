"""Payments stuck in "processing": the answer to a charge was lost (Stripe too slow, a dropped
connection, a crash), so nobody knows whether the card was charged. A beat job asks Stripe
again: it reads the PaymentIntent when we know its id, and otherwise sends the same charge
under the same idempotency key, which returns the first charge if there was one. The payment
then ends succeeded or failed, and the mentee can pay again.
"""

import logging

from django.conf import settings
from django.utils import timezone

from bookings.models import Booking, PackagePurchase

from . import gateway, services
from .models import Payment, StripeCustomer

log = logging.getLogger(__name__)

EXPIRED = (
    "Your checkout time ran out before our payment provider answered. "
    "If your card was charged anyway, the money comes back on its own."
)


def stuck_payments_resolve(*, now=None) -> int:
    """Ask Stripe about every payment processing for longer than PAYMENT_STUCK_AFTER; returns how many
    ended succeeded or failed. Safe to run twice or at once: each payment is claimed first."""
    now = now or timezone.now()
    stuck = Payment.objects.filter(status=Payment.Status.PROCESSING, updated_at__lte=now - settings.PAYMENT_STUCK_AFTER)
    resolved = 0
    for payment_id, seen in stuck.values_list("pk", "updated_at"):
        # The claim moves updated_at on, so a second sweeper skips this row and this one asks
        # again only after another PAYMENT_STUCK_AFTER if Stripe still does not answer.
        claimed = Payment.objects.filter(pk=payment_id, status=Payment.Status.PROCESSING, updated_at=seen).update(
            updated_at=now
        )
        if claimed and payment_resolve(payment_id) != Payment.Status.PROCESSING:
            resolved += 1
    return resolved


def payment_resolve(payment_id: int) -> str:
    """Take one stuck payment's outcome from Stripe; returns its status afterwards."""
    payment = Payment.objects.select_related("booking", "purchase").get(pk=payment_id)
    try:
        if payment.stripe_payment_intent_id:
            result = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
            payment = services._apply_intent_status(payment.pk, result)
        elif _still_payable(payment):
            payment = services.charge_send(payment, mentee=(payment.purchase or payment.booking).mentee)
        else:
            # Sending the charge now could buy a time that is no longer held: find what the lost request
            # did instead. A charge it made succeeds here and is refunded, as any late payment is.
            payment = _found_or_failed(payment)
    except gateway.OutcomeUnknown:
        log.warning("Stripe still does not answer about payment %s; asking again later", payment.pk)
        return Payment.Status.PROCESSING
    except gateway.GatewayError as error:  # Stripe answered: declined, or refused the request
        services.payment_failed(payment.pk, str(error))
        payment.refresh_from_db()
    log.info("Stuck payment %s resolved as %s", payment.pk, payment.status)
    return payment.status


def _found_or_failed(payment: Payment) -> Payment:
    customer = StripeCustomer.objects.filter(user=(payment.purchase or payment.booking).mentee).first()
    found = customer and gateway.find_payment_intent(customer_id=customer.customer_id, payment_id=payment.pk)
    if not found:
        services.payment_failed(payment.pk, EXPIRED)
        return Payment.objects.get(pk=payment.pk)
    Payment.objects.filter(pk=payment.pk, stripe_payment_intent_id="").update(
        stripe_payment_intent_id=found.payment_intent_id
    )
    return services._apply_intent_status(payment.pk, found)


def _still_payable(payment: Payment) -> bool:
    """No lock: a hold that runs out during the call is handled like any late payment (refunded)."""
    if payment.purchase_id:
        return PackagePurchase.objects.filter(
            pk=payment.purchase_id, status=PackagePurchase.Status.AWAITING_PAYMENT
        ).exists()
    return Booking.objects.filter(
        pk=payment.booking_id, status=Booking.Status.HELD, hold_expires_at__gt=timezone.now()
    ).exists()
