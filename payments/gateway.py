"""The one module that talks to Stripe.

Every write carries a deterministic idempotency key derived from our own row,
and the row is written before the call (see payments.services). Every call, its
retries included, ends within STRIPE_TIMEOUT_SECONDS, well before a web worker's 30 s.
"""

import time
from dataclasses import dataclass
from functools import partial

import requests
import stripe
import urllib3
from django.conf import settings


class GatewayError(Exception):
    """Stripe could not be reached or refused the request; the message is safe to show."""


class CardDeclined(GatewayError):
    """The bank said no; the message is the bank's reason."""


class OutcomeUnknown(GatewayError):
    """No answer in time (or the connection broke): Stripe may or may not have done it.
    Sending the same request again with the same idempotency key tells which."""


UNREACHABLE_MESSAGE = (
    "We could not reach our payment provider. Please try again in a minute; "
    "if your card was charged anyway, your booking goes through or the money comes back on its own."
)


@dataclass(frozen=True)
class ChargeResult:
    payment_intent_id: str
    status: str  # Stripe's PaymentIntent status: succeeded, requires_action, ...
    client_secret: str
    card_brand: str = ""
    card_last4: str = ""


def is_test_mode() -> bool:
    return settings.STRIPE_SECRET_KEY.startswith("sk_test_")


class _DeadlineClient(stripe.RequestsClient):
    """Stripe's HTTP client with one deadline for a call and all of its retries.

    The SDK's own timeout (80 s by default) is per attempt, and each retry would start it again.
    """

    CONNECT_SECONDS = 3.0

    def __init__(self, seconds: float):
        super().__init__(timeout=seconds)
        self._seconds = seconds
        self._deadline = time.monotonic() + seconds
        self._maybe_sent = False

    def _left(self) -> float:
        return self._deadline - time.monotonic()

    def request_with_retries(self, *args, **kwargs):
        self._deadline = time.monotonic() + self._seconds
        self._maybe_sent = False  # did any attempt of this call reach Stripe?
        return super().request_with_retries(*args, **kwargs)

    def request(self, *args, **kwargs):
        left = self._left()
        if left <= 0:
            error = stripe.APIConnectionError("No time left for this Stripe call.", should_retry=False)
            error.never_sent = not self._maybe_sent
            raise error
        self._timeout = (min(self.CONNECT_SECONDS, left), left)
        answer = super().request(*args, **kwargs)
        self._maybe_sent = True
        return answer

    def _handle_request_error(self, e: Exception):
        reason = getattr(e.args[0], "reason", None) if e.args else None
        refused = isinstance(e, requests.exceptions.ConnectTimeout) or isinstance(
            reason,
            urllib3.exceptions.ConnectTimeoutError,  # NewConnectionError (refused) is one too
        )
        self._maybe_sent = self._maybe_sent or not refused
        try:
            super()._handle_request_error(e)
        except stripe.APIConnectionError as error:
            error.never_sent = not self._maybe_sent  # then Stripe surely did nothing
            raise

    def _should_retry(self, response, api_connection_error, num_retries, max_network_retries):
        # A retry that could not finish before the deadline only delays the answer.
        if self._left() < 2 * self.INITIAL_DELAY:
            return False
        return super()._should_retry(response, api_connection_error, num_retries, max_network_retries)

    def _sleep_time_seconds(self, num_retries: int) -> float:
        return min(super()._sleep_time_seconds(num_retries), max(self._left() / 2, 0))


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        http_client=_DeadlineClient(settings.STRIPE_TIMEOUT_SECONDS),
        # Safe against the local server too: it honours idempotency keys like Stripe (tests/stripe_shim.py).
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def _unreachable(error: stripe.StripeError, message: str = UNREACHABLE_MESSAGE) -> GatewayError:
    # No answer, or Stripe's own 5xx: the request may have been carried out.
    unknown = isinstance(error, stripe.APIError) or (
        isinstance(error, stripe.APIConnectionError) and not getattr(error, "never_sent", False)
    )
    return (OutcomeUnknown if unknown else GatewayError)(message)


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
        raise _unreachable(error) from error


def create_customer(*, email: str, name: str, user_id: int) -> str:
    customer = _call(
        _client().v1.customers.create,
        {"email": email, "name": name, "metadata": {"user_id": str(user_id)}},
        idempotency_key=f"customer-user-{user_id}",
    )
    return customer.id


def delete_customer(customer_id: str) -> None:
    """Forget a customer on Stripe (its name, e-mail and saved cards); its charges stay on Stripe's books.
    A customer already gone counts as done."""
    try:
        _client().v1.customers.delete(customer_id)
    except stripe.InvalidRequestError as error:
        if getattr(error, "code", "") != "resource_missing":
            raise _unreachable(error) from error
    except stripe.StripeError as error:
        raise _unreachable(error) from error


def create_setup_intent(*, customer_id: str) -> str:
    """A SetupIntent the page confirms with the card; returns its client secret."""
    setup_intent = _call(
        _client().v1.setup_intents.create,
        {"customer": customer_id, "payment_method_types": ["card"], "usage": "on_session"},
    )
    return setup_intent.client_secret


CARD_UNCHECKED = "We could not check your card with our payment provider. Please try again."


def payment_method_owner(payment_method_id: str) -> str:
    """The customer a card is saved to: "" when it is saved to none, or there is no such card."""
    try:
        method = _client().v1.payment_methods.retrieve(payment_method_id)
    except stripe.InvalidRequestError:
        return ""  # no such card (or not one Stripe will show this account)
    except stripe.StripeError as error:
        raise _unreachable(error, CARD_UNCHECKED) from error
    return _id(method.to_dict().get("customer"))


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
        raise _unreachable(
            error, "We could not check your payment with our payment provider. Please try again."
        ) from error
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


def pay_out_connected_account(
    *, payout_id: int, account_id: str, amount_cents: int, currency: str, attempt: int = 0
) -> str:
    """Send the transferred money on from the connected account to the mentor's bank.

    A retry after no answer uses the same key (Stripe replays the outcome); after a refusal the caller
    counts a new `attempt`, since Stripe would replay the refusal for the old key.
    """
    key = f"payout-{payout_id}-payout" + (f"-{attempt}" if attempt else "")
    options = {"idempotency_key": _key(key), "stripe_account": account_id}
    try:
        result = _client().v1.payouts.create(
            params={"amount": amount_cents, "currency": currency, "metadata": {"payout_id": str(payout_id)}},
            options=options,
        )
    except stripe.StripeError as error:
        raise _unreachable(error, error.user_message or "Stripe did not accept the payout.") from error
    return result.id


def retrieve_refund(refund_id: str) -> str:
    """A refund's current status on Stripe: pending, succeeded, failed or canceled."""
    try:
        return _client().v1.refunds.retrieve(refund_id).status
    except stripe.StripeError as error:
        raise _unreachable(error, "We could not check a refund with our payment provider.") from error


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
        raise _unreachable(error, "We could not read a payment from our payment provider.") from error


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


def find_payment_intent(*, customer_id: str, payment_id: int) -> ChargeResult | None:
    """The PaymentIntent our charge for `payment_id` created, if it was created (its answer was lost)."""
    listed = _read(_client().v1.payment_intents.list, params={"customer": customer_id, "limit": 100})
    for intent in listed.get("data", []):
        metadata = intent.get("metadata") or {}
        ours = metadata.get("environment", "") == settings.STRIPE_IDEMPOTENCY_PREFIX
        if ours and metadata.get("payment_id") == str(payment_id):
            return ChargeResult(intent["id"], intent["status"], intent.get("client_secret") or "")
    return None
