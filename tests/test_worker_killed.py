"""A Celery worker killed with SIGKILL in the middle of a batch of refunds loses and duplicates nothing.

The worker is a real process consuming from a private Redis and writing to the test database, so this
runs on PostgreSQL (CI); SQLite's test database lives in this process's memory.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from bookings import selectors, services
from bookings.models import Booking
from mentorship import outbox
from mentorship.models import OutboxEntry
from notifications.models import Notification
from payments import services as payment_services
from payments.models import Payment, Refund

from .brokers import celery_broker
from .conftest import skip_or_fail
from .factories import UserFactory, bookable_mentor
from .test_outbox_faults import broker  # noqa: F401  (the private Redis fixture)
from .test_payments import pay

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]
BATCH = 12


def start_worker(broker_url: str, stripe_base: str) -> subprocess.Popen:
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": broker_url,
        "CELERY_BROKER_URL": broker_url,  # where the test publishes (not the cache's paired database)
        "STRIPE_API_BASE": stripe_base,
        "STRIPE_SECRET_KEY": "sk_test_localstripe",
        "OUTBOX_LEASE_SECONDS": "2",
        "EMAIL_URL": "dummymail://",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "mentorship", "worker", "--pool", "solo", "--loglevel", "WARNING"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # another process's work, not moving time
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"Timed out waiting for {what}")


def test_a_worker_killed_mid_batch_loses_and_duplicates_no_refund(broker, stripe_server):  # noqa: F811
    if connection.vendor != "postgresql":
        skip_or_fail("A worker in another process needs PostgreSQL: set DATABASE_URL=postgres://…")
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    starts = selectors.open_slots(intro, start=now + timedelta(days=2), end=now + timedelta(days=9))[::3][:BATCH]
    bookings = []
    for start in starts:
        booking = services.booking_hold(mentee=UserFactory(), service=intro, start=start)
        pay(stripe_server, booking)
        bookings.append(booking)

    with celery_broker(broker.url):
        for booking in bookings:  # each decline queues its refund and notices on the real broker
            services.booking_decline(booking.pk, actor=mentor.user, reason="Away")
        worker = start_worker(broker.url, stripe_server.base)
        try:
            wait_for(lambda: Refund.objects.exclude(stripe_refund_id="").count() >= 3, 60, "the first refunds")
        finally:
            os.killpg(worker.pid, signal.SIGKILL)  # in the middle of the batch
            worker.wait(timeout=10)
        assert Refund.objects.exclude(stripe_refund_id="").count() < BATCH, "the batch ended before the kill"

        worker = start_worker(broker.url, stripe_server.base)
        try:

            def all_done() -> bool:
                outbox.sweep(now=timezone.now() + outbox.SWEEP_GRACE)  # what beat does every minute
                return not OutboxEntry.objects.exclude(status=OutboxEntry.Status.DONE).exists()

            wait_for(all_done, 90, "every outbox row to be done")
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=20)
    # A refund the killed worker had claimed, and maybe sent, waits for its claim to lapse; then beat's
    # retry-refunds (every 10 minutes) sends it under the same idempotency key: once on Stripe either way.
    payment_services.refunds_retry(now=timezone.now() + payment_services.SEND_LEASE + timedelta(minutes=10))

    for booking in bookings:
        payment = Payment.objects.get(booking=booking)
        refunds = list(payment.refunds.all())
        assert [(r.amount_cents, r.status) for r in refunds] == [(4000, "succeeded")], booking.pk
        intent = stripe_server.get(f"/v1/payment_intents/{payment.stripe_payment_intent_id}")
        on_stripe = intent["charges"]["data"][0]["refunds"]["data"]
        assert [r["amount"] for r in on_stripe] == [4000], booking.pk  # refunded once on Stripe too
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.DECLINED
        assert Notification.objects.filter(booking=booking, kind="booking_declined").count() == 1
