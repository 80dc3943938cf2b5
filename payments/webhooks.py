"""Stripe webhooks: verified over the raw body, each event handled once, in any order.

Handlers never trust the event's copy of an object: they re-read it from Stripe and
check it against our rows, so a late, repeated or foreign event cannot move anything
backwards or act on a payment that is not the one it names.
"""

import logging

from django.db import transaction
from django.utils import timezone

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
    """Verify and handle one event; False when the signature is wrong. A repeated event does nothing.

    The event counts as seen only once its handler finished: a process killed half-way (a gunicorn
    timeout, an OOM kill) leaves it unhandled, and Stripe's redelivery handles it. Handlers re-read
    from Stripe and are safe to run twice, so two deliveries at once do no harm.
    """
    try:
        event = gateway.verify_webhook(payload, signature)
    except ValueError:
        return False
    handler = HANDLERS.get(event["type"])
    with transaction.atomic():
        stored, _ = WebhookEvent.objects.get_or_create(event_id=event["id"], defaults={"type": event["type"]})
    if stored.handled_at is not None:
        return True
    if handler is not None:
        handler(event["data"]["object"])  # raising leaves it unhandled: the redelivery tries again
    WebhookEvent.objects.filter(pk=stored.pk, handled_at__isnull=True).update(handled_at=timezone.now())
    return True
