"""The one module that talks to Stripe.

Every write carries a deterministic idempotency key derived from our own row,
and the row is written before the call (see payments.services).
"""

from dataclasses import dataclass
from functools import partial

import stripe
from django.conf import settings


class GatewayError(Exception):
    """Stripe could not be reached or refused the request; the message is safe to show."""


class CardDeclined(GatewayError):
    """The bank said no; the message is the bank's reason."""


@dataclass(frozen=True)
class ChargeResult:
    payment_intent_id: str
    status: str  # Stripe's PaymentIntent status: succeeded, requires_action, ...
    client_secret: str
    card_brand: str = ""
    card_last4: str = ""


def is_test_mode() -> bool:
    return settings.STRIPE_SECRET_KEY.startswith("sk_test_")


def _client() -> stripe.StripeClient:
    real_stripe = settings.STRIPE_API_BASE.startswith("https://api.stripe.com")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        # The local server ignores idempotency keys, so a retry could charge twice.
        max_network_retries=2 if real_stripe else 0,
    )


def _key(name: str) -> str:
    """An idempotency key from our own row, prefixed per environment: two databases sharing one
    Stripe account (staging and CI, or a database rebuilt within Stripe's 24 hours) never collide."""
    return f"{settings.STRIPE_IDEMPOTENCY_PREFIX}{name}"


def _call(method, params: dict, idempotency_key: str | None = None):
    options = {"idempotency_key": _key(idempotency_key)} if idempotency_key else {}
    try:
        return method(params=params, options=options)
    except stripe.CardError as error:
        raise CardDeclined(error.user_message or "Your card was declined.") from error
    except stripe.StripeError as error:
        raise GatewayError(
            "We could not reach our payment provider. Please try again in a minute; "
            "if your card was charged anyway, your booking goes through or the money comes back on its own."
        ) from error


def create_customer(*, email: str, name: str, user_id: int) -> str:
    customer = _call(
        _client().v1.customers.create,
        {"email": email, "name": name, "metadata": {"user_id": str(user_id)}},
        idempotency_key=f"customer-user-{user_id}",
    )
    return customer.id


def create_setup_intent(*, customer_id: str) -> str:
    """A SetupIntent the page confirms with the card; returns its client secret."""
    setup_intent = _call(
        _client().v1.setup_intents.create,
        {"customer": customer_id, "payment_method_types": ["card"], "usage": "on_session"},
    )
    return setup_intent.client_secret


def charge(
    *, payment_id: int, amount_cents: int, currency: str, customer_id: str, payment_method_id: str, metadata: dict
) -> ChargeResult:
    intent = _call(
        _client().v1.payment_intents.create,
        {
            "amount": amount_cents,
            "currency": currency,
            "customer": customer_id,
            "payment_method": payment_method_id,
            "payment_method_types": ["card"],
            "confirm": True,
            # Names our environment, so a webhook from another one sharing the account is ignored.
            "metadata": {**metadata, "payment_id": str(payment_id), "environment": settings.STRIPE_IDEMPOTENCY_PREFIX},
            "expand": ["payment_method"],
        },
        idempotency_key=f"payment-{payment_id}-charge",
    )
    card = getattr(intent.payment_method, "card", None)
    return ChargeResult(
        intent.id,
        intent.status,
        intent.client_secret,
        getattr(card, "brand", "") or "",
        getattr(card, "last4", "") or "",
    )


def retrieve_payment_intent(payment_intent_id: str) -> ChargeResult:
    """Stripe's current view of a payment: webhooks and 3-D Secure returns re-read it."""
    try:
        intent = _client().v1.payment_intents.retrieve(payment_intent_id)
    except stripe.StripeError as error:
        raise GatewayError("We could not check your payment with our payment provider. Please try again.") from error
    return ChargeResult(intent.id, intent.status, intent.client_secret)


def cancel_payment_intent(payment_intent_id: str) -> ChargeResult:
    intent = _call(
        partial(_client().v1.payment_intents.cancel, payment_intent_id),
        {},
        idempotency_key=f"cancel-{payment_intent_id}",
    )
    return ChargeResult(intent.id, intent.status, intent.client_secret)


def refund(*, refund_id: int, payment_intent_id: str, amount_cents: int) -> tuple[str, str]:
    """Refund part or all of a payment; returns (Stripe refund id, status)."""
    result = _call(
        _client().v1.refunds.create,
        {"payment_intent": payment_intent_id, "amount": amount_cents, "metadata": {"refund_id": str(refund_id)}},
        idempotency_key=f"refund-{refund_id}",
    )
    return result.id, result.status


def create_connected_account(*, mentor_id: int, email: str) -> str:
    account = _call(
        _client().v1.accounts.create,
        {
            "type": "express",
            "email": email,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"mentor_id": str(mentor_id)},
        },
        idempotency_key=f"account-mentor-{mentor_id}",
    )
    return account.id


def account_onboarding_link(*, account_id: str, return_url: str, refresh_url: str) -> str:
    link = _call(
        _client().v1.account_links.create,
        {"account": account_id, "return_url": return_url, "refresh_url": refresh_url, "type": "account_onboarding"},
    )
    return link.url


def account_status(account_id: str) -> tuple[bool, bool]:
    """(details submitted, payouts enabled) for a connected account."""
    account = _call(partial(_client().v1.accounts.retrieve, account_id), {})
    return bool(account.details_submitted), bool(account.payouts_enabled)


def transfer(*, payout_id: int, account_id: str, amount_cents: int, currency: str) -> str:
    result = _call(
        _client().v1.transfers.create,
        {
            "amount": amount_cents,
            "currency": currency,
            "destination": account_id,
            "metadata": {"payout_id": str(payout_id)},
        },
        idempotency_key=f"payout-{payout_id}-transfer",
    )
    return result.id


def pay_out_connected_account(*, payout_id: int, account_id: str, amount_cents: int, currency: str) -> str:
    """Send the transferred money on from the connected account to the mentor's bank."""
    options = {"idempotency_key": _key(f"payout-{payout_id}-payout"), "stripe_account": account_id}
    try:
        result = _client().v1.payouts.create(
            params={"amount": amount_cents, "currency": currency, "metadata": {"payout_id": str(payout_id)}},
            options=options,
        )
    except stripe.StripeError as error:
        raise GatewayError(error.user_message or "Stripe did not accept the payout.") from error
    return result.id


def retrieve_refund(refund_id: str) -> str:
    """A refund's current status on Stripe: pending, succeeded, failed or canceled."""
    try:
        return _client().v1.refunds.retrieve(refund_id).status
    except stripe.StripeError as error:
        raise GatewayError("We could not check a refund with our payment provider.") from error


def verify_webhook(payload: bytes, signature: str) -> dict:
    """The event as a plain dict, or ValueError unless Stripe signed the raw body with our secret."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise ValueError(str(error)) from error
    return event.to_dict()


# --- What webhooks and reconciliation check our rows against (read-only) ---------------------------------


@dataclass(frozen=True)
class IntentFacts:
    """A PaymentIntent as Stripe holds it now, with what its charge has given back."""

    payment_intent_id: str
    status: str
    amount: int
    currency: str
    customer: str
    metadata: dict
    charge_id: str
    amount_refunded: int

    def as_result(self) -> ChargeResult:
        return ChargeResult(self.payment_intent_id, self.status, "")


@dataclass(frozen=True)
class RefundFacts:
    refund_id: str
    status: str  # pending, succeeded, failed or canceled
    amount: int
    currency: str
    payment_intent_id: str
    metadata: dict


def _id(value) -> str:
    """An expandable field: an id, an embedded object, or nothing."""
    if value is None:
        return ""
    return value if isinstance(value, str) else value["id"]


def _read(method, *args, params: dict | None = None) -> dict:
    """A read-only call, as a plain dict."""
    try:
        return method(*args, params=params or {}).to_dict()
    except stripe.StripeError as error:
        raise GatewayError("We could not read a payment from our payment provider.") from error


def payment_intent_facts(payment_intent_id: str) -> IntentFacts:
    client = _client()
    intent = _read(client.v1.payment_intents.retrieve, payment_intent_id, params={"expand": ["latest_charge"]})
    charge = intent.get("latest_charge")
    if isinstance(charge, str):
        charge = _read(client.v1.charges.retrieve, charge)
    return IntentFacts(
        payment_intent_id=intent["id"],
        status=intent["status"],
        amount=intent["amount"],
        currency=intent["currency"],
        customer=_id(intent.get("customer")),
        metadata=dict(intent.get("metadata") or {}),
        charge_id=_id(charge),
        amount_refunded=(charge.get("amount_refunded") or 0) if charge else 0,
    )


def _refund_facts(refund: dict, intent_id: str = "") -> RefundFacts:
    return RefundFacts(
        refund["id"],
        refund["status"],
        refund["amount"],
        refund["currency"],
        intent_id or _id(refund.get("payment_intent")),
        dict(refund.get("metadata") or {}),
    )


def refund_facts(refund_id: str) -> RefundFacts:
    refund = _read(_client().v1.refunds.retrieve, refund_id)
    intent_id = _id(refund.get("payment_intent"))
    if not intent_id and refund.get("charge"):  # a refund made on the charge may name only the charge
        intent_id = charge_payment_intent(_id(refund["charge"]))
    return _refund_facts(refund, intent_id)


def refunds_of(payment_intent_id: str) -> list[RefundFacts]:
    """Every refund Stripe holds for a payment, made by us or in the dashboard."""
    listed = _read(_client().v1.refunds.list, params={"payment_intent": payment_intent_id, "limit": 100})
    return [_refund_facts(refund, payment_intent_id) for refund in listed["data"]]


def charge_payment_intent(charge_id: str) -> str:
    """The PaymentIntent a charge belongs to (a dispute names the charge)."""
    return _id(_read(_client().v1.charges.retrieve, charge_id).get("payment_intent"))
