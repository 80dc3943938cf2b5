"""Charging, refunds, the ledger and webhooks: the real stripe SDK against the local Stripe server."""

import hashlib
import hmac
import io
import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from bookings import selectors
from bookings import services as booking_services
from bookings.models import Booking
from payments import gateway, ledger, services
from payments.models import LedgerEntry, Payment, Refund, WebhookEvent

from .factories import UserFactory, bookable_mentor

# Real commits: refunds, ledger entries and e-mails are queued to run after commit.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]


@pytest.fixture
def held_booking():
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(intro, start=now, end=now + timedelta(days=7))[0]
    return booking_services.booking_hold(mentee=UserFactory(), service=intro, start=start, message="My CV")


def pay(stripe_server, booking, number="4242424242424242"):
    secret = services.checkout_setup(booking_id=booking.pk, mentee=booking.mentee)
    payment_method = stripe_server.confirm_card_setup(secret, number)
    return services.checkout_pay(booking_id=booking.pk, mentee=booking.mentee, payment_method_id=payment_method)


def held_and_paid(stripe_server, *, days_ahead: int = 2) -> Booking:
    """A new mentee holds a new mentor's first free 30-minute intro from `days_ahead` days on and pays:
    a pending request."""
    intro = bookable_mentor().services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(
        intro, start=now + timedelta(days=days_ahead), end=now + timedelta(days=days_ahead + 7)
    )[0]
    booking = booking_services.booking_hold(mentee=UserFactory(), service=intro, start=start)
    pay(stripe_server, booking)
    booking.refresh_from_db()
    return booking


def test_a_good_card_is_charged_once_and_the_booking_waits_for_the_mentor(stripe_server, held_booking):
    payment = pay(stripe_server, held_booking)
    held_booking.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and held_booking.status == Booking.Status.PENDING
    intent = stripe_server.get(f"/v1/payment_intents/{payment.stripe_payment_intent_id}")
    assert (intent["amount"], intent["status"], intent["metadata"]["booking_id"]) == (
        4000,
        "succeeded",
        str(held_booking.pk),
    )
    assert {m.to[0] for m in mail.outbox} == {held_booking.mentee.email, held_booking.mentor.user.email}
    # A second click on Pay is refused and charges nothing.
    with pytest.raises(services.CheckoutError, match="already paid"):
        pay(stripe_server, held_booking)
    assert Payment.objects.count() == 1


def test_a_declined_card_shows_the_banks_reason_and_keeps_the_hold(stripe_server, held_booking):
    with pytest.raises(services.CheckoutError, match="declined"):
        pay(stripe_server, held_booking, number="4000000000000341")
    held_booking.refresh_from_db()
    assert held_booking.status == Booking.Status.HELD
    assert Payment.objects.get().status == Payment.Status.FAILED
    # Another card works.
    assert pay(stripe_server, held_booking).status == Payment.Status.SUCCEEDED


def test_an_expired_hold_cannot_be_paid(stripe_server, held_booking):
    Booking.objects.filter(pk=held_booking.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(services.CheckoutError, match="ran out") as error:
        services.checkout_setup(booking_id=held_booking.pk, mentee=held_booking.mentee)
    assert error.value.hold_lost


def test_decline_refunds_in_full_on_stripe_and_only_once(stripe_server, held_booking):
    payment = pay(stripe_server, held_booking)
    booking_services.booking_decline(held_booking.pk, actor=held_booking.mentor.user, reason="Ill that week")
    refund = Refund.objects.get()
    assert (refund.amount_cents, refund.status, refund.reason) == (4000, Refund.Status.SUCCEEDED, "declined")
    on_stripe = stripe_server.get(f"/v1/refunds?payment_intent={payment.stripe_payment_intent_id}")["data"]
    assert [r["amount"] for r in on_stripe] == [4000]
    # The job runs again (a retry, a second worker): nothing more is refunded.
    assert services.refund_booking_in_full(held_booking.pk, reason="declined") == []
    assert len(stripe_server.get(f"/v1/refunds?payment_intent={payment.stripe_payment_intent_id}")["data"]) == 1
    with pytest.raises(ValueError):
        services.refund_payment(payment, amount_cents=1, reason="extra")


def complete(booking, stripe_server):
    pay(stripe_server, booking)
    booking_services.booking_confirm(booking.pk, actor=booking.mentor.user)
    booking_services.booking_complete(booking.pk, actor=booking.mentor.user, now=booking.end)


def test_completion_credits_the_mentors_share_and_the_fee_once(stripe_server, held_booking, settings):
    settings.PLATFORM_FEE_PERCENT = 15
    complete(held_booking, stripe_server)
    ledger.record_session_earning(held_booking.pk)  # the job ran twice
    entries = {(e.account, e.kind): e.amount_cents for e in LedgerEntry.objects.all()}
    assert entries == {("mentor", "session_share"): 3400, ("platform", "platform_fee"): 600}
    assert ledger.summary(held_booking.mentor) == {
        "balance_cents": 3400,
        "earned_cents": 3400,
        "paid_out_cents": 0,
        "listed_entries": 1,  # the lines Earnings lists
    }


def test_a_refund_after_completion_takes_back_the_share_in_proportion(stripe_server, held_booking, settings):
    settings.PLATFORM_FEE_PERCENT = 15
    complete(held_booking, stripe_server)
    payment = held_booking.payments.get()
    services.refund_payment(payment, amount_cents=1000, reason="granted")
    assert ledger.balance_cents(held_booking.mentor) == 3400 - 850
    services.refund_booking_in_full(held_booking.pk, reason="no_show")
    assert ledger.balance_cents(held_booking.mentor) == 0
    platform = LedgerEntry.objects.filter(account="platform").aggregate(total=Sum("amount_cents"))["total"]
    assert platform == 0
    assert payment.refunded_cents() == 4000


def signed(payload: dict, secret: str) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    stamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={stamp},v1={signature}"


def test_webhook_completes_a_payment_whose_tab_was_closed_and_ignores_repeats(
    client, stripe_server, held_booking, settings
):
    secret = services.checkout_setup(booking_id=held_booking.pk, mentee=held_booking.mentee)
    payment_method = stripe_server.confirm_card_setup(secret)
    # The mentee pays, but the page never hears back: our row says processing.
    payment = Payment.objects.create(booking=held_booking, amount_cents=4000, currency="usd")
    from payments import gateway

    result = gateway.charge(
        payment_id=payment.pk,
        amount_cents=4000,
        currency="usd",
        customer_id=services.customer_for(held_booking.mentee),
        payment_method_id=payment_method,
        metadata={"booking_id": str(held_booking.pk)},
    )
    event = {
        "id": "evt_closed_tab",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": result.payment_intent_id,
                "object": "payment_intent",
                "metadata": {"payment_id": str(payment.pk)},
            }
        },
    }
    body, signature = signed(event, settings.STRIPE_WEBHOOK_SECRET)
    url = reverse("stripe_webhook")
    for _ in range(100):  # Stripe may deliver an event many times
        response = client.post(url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
        assert response.status_code == 200
    held_booking.refresh_from_db()
    assert held_booking.status == Booking.Status.PENDING
    assert WebhookEvent.objects.count() == 1
    assert held_booking.events.filter(to_status="pending").count() == 1


def test_a_tampered_webhook_is_refused_and_changes_nothing(client, stripe_server, held_booking, settings):
    body, signature = signed({"id": "evt_x", "type": "payment_intent.succeeded", "data": {"object": {}}}, "whsec_wrong")
    response = client.post(
        reverse("stripe_webhook"), body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def charge_on_stripe(payment: Payment, payment_method_id: str):
    """Our charge for `payment` as the gateway sends it, without our page or services hearing the answer."""
    from payments import gateway

    return gateway.charge(
        payment_id=payment.pk,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        customer_id=services.customer_for(payment.booking.mentee),
        payment_method_id=payment_method_id,
        metadata={"booking_id": str(payment.booking_id)},
    )


def charge_outside_checkout(booking, stripe_server, status=Payment.Status.PROCESSING) -> Payment:
    """A charge that reaches Stripe while our page never hears back (slow 3-D Secure, a closed tab)."""
    from payments import gateway

    setup_secret = gateway.create_setup_intent(customer_id=services.customer_for(booking.mentee))
    payment = Payment.objects.create(booking=booking, amount_cents=booking.price_cents, currency="usd", status=status)
    result = charge_on_stripe(payment, stripe_server.confirm_card_setup(setup_secret))
    Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id=result.payment_intent_id)
    return payment


def test_money_for_a_time_someone_took_after_the_hold_ran_out_is_refunded(stripe_server, held_booking):
    intro = held_booking.service
    Booking.objects.filter(pk=held_booking.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    other = booking_services.booking_hold(mentee=UserFactory(), service=intro, start=held_booking.start)
    pay(stripe_server, other)

    late = charge_outside_checkout(held_booking, stripe_server)
    services.payment_succeeded(late.pk)
    held_booking.refresh_from_db()
    assert held_booking.status != Booking.Status.PENDING
    refund = Refund.objects.get(payment=late)
    assert (refund.reason, refund.amount_cents, refund.status) == ("time_taken", 4000, Refund.Status.SUCCEEDED)
    assert Booking.objects.filter(start=held_booking.start, status=Booking.Status.PENDING).count() == 1


def test_a_second_charge_for_one_booking_is_refunded_and_the_first_is_kept(stripe_server, held_booking):
    first = pay(stripe_server, held_booking)
    # An attempt we had marked failed (the network broke) turns out to have been charged.
    second = charge_outside_checkout(held_booking, stripe_server, status=Payment.Status.FAILED)
    services.payment_succeeded(second.pk)
    services.payment_succeeded(second.pk)  # the webhook again
    services.payment_succeeded(first.pk)  # and the first one's webhook
    assert [(r.payment_id, r.reason) for r in Refund.objects.all()] == [(second.pk, "duplicate")]
    held_booking.refresh_from_db()
    assert held_booking.status == Booking.Status.PENDING


def test_unanswered_requests_expire_with_a_full_refund(stripe_server, held_booking):
    payment = pay(stripe_server, held_booking)
    mail.outbox.clear()
    assert booking_services.expire_pending_bookings() == 0
    later = min(held_booking.start, held_booking.created_at + timedelta(days=7))
    assert booking_services.expire_pending_bookings(now=later) == 1
    assert booking_services.expire_pending_bookings(now=later) == 0
    held_booking.refresh_from_db()
    assert held_booking.status == Booking.Status.EXPIRED
    assert Refund.objects.get(payment=payment).amount_cents == 4000
    assert sorted(m.to[0] for m in mail.outbox) == sorted([held_booking.mentee.email, held_booking.mentor.user.email])
    assert all("expired without" in m.subject for m in mail.outbox)
    with pytest.raises(booking_services.BookingError):
        booking_services.booking_confirm(held_booking.pk, actor=held_booking.mentor.user)


def test_leaving_3d_secure_half_way_does_not_block_another_card(stripe_server, held_booking):
    waiting = pay(stripe_server, held_booking, number="4000002500003155")
    assert waiting.status == Payment.Status.REQUIRES_ACTION
    paid = pay(stripe_server, held_booking)
    waiting.refresh_from_db()
    assert (waiting.status, paid.status) == (Payment.Status.FAILED, Payment.Status.SUCCEEDED)
    intent = stripe_server.get(f"/v1/payment_intents/{waiting.stripe_payment_intent_id}")
    assert intent["status"] == "canceled"


def test_a_late_payment_respects_the_daily_cap(stripe_server, held_booking):
    mentor = held_booking.mentor
    mentor.max_sessions_per_day = 1
    mentor.save()
    Booking.objects.filter(pk=held_booking.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    same_day = [
        s
        for s in selectors.open_slots(
            held_booking.service, start=held_booking.end, end=held_booking.start + timedelta(hours=8)
        )
        if s.astimezone(mentor.user.zone).date() == held_booking.start.astimezone(mentor.user.zone).date()
    ]
    other = booking_services.booking_hold(mentee=UserFactory(), service=held_booking.service, start=same_day[-1])
    pay(stripe_server, other)

    late = charge_outside_checkout(held_booking, stripe_server)
    services.payment_succeeded(late.pk)
    held_booking.refresh_from_db()
    assert held_booking.status != Booking.Status.PENDING
    assert Refund.objects.get(payment=late).reason == "time_taken"


def test_refund_webhooks_take_the_status_from_stripe(client, stripe_server, held_booking, settings):
    pay(stripe_server, held_booking)
    booking_services.booking_decline(held_booking.pk, actor=held_booking.mentor.user)
    refund = Refund.objects.get()
    Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.PENDING)  # as Stripe first reports many refunds
    event = {
        "id": "evt_refund_updated",
        "type": "refund.updated",
        "data": {"object": {"id": refund.stripe_refund_id, "object": "refund", "status": "pending"}},
    }
    body, signature = signed(event, settings.STRIPE_WEBHOOK_SECRET)
    response = client.post(
        reverse("stripe_webhook"), body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 200
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED  # Stripe's current word, not the event's copy


def test_refunds_that_never_reached_stripe_or_failed_there_are_sent_again(stripe_server, held_booking):
    payment = pay(stripe_server, held_booking)
    unsent = Refund.objects.create(payment=payment, amount_cents=1000, reason="declined")
    failed = Refund.objects.create(
        payment=payment, amount_cents=500, reason="declined", status=Refund.Status.FAILED, stripe_refund_id="re_gone"
    )
    assert services.refunds_retry() == 1  # the unsent one is too recent to touch; the failed one is retried
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert services.refunds_retry() == 1
        assert services.refunds_retry() == 0
    unsent.refresh_from_db()
    assert unsent.status == Refund.Status.SUCCEEDED and unsent.stripe_refund_id
    assert failed.retried_by.status == Refund.Status.SUCCEEDED and failed.retried_by.attempt == 2
    on_stripe = stripe_server.get(f"/v1/refunds?payment_intent={payment.stripe_payment_intent_id}")["data"]
    assert sorted(r["amount"] for r in on_stripe) == [500, 1000]
    assert payment.refunded_cents() == 1500


def test_the_receipt_shows_the_card_amounts_and_refunds_to_the_payer_only(client, stripe_server, held_booking):
    payment = pay(stripe_server, held_booking)
    services.refund_payment(payment, amount_cents=1000, reason="granted")
    url = reverse("receipt", args=[payment.pk])
    client.force_login(held_booking.mentee)
    page = client.get(url).content.decode()
    assert "Visa •••• 4242" in page and f"B-{held_booking.pk:06d}" in page
    assert "$40.00" in page and "−$10.00" in page and "$30.00" in page
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    client.force_login(held_booking.mentor.user)
    assert client.get(url).status_code == 404


def test_a_returning_mentee_pays_with_the_saved_card(client, stripe_server, held_booking):
    pay(stripe_server, held_booking)
    intro = held_booking.service
    now = timezone.now()
    start = selectors.open_slots(intro, start=now, end=now + timedelta(days=7))[3]
    second = booking_services.booking_hold(mentee=held_booking.mentee, service=intro, start=start)
    client.force_login(held_booking.mentee)
    checkout = client.get(reverse("checkout", args=[second.pk])).content.decode()
    assert "with Visa •••• 4242" in checkout
    client.post(reverse("checkout_pay", args=[second.pk]), {"use_saved_card": "1", "payment_method": "pm_someone_else"})
    second.refresh_from_db()
    assert second.status == Booking.Status.PENDING
    assert second.payments.get().payment_method_id == held_booking.payments.get().payment_method_id


def test_reconciliation_takes_stripes_word_and_refunds_charges_without_a_live_booking(stripe_server, held_booking):
    from django.core.management import call_command

    payment = pay(stripe_server, held_booking)
    # Our row lost track (a crash after Stripe charged), and the booking was declined meanwhile.
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED)
    Booking.objects.filter(pk=held_booking.pk).update(status=Booking.Status.DECLINED)
    out = io.StringIO()
    call_command("reconcile_payments", stdout=out)
    text = out.getvalue()
    assert f"Mismatch: payment {payment.pk}: ours failed, Stripe succeeded" in text
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.refunded_cents() == 4000  # its booking no longer holds a time
    assert Refund.objects.get(payment=payment).status == Refund.Status.SUCCEEDED
    # A second run finds nothing left to do.
    out = io.StringIO()
    call_command("reconcile_payments", stdout=out)
    assert "Mismatch" not in out.getvalue() and "Refunded" not in out.getvalue()


def test_a_mentor_grants_a_partial_refund_and_never_more_than_is_left(client, stripe_server, held_booking):
    complete(held_booking, stripe_server)
    url = reverse("grant_refund", args=[held_booking.pk])
    client.force_login(held_booking.mentee)  # not the mentor
    client.post(url, {"amount": "10"})
    assert not Refund.objects.exists()
    client.force_login(held_booking.mentor.user)
    page = client.get(reverse("booking_detail", args=[held_booking.pk])).content.decode()
    assert "Give a refund" in page and 'max="40.00"' in page
    response = client.post(url, {"amount": "15.50"}, follow=True)
    assert "Refunded $15.50" in response.content.decode()
    response = client.post(url, {"amount": "30"}, follow=True)
    assert "You can refund between $0.01 and $24.50." in response.content.decode()
    assert [r.amount_cents for r in Refund.objects.all()] == [1550]
    assert ledger.balance_cents(held_booking.mentor) == 3400 - round(3400 * 1550 / 4000)


def someone_elses_card(stripe_server) -> str:
    """A card saved to another mentee's Stripe customer, made through the SDK as their checkout would."""
    other = UserFactory()
    secret = gateway.create_setup_intent(customer_id=services.customer_for(other))
    return stripe_server.confirm_card_setup(secret)


def intents_with(stripe_server, payment_method: str) -> list[dict]:
    return [
        intent
        for intent in stripe_server.get("/v1/payment_intents?limit=100000")["data"]
        if intent.get("payment_method") == payment_method
    ]


def test_a_card_saved_to_another_customer_is_refused_and_nothing_is_charged(client, stripe_server, held_booking):
    foreign = someone_elses_card(stripe_server)
    client.force_login(held_booking.mentee)
    for card in (foreign, "pm_nosuchcard"):
        response = client.post(reverse("checkout_pay", args=[held_booking.pk]), {"payment_method": card})
        assert response.status_code == 400  # the checkout again, with the reason and a fresh card form
        assert services.NOT_YOUR_CARD in response.content.decode()
    assert not Payment.objects.exists()
    assert intents_with(stripe_server, foreign) == []
    held_booking.refresh_from_db()
    assert held_booking.status == Booking.Status.HELD
    # Their own card, set up on this checkout, is charged.
    assert pay(stripe_server, held_booking).status == Payment.Status.SUCCEEDED


def test_the_saved_card_is_only_the_payers_own(client, stripe_server, held_booking):
    """Paying "with the saved card" charges the card stored for this mentee, whatever else the form says."""
    foreign = someone_elses_card(stripe_server)
    client.force_login(held_booking.mentee)
    client.post(reverse("checkout_pay", args=[held_booking.pk]), {"use_saved_card": "1", "payment_method": foreign})
    assert not Payment.objects.exists()  # no card saved for this mentee yet: nothing to charge
    assert intents_with(stripe_server, foreign) == []


@pytest.mark.parametrize(
    "value",
    ["", "card_123", "pm_\x00abc", "pm_" + "a" * 1_000_000, "pm_abc;DROP", "pm_ab c"],
    ids=["empty", "not-pm", "NUL", "1MB", "punctuation", "space"],
)
def test_a_payment_method_that_is_no_card_id_is_refused_with_a_clear_message(
    client, stripe_server, held_booking, value
):  # fmt: skip
    client.force_login(held_booking.mentee)
    response = client.post(reverse("checkout_pay", args=[held_booking.pk]), {"payment_method": value}, follow=True)
    assert response.status_code == 200
    assert "Enter your card details, then press Pay." in response.content.decode()
    assert not Payment.objects.exists()
