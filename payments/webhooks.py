"""Stripe webhooks: verified over the raw body, each event handled once, in any order.

Handlers never trust the event's copy of an object: they re-read it from Stripe and
check it against our rows, so a late, repeated or foreign event cannot move anything
backwards or act on a payment that is not the one it names.
"""

import logging

from django.db import transaction

from . import disputes, gateway, services
from .models import WebhookEvent

log = logging.getLogger(__name__)


def _payment_intent(obj: dict) -> None:
    services.payment_sync(obj["id"])


def _refund(obj: dict) -> None:
    services.refund_sync(obj["id"])


def _charge_refunded(obj: dict) -> None:
    # Stripe's own list of the charge's refunds, not the event's copy (it may be cut short or stale).
    intent_id = gateway.charge_payment_intent(obj["id"])
    if intent_id:
        services.payment_refunds_sync(intent_id)


def _dispute(obj: dict) -> None:
    disputes.dispute_sync(obj)


HANDLERS = {
    "payment_intent.succeeded": _payment_intent,
    "payment_intent.payment_failed": _payment_intent,
    "refund.created": _refund,
    "refund.updated": _refund,
    "refund.failed": _refund,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute,
    "charge.dispute.updated": _dispute,
    "charge.dispute.closed": _dispute,
}


def receive(payload: bytes, signature: str) -> bool:
    """Verify and handle one event; False when the signature is wrong. A repeated event does nothing."""
    try:
        event = gateway.verify_webhook(payload, signature)
    except ValueError:
        return False
    handler = HANDLERS.get(event["type"])
    with transaction.atomic():
        stored, first_time = WebhookEvent.objects.get_or_create(event_id=event["id"], defaults={"type": event["type"]})
    if not first_time or handler is None:
        return True
    try:
        handler(event["data"]["object"])
    except Exception:
        stored.delete()  # not handled: Stripe's redelivery will try again
        raise
    return True
