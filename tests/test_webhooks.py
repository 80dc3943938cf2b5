"""Webhooks act only on what Stripe itself says about our own payments; refunds made outside the app
(the Stripe dashboard) are recorded, and a refunded payment never makes its booking pending."""

import io
import json
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking
from payments import gateway, ledger, services
from payments.models import Payment, Refund

from . import test_payments
from .factories import UserFactory
from .test_payments import charge_outside_checkout, complete, pay, signed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]
held_booking = test_payments.held_booking  # a mentee holding a $40 intro session


def deliver(client, settings, event_type: str, obj: dict, event_id: str | None = None):
    """Post an event to our endpoint as Stripe does: signed with the endpoint's secret."""
    event = {
        "id": event_id or f"evt_{event_type}_{obj['id']}",
        "object": "event",
        "type": event_type,
        "data": {"object": obj},
    }
    body, signature = signed(event, settings.STRIPE_WEBHOOK_SECRET)
    response = client.post(
        reverse("stripe_webhook"), body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 200
    return response


def dashboard_refund(stripe_server, intent_id: str, amount: int) -> str:
    """Someone refunds in the Stripe dashboard: the app is not asked."""
    data = urllib.parse.urlencode({"payment_intent": intent_id, "amount": amount}).encode()
    request = urllib.request.Request(
        f"{stripe_server.base}/v1/refunds", data=data, headers={"Authorization": "Bearer sk_test_localstripe"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)["id"]
    except urllib.error.HTTPError as error:
        raise AssertionError(error.read().decode()) from error


def intent_as_sent(stripe_server, payment: Payment) -> dict:
    """The PaymentIntent as Stripe puts it in an event."""
    return stripe_server.get(f"/v1/payment_intents/{payment.stripe_payment_intent_id}")


def charge_id_of(stripe_server, intent_id: str) -> str:
    return stripe_server.get(f"/v1/payment_intents/{intent_id}")["latest_charge"]["id"]


def test_a_foreign_payment_intent_naming_our_failed_payment_changes_nothing(
    client, stripe_server, held_booking, settings
):
    settings.STRIPE_IDEMPOTENCY_PREFIX = "ci-"
    with pytest.raises(services.CheckoutError):
        pay(stripe_server, held_booking, number="4000000000000341")
    ours = Payment.objects.get()
    # Another environment sharing the Stripe account charges $1.00 for its own payment with our number.
    settings.STRIPE_IDEMPOTENCY_PREFIX = "staging-"
    stranger = UserFactory()
    setup = gateway.create_setup_intent(customer_id=services.customer_for(stranger))
    foreign = gateway.charge(
        payment_id=ours.pk,
        amount_cents=100,
        currency="usd",
        customer_id=services.customer_for(stranger),
        payment_method_id=stripe_server.confirm_card_setup(setup),
        metadata={"booking_id": "1"},
    )
    settings.STRIPE_IDEMPOTENCY_PREFIX = "ci-"
    as_sent = stripe_server.get(f"/v1/payment_intents/{foreign.payment_intent_id}")  # names our payment
    assert as_sent["metadata"]["payment_id"] == str(ours.pk)
    deliver(client, settings, "payment_intent.succeeded", as_sent)
    ours.refresh_from_db()
    held_booking.refresh_from_db()
    assert (ours.status, ours.stripe_payment_intent_id) == (Payment.Status.FAILED, "")
    assert held_booking.status == Booking.Status.HELD


@pytest.mark.parametrize("differs", [None, "amount", "currency", "customer", "environment"])
def test_a_payment_intent_is_applied_only_when_everything_matches_our_row(
    client, stripe_server, held_booking, settings, differs
):
    settings.STRIPE_IDEMPOTENCY_PREFIX = "ci-"
    # Our row is written; the page never heard back from Stripe, so no intent id is stored.
    payment = Payment.objects.create(booking=held_booking, amount_cents=4000, currency="usd")
    payer = UserFactory() if differs == "customer" else held_booking.mentee
    if differs == "environment":
        settings.STRIPE_IDEMPOTENCY_PREFIX = "staging-"
    customer = services.customer_for(payer)
    result = gateway.charge(
        payment_id=payment.pk,
        amount_cents=3999 if differs == "amount" else 4000,
        currency="eur" if differs == "currency" else "usd",
        customer_id=customer,
        payment_method_id=stripe_server.confirm_card_setup(gateway.create_setup_intent(customer_id=customer)),
        metadata={"booking_id": str(held_booking.pk)},
    )
    settings.STRIPE_IDEMPOTENCY_PREFIX = "ci-"
    # The event's own copy claims our payment; the handler must not take its word for it.
    event_copy = {"id": result.payment_intent_id, "metadata": {"payment_id": str(payment.pk)}, "amount": 4000}
    deliver(client, settings, "payment_intent.succeeded", event_copy)
    payment.refresh_from_db()
    held_booking.refresh_from_db()
    if differs is None:
        assert payment.status == Payment.Status.SUCCEEDED and payment.stripe_payment_intent_id
        assert held_booking.status == Booking.Status.PENDING
    else:
        assert (payment.status, payment.stripe_payment_intent_id) == (Payment.Status.PROCESSING, "")
        assert held_booking.status == Booking.Status.HELD


def test_a_refund_made_in_the_dashboard_before_the_payment_arrives_never_makes_the_booking_pending(
    client, stripe_server, held_booking, settings
):
    payment = charge_outside_checkout(held_booking, stripe_server)
    payment.refresh_from_db()
    dashboard = dashboard_refund(stripe_server, payment.stripe_payment_intent_id, 1000)
    deliver(client, settings, "payment_intent.succeeded", intent_as_sent(stripe_server, payment))
    deliver(client, settings, "charge.refunded", {"id": charge_id_of(stripe_server, payment.stripe_payment_intent_id)})
    payment.refresh_from_db()
    held_booking.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert held_booking.status == Booking.Status.HELD
    refunds = [(r.reason, r.amount_cents, r.status) for r in payment.refunds.order_by("pk")]
    assert refunds == [
        ("outside_app", 1000, Refund.Status.SUCCEEDED),
        ("refunded_before_paid", 3000, Refund.Status.SUCCEEDED),
    ]
    assert payment.refunds.order_by("pk").first().stripe_refund_id == dashboard
    on_stripe = stripe_server.get(f"/v1/refunds?payment_intent={payment.stripe_payment_intent_id}")["data"]
    assert sum(r["amount"] for r in on_stripe) == 4000


def test_a_dashboard_refund_after_the_session_is_recorded_once_and_takes_back_the_share(
    client, stripe_server, held_booking, settings
):
    settings.PLATFORM_FEE_PERCENT = 15
    complete(held_booking, stripe_server)
    payment = held_booking.payments.get()
    refund_id = dashboard_refund(stripe_server, payment.stripe_payment_intent_id, 1000)
    charge = charge_id_of(stripe_server, payment.stripe_payment_intent_id)
    # Stripe sends several events for one refund, each possibly more than once, in any order.
    deliver(client, settings, "refund.created", {"id": refund_id, "status": "pending"})
    deliver(client, settings, "charge.refunded", {"id": charge, "refunds": {"data": []}})
    deliver(client, settings, "refund.updated", {"id": refund_id, "status": "pending"})
    deliver(client, settings, "refund.created", {"id": refund_id}, event_id="evt_again")
    refund = Refund.objects.get()
    assert (refund.reason, refund.amount_cents, refund.status, refund.stripe_refund_id) == (
        "outside_app",
        1000,
        Refund.Status.SUCCEEDED,
        refund_id,
    )
    assert ledger.balance_cents(held_booking.mentor) == 3400 - 850
    assert services.refundable_cents(held_booking) == 3000


def test_a_dashboard_refund_beyond_what_is_left_on_our_books_is_recorded_only_up_to_the_charge(
    client, stripe_server, held_booking, settings
):
    payment = pay(stripe_server, held_booking)
    # Our refund of 3,500 is decided and written, not yet sent, when someone refunds 1,000 in the dashboard.
    Refund.objects.create(payment=payment, amount_cents=3500, reason="granted_by_mentor")
    refund_id = dashboard_refund(stripe_server, payment.stripe_payment_intent_id, 1000)
    deliver(client, settings, "refund.created", {"id": refund_id})
    assert payment.refunds.get(stripe_refund_id=refund_id).amount_cents == 500
    assert payment.refunded_cents() == 4000


def test_our_refund_whose_stripe_id_was_never_stored_is_linked_not_counted_twice(
    client, stripe_server, held_booking, settings
):
    payment = pay(stripe_server, held_booking)
    ours = Refund.objects.create(payment=payment, amount_cents=1500, reason="granted_by_mentor")
    # The call reached Stripe, then the worker died before storing the id.
    stripe_id, _ = gateway.refund(
        refund_id=ours.pk, payment_intent_id=payment.stripe_payment_intent_id, amount_cents=1500
    )
    deliver(client, settings, "refund.created", {"id": stripe_id})
    ours.refresh_from_db()
    assert (ours.stripe_refund_id, ours.status) == (stripe_id, Refund.Status.SUCCEEDED)
    assert payment.refunds.count() == 1 and payment.refunded_cents() == 1500


def test_reconciliation_records_refunds_on_stripe_we_did_not_know(stripe_server, held_booking):
    payment = pay(stripe_server, held_booking)
    refund_id = dashboard_refund(stripe_server, payment.stripe_payment_intent_id, 700)  # its webhook was lost
    out = io.StringIO()
    call_command("reconcile_payments", stdout=out)
    refund = payment.refunds.get()
    assert f"Mismatch: payment {payment.pk}: refund {refund_id} of 700 on Stripe was not ours" in out.getvalue()
    assert (refund.reason, refund.amount_cents, refund.stripe_refund_id) == ("outside_app", 700, refund_id)
    out = io.StringIO()
    call_command("reconcile_payments", stdout=out)
    assert "Mismatch" not in out.getvalue()
    assert payment.refunds.count() == 1


def test_a_webhook_for_a_late_payment_of_an_abandoned_hold_still_books_when_nothing_was_refunded(
    client, stripe_server, held_booking, settings
):
    """The check above must not stop an honest late payment: its time is still free, so it is booked."""
    payment = charge_outside_checkout(held_booking, stripe_server)
    payment.refresh_from_db()
    Booking.objects.filter(pk=held_booking.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    deliver(client, settings, "payment_intent.succeeded", intent_as_sent(stripe_server, payment))
    held_booking.refresh_from_db()
    assert held_booking.status == Booking.Status.PENDING
    assert not Refund.objects.exists()


def test_a_payment_charged_before_intents_named_their_environment_is_still_ours_once_its_id_is_stored(
    client, stripe_server, held_booking, settings
):
    settings.STRIPE_IDEMPOTENCY_PREFIX = "prod-"
    customer = services.customer_for(held_booking.mentee)
    payment_method = stripe_server.confirm_card_setup(gateway.create_setup_intent(customer_id=customer))
    payment = Payment.objects.create(booking=held_booking, amount_cents=4000, currency="usd")
    # Made by the code before this change: no environment in its metadata.
    data = urllib.parse.urlencode(
        {
            "amount": 4000,
            "currency": "usd",
            "customer": customer,
            "payment_method": payment_method,
            "confirm": "true",
            "metadata[payment_id]": str(payment.pk),
        }
    ).encode()
    request = urllib.request.Request(
        f"{stripe_server.base}/v1/payment_intents", data=data, headers={"Authorization": "Bearer sk_test_localstripe"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        intent = json.load(response)
    # Its id not stored: nothing proves it is ours, so it is ignored.
    deliver(client, settings, "payment_intent.succeeded", intent)
    held_booking.refresh_from_db()
    assert held_booking.status == Booking.Status.HELD
    # Stored from our own call's answer: it is ours, and reconciliation reports no mismatch for it.
    Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id=intent["id"])
    deliver(client, settings, "payment_intent.succeeded", intent, event_id="evt_again")
    held_booking.refresh_from_db()
    assert held_booking.status == Booking.Status.PENDING
    out = io.StringIO()
    call_command("reconcile_payments", stdout=out)
    assert "Mismatch" not in out.getvalue()


def test_a_dashboard_refund_that_fails_later_gives_the_mentor_their_share_back(
    client, stripe_server, held_booking, settings
):
    complete(held_booking, stripe_server)
    payment = held_booking.payments.get()
    refund_id = dashboard_refund(stripe_server, payment.stripe_payment_intent_id, 1000)
    deliver(client, settings, "refund.created", stripe_server.get(f"/v1/refunds/{refund_id}"))
    assert ledger.balance_cents(held_booking.mentor) == 2550
    stripe_server.set_refund_status(refund_id, "failed")  # days later, the bank sends it back
    deliver(client, settings, "refund.failed", stripe_server.get(f"/v1/refunds/{refund_id}"))
    deliver(client, settings, "refund.updated", stripe_server.get(f"/v1/refunds/{refund_id}"))
    services.refunds_retry(now=timezone.now() + timedelta(hours=1))  # not ours to try again
    assert Refund.objects.get().status == Refund.Status.FAILED
    assert ledger.balance_cents(held_booking.mentor) == 3400
