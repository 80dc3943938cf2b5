"""Stripe slow, down, or losing an answer in flight: the mentee gets a calm answer well before
gunicorn's 30 s, is never charged twice, and a payment never stays "processing" for long.

Faults are real: a delaying proxy on 127.0.0.1 (tests/slow_proxy.py) or a port nobody listens on;
time moves with time-machine.
"""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
import requests
import time_machine
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from bookings import selectors
from bookings import services as booking_services
from bookings.models import Booking
from payments import services, stuck, tasks
from payments.models import Payment

from .conftest import skip_or_fail
from .factories import UserFactory, bookable_mentor
from .slow_proxy import SlowProxy
from .stripe_server import free_port
from .test_payments import charge_on_stripe

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]

TIMEOUT = 1  # seconds, for every Stripe call in these tests
DELAY = 3  # how long the slow proxy holds each answer back


@pytest.fixture
def held_booking():
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    # A day ahead: the soonest slot can fall inside the booking notice by the time a test's hold runs out,
    # and a late payment for it is then refunded rather than booked (it failed at some hours of the day).
    start = selectors.open_slots(intro, start=now + timedelta(days=1), end=now + timedelta(days=8))[0]
    return booking_services.booking_hold(mentee=UserFactory(), service=intro, start=start)


@pytest.fixture
def card(stripe_server, held_booking):
    """The card the checkout page set up while Stripe was still quick."""
    secret = services.checkout_setup(booking_id=held_booking.pk, mentee=held_booking.mentee)
    return stripe_server.confirm_card_setup(secret)


@pytest.fixture
def slow_stripe(stripe_server, settings):
    settings.STRIPE_TIMEOUT_SECONDS = TIMEOUT
    # The check that the card is the payer's own is quick; the charge (and all else) is slow.
    proxy = SlowProxy(stripe_server.port, delay=DELAY, quick=(b"GET /v1/payment_methods/",)).start()
    settings.STRIPE_API_BASE = proxy.base
    yield proxy
    proxy.stop()


def intents_for(stripe_server, payment_ids) -> list[dict]:
    """Every PaymentIntent Stripe made for these payments of ours."""
    ids = {str(pk) for pk in payment_ids}
    return [
        i
        for i in stripe_server.get("/v1/payment_intents?limit=100000")["data"]
        if i["metadata"].get("payment_id") in ids
    ]


def pay_page(client, booking, card):
    client.force_login(booking.mentee)
    started = time.monotonic()
    response = client.post(reverse("checkout_pay", args=[booking.pk]), {"payment_method": card}, follow=True)
    return response, time.monotonic() - started


def test_a_slow_stripe_answers_the_mentee_within_the_timeout_and_charges_once(
    client, stripe_server, held_booking, card, slow_stripe, settings
):
    response, seconds = pay_page(client, held_booking, card)
    # One Stripe timeout, not the answer's 3 s (nor the SDK's default of 80 s and a dead worker).
    assert seconds < DELAY - 0.5
    assert response.status_code == 200
    page = response.content.decode()
    assert "never charged twice" in page and "Server Error" not in page
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.PROCESSING  # Stripe may have charged: we don't pretend to know
    assert slow_stripe.requests >= 1
    # The charge did reach Stripe, once.
    assert [i["status"] for i in intents_for(stripe_server, [payment.pk])] == ["succeeded"]

    # Stripe is quick again; the mentee presses Pay again: told to wait, nothing new is charged.
    settings.STRIPE_API_BASE = stripe_server.base
    response, _ = pay_page(client, held_booking, card)
    assert "still checking your last payment" in response.content.decode()
    assert Payment.objects.count() == 1

    # Within minutes the sweeper asks Stripe with the same idempotency key and gets the first charge.
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert tasks.resolve_stuck_payments() == 1
        assert tasks.resolve_stuck_payments() == 0
    payment.refresh_from_db()
    held_booking.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and payment.stripe_payment_intent_id
    assert held_booking.status == Booking.Status.PENDING
    assert len(intents_for(stripe_server, [payment.pk])) == 1
    charges = stripe_server.get(f"/v1/charges?customer={services.customer_for(held_booking.mentee)}")["data"]
    assert [c["amount"] for c in charges] == [4000]


def test_stripe_down_fails_the_attempt_at_once_and_another_try_works(
    client, stripe_server, held_booking, card, settings
):
    """Nothing listens: the request surely never reached Stripe, so the mentee may try again right away."""
    settings.STRIPE_TIMEOUT_SECONDS = TIMEOUT
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    response, seconds = pay_page(client, held_booking, card)
    assert seconds < TIMEOUT + 1
    assert "could not reach our payment provider" in response.content.decode()
    # Its first call (is the card the payer's own?) finds nobody, so nothing is charged or even recorded.
    assert not Payment.objects.exists()
    settings.STRIPE_API_BASE = stripe_server.base
    again = services.checkout_pay(mentee=held_booking.mentee, booking_id=held_booking.pk, payment_method_id=card)
    assert again.status == Payment.Status.SUCCEEDED
    held_booking.refresh_from_db()
    assert held_booking.status == Booking.Status.PENDING


def lost_before_stripe(booking, card) -> Payment:
    """A worker died after writing the payment row and before Stripe heard of it."""
    return Payment.objects.create(booking=booking, amount_cents=4000, currency="usd", payment_method_id=card)


def test_a_charge_lost_before_reaching_stripe_is_sent_again_once(stripe_server, held_booking, card):
    payment = lost_before_stripe(held_booking, card)
    assert stuck.stuck_payments_resolve() == 0  # too recent: its request may still be under way
    with pytest.raises(services.CheckoutError, match="still checking"):
        services.checkout_setup(booking_id=held_booking.pk, mentee=held_booking.mentee)
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert stuck.stuck_payments_resolve() == 1
        assert stuck.stuck_payments_resolve() == 0
    payment.refresh_from_db()
    held_booking.refresh_from_db()
    assert (payment.status, held_booking.status) == (Payment.Status.SUCCEEDED, Booking.Status.PENDING)
    assert [i["amount"] for i in intents_for(stripe_server, [payment.pk])] == [4000]


def test_a_stuck_payment_whose_hold_ran_out_is_failed_without_charging(stripe_server, held_booking, card):
    payment = lost_before_stripe(held_booking, card)
    with time_machine.travel(held_booking.hold_expires_at + timedelta(minutes=1)):
        assert stuck.stuck_payments_resolve() == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and "checkout time ran out" in payment.failure_message
    assert intents_for(stripe_server, [payment.pk]) == []


def test_a_charge_whose_answer_was_lost_and_whose_hold_ran_out_is_found_not_left_unaccounted(
    stripe_server, held_booking, card
):

    payment = lost_before_stripe(held_booking, card)
    # The charge reached Stripe and went through; its answer never came back, so no intent id is stored.
    charge_on_stripe(payment, card)
    booking_services.release_expired_holds(now=held_booking.hold_expires_at + timedelta(seconds=1))
    with time_machine.travel(held_booking.hold_expires_at + timedelta(minutes=3)):
        assert stuck.stuck_payments_resolve() == 1
    payment.refresh_from_db()
    held_booking.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and payment.stripe_payment_intent_id
    # Like any late payment: nobody took the time meanwhile, so the money buys it (else it is refunded).
    assert held_booking.status == Booking.Status.PENDING and not payment.refunds.exists()


def test_a_stuck_payment_with_a_known_intent_takes_stripes_word(stripe_server, held_booking, card):
    from payments import gateway

    payment = lost_before_stripe(held_booking, card)
    needs_3ds = stripe_server.confirm_card_setup(
        gateway.create_setup_intent(customer_id=services.customer_for(held_booking.mentee)), "4000002500003155"
    )
    result = charge_on_stripe(payment, needs_3ds)
    Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id=result.payment_intent_id)
    stripe_server.post(f"/v1/payment_intents/{result.payment_intent_id}/cancel", {})
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert stuck.stuck_payments_resolve() == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    # The mentee can pay again, and is charged once.
    again = services.checkout_pay(mentee=held_booking.mentee, booking_id=held_booking.pk, payment_method_id=card)
    assert again.status == Payment.Status.SUCCEEDED
    held_booking.refresh_from_db()
    assert held_booking.status == Booking.Status.PENDING


def test_while_stripe_stays_silent_the_sweeper_asks_again_later(
    stripe_server, held_booking, card, slow_stripe, settings
):
    payment = lost_before_stripe(held_booking, card)
    later = timezone.now() + timedelta(minutes=3)
    with time_machine.travel(later):
        assert stuck.stuck_payments_resolve() == 0  # no answer in time: still processing
        assert stuck.stuck_payments_resolve() == 0  # claimed: not asked again at once
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PROCESSING
    assert slow_stripe.requests == 1
    settings.STRIPE_API_BASE = stripe_server.base  # Stripe answers again
    with time_machine.travel(later + timedelta(minutes=3)):
        assert stuck.stuck_payments_resolve() == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert len(intents_for(stripe_server, [payment.pk])) == 1  # the unanswered request's charge, not a second


def test_two_sweepers_at_once_ask_stripe_once(stripe_server, held_booking, card):
    if connection.vendor != "postgresql":
        skip_or_fail("Races need PostgreSQL: set DATABASE_URL=postgres://…")
    payment = lost_before_stripe(held_booking, card)
    barrier = threading.Barrier(2)
    results = []

    def sweep():
        try:
            barrier.wait()
            results.append(stuck.stuck_payments_resolve())
        finally:
            connections.close_all()

    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert sorted(results) == [0, 1]
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert len(intents_for(stripe_server, [payment.pk])) == 1


def test_a_gunicorn_worker_outlives_a_slow_stripe(client, stripe_server, held_booking, card, settings, tmp_path):
    """The real server: a worker whose Stripe call outlasted gunicorn's timeout would be killed mid-request."""
    if connection.vendor != "postgresql":
        skip_or_fail("gunicorn shares the test database only on PostgreSQL: set DATABASE_URL=postgres://…")
    proxy = SlowProxy(stripe_server.port, delay=DELAY + 2, quick=(b"GET /v1/payment_methods/",)).start()
    db = connection.settings_dict
    login = f"{db['USER']}:{db['PASSWORD'] or ''}"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{login}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "STRIPE_API_BASE": proxy.base,
        "STRIPE_TIMEOUT_SECONDS": str(TIMEOUT),
        "STRIPE_SECRET_KEY": settings.STRIPE_SECRET_KEY,
        "STRIPE_IDEMPOTENCY_PREFIX": settings.STRIPE_IDEMPOTENCY_PREFIX,
    }
    log = tmp_path / "gunicorn.log"
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "mentorship.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
        + ["--timeout", str(DELAY), "--preload", "--error-logfile", str(log)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and gunicorn.poll() is None, "gunicorn did not start"
                time.sleep(0.1)
        client.force_login(held_booking.mentee)
        csrf = "a" * 32
        cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}
        started = time.monotonic()
        response = requests.post(
            f"{base}{reverse('checkout_pay', args=[held_booking.pk])}",
            data={"payment_method": card},
            cookies=cookies,
            headers={"X-CSRFToken": csrf},
            allow_redirects=False,
            timeout=DELAY + 5,
        )
        assert time.monotonic() - started < DELAY - 0.5
        assert response.status_code == 302  # back to the booking, with the message
        assert requests.get(f"{base}/", timeout=5).status_code == 200  # the same worker goes on serving
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=10)
        proxy.stop()
    assert "WORKER TIMEOUT" not in log.read_text()
    assert Payment.objects.get().status == Payment.Status.PROCESSING
