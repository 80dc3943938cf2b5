"""The local Stripe server answers like Stripe where our retries depend on it: idempotency keys,
refund limits, and signed refund and dispute events (tests/stripe_shim.py)."""

import http.server
import json
import threading
import time
import uuid

import pytest

from payments import gateway

pytestmark = pytest.mark.stripe


@pytest.fixture
def paid_intent(stripe_server):
    """A succeeded $40.00 PaymentIntent, made through our gateway."""
    customer = gateway.create_customer(email="a@example.com", name="A", user_id=int(uuid.uuid4().int % 10**9))
    method = stripe_server.confirm_card_setup(gateway.create_setup_intent(customer_id=customer))
    key = uuid.uuid4().int % 10**9
    return gateway.charge(
        payment_id=key, amount_cents=4000, currency="usd", customer_id=customer, payment_method_id=method, metadata={}
    )


class Inbox:
    """A webhook endpoint on 127.0.0.1 that keeps every event whose signature checks out."""

    def __init__(self):
        self.events: list[dict] = []
        self.refused = 0
        inbox = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    inbox.events.append(gateway.verify_webhook(body, self.headers.get("Stripe-Signature", "")))
                    self.send_response(200)
                except ValueError:
                    inbox.refused += 1
                    self.send_response(400)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, *types: str, about: str, timeout: float = 10) -> dict[str, dict]:
        """The latest event of each type naming `about`, once all have arrived (sent ~1 s after the call;
        events of earlier tests may still arrive meanwhile)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = {event["type"]: event for event in self.events if about in json.dumps(event)}
            if all(t in seen for t in types):
                return seen
            time.sleep(0.05)
        raise AssertionError(f"Wanted {types}, got {[e['type'] for e in self.events]}")


@pytest.fixture
def inbox(stripe_server, settings):
    inbox = Inbox()
    endpoint = f"test-{uuid.uuid4().hex[:8]}"
    stripe_server.register_webhook(inbox.url, settings.STRIPE_WEBHOOK_SECRET, endpoint)
    yield inbox
    stripe_server.unregister_webhook(endpoint)
    inbox.server.shutdown()


def charges_of(stripe_server, customer: str) -> list[dict]:
    return stripe_server.get(f"/v1/charges?customer={customer}")["data"]


def test_the_same_idempotency_key_replays_the_first_answer_and_charges_once(stripe_server, settings):
    customer = gateway.create_customer(email="b@example.com", name="B", user_id=7)
    assert gateway.create_customer(email="b@example.com", name="B", user_id=7) == customer
    method = stripe_server.confirm_card_setup(gateway.create_setup_intent(customer_id=customer))
    params = {"payment_id": 1, "amount_cents": 4000, "currency": "usd", "customer_id": customer}
    params["payment_method_id"] = method
    first = gateway.charge(**params, metadata={"booking_id": "3"})
    again = gateway.charge(**params, metadata={"booking_id": "3"})
    assert (again.payment_intent_id, again.status) == (first.payment_intent_id, "succeeded")
    assert [c["amount"] for c in charges_of(stripe_server, customer)] == [4000]

    # The same key for other parameters is Stripe's idempotency error, and charges nothing.
    with pytest.raises(gateway.GatewayError):
        gateway.charge(**{**params, "amount_cents": 5000}, metadata={"booking_id": "3"})
    fields = {"amount": "5000", "currency": "usd", "customer": customer, "payment_method": method}
    key = f"{settings.STRIPE_IDEMPOTENCY_PREFIX}payment-1-charge"
    status, body, _ = stripe_server.post("/v1/payment_intents", fields, idempotency_key=key)
    assert (status, body["error"]["type"]) == (400, "idempotency_error")
    assert len(charges_of(stripe_server, customer)) == 1


def test_a_replayed_answer_says_so_and_errors_are_replayed_too(stripe_server):
    fields = {"email": "c@example.com"}
    key = uuid.uuid4().hex
    status, first, headers = stripe_server.post("/v1/customers", fields, idempotency_key=key)
    assert status == 200 and "Idempotent-Replayed" not in headers
    status, again, headers = stripe_server.post("/v1/customers", fields, idempotency_key=key)
    assert (status, again["id"], headers["Idempotent-Replayed"]) == (200, first["id"], "true")
    # The same key on another URL is refused too.
    status, body, _ = stripe_server.post("/v1/setup_intents", {"customer": first["id"]}, idempotency_key=key)
    assert (status, body["error"]["type"]) == (400, "idempotency_error")
    # A declined card stays declined when the request is sent again.
    method = stripe_server.confirm_card_setup(
        gateway.create_setup_intent(customer_id=first["id"]), number="4000000000000341"
    )
    charge = {"amount": "4000", "currency": "usd", "customer": first["id"], "payment_method": method, "confirm": "true"}
    key = uuid.uuid4().hex
    declined = stripe_server.post("/v1/payment_intents", charge, idempotency_key=key)
    assert declined[0] == 402
    assert stripe_server.post("/v1/payment_intents", charge, idempotency_key=key)[:2] == declined[:2]
    assert len(charges_of(stripe_server, first["id"])) == 1


def test_a_refund_beyond_what_is_left_of_the_charge_is_refused(stripe_server, paid_intent):
    intent = paid_intent.payment_intent_id
    assert gateway.refund(refund_id=uuid.uuid4().int % 10**9, payment_intent_id=intent, amount_cents=2500)[1] == (
        "succeeded"
    )
    status, body, _ = stripe_server.post("/v1/refunds", {"payment_intent": intent, "amount": "1501"})
    assert (status, body["error"]["code"]) == (400, "amount_too_large")
    with pytest.raises(gateway.GatewayError):
        gateway.refund(refund_id=uuid.uuid4().int % 10**9, payment_intent_id=intent, amount_cents=1501)
    # Without an amount, Stripe refunds what is left; after that, nothing more.
    status, rest, _ = stripe_server.post("/v1/refunds", {"payment_intent": intent})
    assert (status, rest["amount"]) == (200, 1500)
    status, body, _ = stripe_server.post("/v1/refunds", {"payment_intent": intent, "amount": "1"})
    assert (status, body["error"]["code"]) == (400, "charge_already_refunded")
    assert sorted(r["amount"] for r in stripe_server.get(f"/v1/refunds?payment_intent={intent}")["data"]) == [
        1500,
        2500,
    ]


def test_a_refund_sends_signed_charge_refunded_and_refund_created(stripe_server, paid_intent, inbox):
    refund_id, _ = gateway.refund(
        refund_id=uuid.uuid4().int % 10**9, payment_intent_id=paid_intent.payment_intent_id, amount_cents=1000
    )
    events = inbox.wait_for("charge.refunded", "refund.created", about=paid_intent.payment_intent_id)
    charge = events["charge.refunded"]["data"]["object"]
    assert (charge["payment_intent"], charge["amount_refunded"]) == (paid_intent.payment_intent_id, 1000)
    assert events["refund.created"]["data"]["object"]["id"] == refund_id
    # A refund that fails later on Stripe's side gives its amount back to the charge and says so.
    stripe_server.set_refund_status(refund_id, "failed")
    events = inbox.wait_for("refund.updated", "refund.failed", about=refund_id)
    assert events["refund.failed"]["data"]["object"]["status"] == "failed"
    assert gateway.retrieve_refund(refund_id) == "failed"
    status, body, _ = stripe_server.post("/v1/refunds", {"payment_intent": paid_intent.payment_intent_id})
    assert (status, body["amount"]) == (200, 4000)
    assert inbox.refused == 0


def test_a_chargeback_is_opened_and_closed_with_signed_events(stripe_server, paid_intent, inbox):
    dispute = stripe_server.create_dispute(payment_intent=paid_intent.payment_intent_id, reason="product_not_received")
    created = inbox.wait_for("charge.dispute.created", about=dispute["id"])["charge.dispute.created"]["data"]["object"]
    assert (created["id"], created["amount"], created["payment_intent"], created["status"]) == (
        dispute["id"],
        4000,
        paid_intent.payment_intent_id,
        "needs_response",
    )
    assert stripe_server.get(f"/v1/disputes/{dispute['id']}")["reason"] == "product_not_received"
    listed = stripe_server.get(f"/v1/disputes?payment_intent={paid_intent.payment_intent_id}")["data"]
    assert [d["id"] for d in listed] == [dispute["id"]]
    stripe_server.close_dispute(dispute["id"], "lost")
    closed = inbox.wait_for("charge.dispute.closed", about=dispute["id"])["charge.dispute.closed"]["data"]["object"]
    assert (closed["id"], closed["status"]) == (dispute["id"], "lost")
    assert stripe_server.get(f"/v1/disputes/{dispute['id']}")["status"] == "lost"
