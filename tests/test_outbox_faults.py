"""Faults, for real: a broker that is down while people book, pay, confirm and decline, and a cache that is down.

Requests answer their normal pages; the side effects they decided wait as outbox rows and, once the
broker is back, the sweeper sends each exactly once.
"""

import shutil
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from bookings import selectors
from bookings.models import Booking
from mentorship import outbox
from mentorship.celery import app as celery_app
from mentorship.models import OutboxEntry
from payments import services as payment_services
from payments.models import Payment, Refund

from .brokers import PrivateRedis, celery_broker
from .conftest import skip_or_fail
from .factories import UserFactory, bookable_mentor
from .stripe_server import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]


@pytest.fixture
def broker():
    if not shutil.which("redis-server"):
        skip_or_fail("No redis-server found: install Debian's `redis-server` package for broker fault tests")
    server = PrivateRedis().start()
    with celery_broker(server.url):
        yield server
    server.stop()


def book_and_pay(client, stripe_server, mentor, mentee, start) -> Booking:
    """Through the pages a mentee uses: Book session, then Pay on the checkout."""
    client.force_login(mentee)
    intro = mentor.services.get(duration_minutes=30)
    response = client.post(reverse("book", args=[mentor.pk]), {"service": intro.pk, "start": start.isoformat()})
    booking = Booking.objects.get(mentee=mentee)
    assert response.status_code == 302 and response["Location"] == reverse("checkout", args=[booking.pk])
    secret = payment_services.checkout_setup(booking_id=booking.pk, mentee=mentee)
    payment_method = stripe_server.confirm_card_setup(secret)
    response = client.post(reverse("checkout_pay", args=[booking.pk]), {"payment_method": payment_method}, follow=True)
    assert response.status_code == 200
    assert "Payment received. Your session is pending" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING
    return booking


def wait_until_done(timeout: float = 30) -> None:
    """Wait for the worker, sweeping every second as beat does every minute.

    A hand-off the worker could not claim (on SQLite another thread may hold the table for a moment)
    stays pending, and in production the next sweep sends it again; so here.
    """
    deadline = time.monotonic() + timeout
    next_sweep = time.monotonic() + 1
    while time.monotonic() < deadline:  # another thread's work, not moving time
        try:
            if not OutboxEntry.objects.exclude(status=OutboxEntry.Status.DONE).exists():
                return
            if time.monotonic() >= next_sweep:
                outbox.sweep(now=timezone.now() + outbox.SWEEP_GRACE + timedelta(seconds=1))
                next_sweep = time.monotonic() + 1
        except OperationalError:  # SQLite: the worker's thread holds the table just now
            pass
        time.sleep(0.1)
    left = list(OutboxEntry.objects.exclude(status=OutboxEntry.Status.DONE).values("topic", "status", "last_error"))
    raise AssertionError(f"Outbox rows not done: {left}")


def test_with_the_broker_down_people_get_their_pages_and_everything_arrives_once_it_is_back(
    broker, stripe_server, client
):
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    first, second, *_ = selectors.open_slots(intro, start=now + timedelta(days=2), end=now + timedelta(days=4))
    broker.stop()  # Redis is down from here on

    to_confirm = book_and_pay(client, stripe_server, mentor, UserFactory(), first)
    to_decline = book_and_pay(client, stripe_server, mentor, UserFactory(), second)
    client.force_login(mentor.user)
    response = client.post(reverse("booking_confirm", args=[to_confirm.pk]), follow=True)
    assert response.status_code == 200 and "Confirmed." in response.content.decode()
    response = client.post(reverse("booking_decline", args=[to_decline.pk]), {"reason": "Away"}, follow=True)
    assert response.status_code == 200 and "Declined." in response.content.decode()

    # Decided and kept, not done: no e-mail, no refund yet.
    assert mail.outbox == [] and not Refund.objects.exists()
    assert OutboxEntry.objects.filter(status=OutboxEntry.Status.PENDING).count() >= 8

    broker.start()  # back on the same address
    later = timezone.now() + outbox.SWEEP_GRACE + timedelta(seconds=1)
    assert outbox.sweep(now=later) == OutboxEntry.objects.count()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
        wait_until_done()
        assert outbox.sweep(now=later + timedelta(minutes=5)) == 0  # nothing left to send again

    declined_payment = Payment.objects.get(booking=to_decline)
    (refund,) = Refund.objects.all()
    assert (refund.payment_id, refund.amount_cents, refund.status) == (declined_payment.pk, 4000, "succeeded")
    intent = stripe_server.get(f"/v1/payment_intents/{declined_payment.stripe_payment_intent_id}")
    assert sum(r["amount"] for r in intent["charges"]["data"][0]["refunds"]["data"]) == 4000

    def subjects(person):
        return sorted(m.subject for m in mail.outbox if m.to == [person.email])

    paid = f"Payment received — waiting for {mentor.user} to confirm"
    assert subjects(to_confirm.mentee) == sorted([f"{mentor.user} confirmed your session", paid])
    assert subjects(to_decline.mentee) == sorted([f"{mentor.user} declined your session", paid])
    mentor_subjects = subjects(mentor.user)
    assert mentor_subjects.count(f"New booking request from {to_confirm.mentee}") == 1
    assert mentor_subjects.count(f"New booking request from {to_decline.mentee}") == 1
    assert len([s for s in mentor_subjects if s.startswith("You confirmed")]) == 1
    confirmation = next(m for m in mail.outbox if m.subject == f"{mentor.user} confirmed your session")
    assert any(kind == "text/calendar" for _, _, kind in confirmation.attachments)  # the invite came too


def test_a_request_never_fails_on_the_hand_off_when_no_broker_listens(stripe_server, client):
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(intro, start=now + timedelta(days=2), end=now + timedelta(days=4))[0]
    with celery_broker(f"redis://127.0.0.1:{free_port()}/0"):  # nothing listens there
        booking = book_and_pay(client, stripe_server, mentor, UserFactory(), start)
    assert booking.status == Booking.Status.PENDING
    assert OutboxEntry.objects.filter(status=OutboxEntry.Status.PENDING).exists()
    # Eager again (as in every other test): the sweep does the work at once.
    outbox.sweep(now=timezone.now() + timedelta(minutes=2))
    assert not OutboxEntry.objects.exclude(status=OutboxEntry.Status.DONE).exists()
    assert {m.to[0] for m in mail.outbox} == {booking.mentee.email, mentor.user.email}


def test_with_the_cache_down_home_and_log_in_still_answer(client, settings):
    down = {
        "BACKEND": "mentorship.cache.ResilientRedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    settings.CACHES = {"default": down, "pages": {**down, "KEY_PREFIX": "pages"}}
    bookable_mentor()
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("account_login"), {"login": "nobody@example.com", "password": "wrong"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
