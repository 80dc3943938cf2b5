"""Races for one time against PostgreSQL: exactly one mentee gets it, everyone else a clear message."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings import selectors
from bookings.models import Booking

from .conftest import skip_or_fail
from .factories import UserFactory, bookable_mentor

pytestmark = pytest.mark.django_db(transaction=True)
RACERS = 24


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        skip_or_fail("Races need PostgreSQL: set DATABASE_URL=postgres://…")


def race(posts: list[tuple[Client, str, dict]]) -> list:
    """Send every POST at the same moment, each from its own thread and database connection."""
    barrier = threading.Barrier(len(posts))
    responses = [None] * len(posts)

    def run(index, client, url, data):
        try:
            barrier.wait()
            responses[index] = client.post(url, data)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, *post)) for i, post in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def logged_in_client() -> Client:
    client = Client()
    client.force_login(UserFactory())
    return client


def outcome(responses):
    won = [r for r in responses if "/checkout/" in r.url]
    told = [r for r in responses if "/mentors/" in r.url]
    return won, told


def test_many_mentees_racing_for_one_slot(mentor_and_slot):
    mentor, service, start = mentor_and_slot
    url = reverse("book", args=[mentor.pk])
    posts = [(logged_in_client(), url, {"service": service.pk, "start": start.isoformat()}) for _ in range(RACERS)]
    responses = race(posts)
    assert all(r is not None and r.status_code == 302 for r in responses)
    won, told = outcome(responses)
    assert (len(won), len(told)) == (1, RACERS - 1)
    assert Booking.objects.filter(status=Booking.Status.HELD).count() == 1
    follow = posts[responses.index(told[0])][0].get(told[0].url)
    assert "This time was just taken — please pick another." in follow.content.decode()


def test_overlapping_times_of_different_services_race_too(mentor_and_slot):
    mentor, intro, start = mentor_and_slot
    deep_dive = mentor.services.get(duration_minutes=60)
    url = reverse("book", args=[mentor.pk])
    choices = [(intro, start), (deep_dive, start - timedelta(minutes=30)), (deep_dive, start)]
    posts = [
        (logged_in_client(), url, {"service": service.pk, "start": at.isoformat()})
        for i in range(RACERS)
        for service, at in [choices[i % len(choices)]]
    ]
    won, told = outcome(race(posts))
    assert (len(won), len(told)) == (1, RACERS - 1)
    held = Booking.objects.filter(status=Booking.Status.HELD)
    assert held.count() == 1


def test_the_database_refuses_overlap_even_without_the_lock(mentor_and_slot):
    mentor, service, start = mentor_and_slot
    mentee = UserFactory()
    fields = {
        "mentee": mentee,
        "mentor": mentor,
        "service": service,
        "end": start + timedelta(minutes=30),
        "price_cents": 4000,
        "currency": "usd",
        "status": Booking.Status.PENDING,
    }
    Booking.objects.create(start=start, blocked_start=start, blocked_end=start + timedelta(minutes=45), **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        later = start + timedelta(minutes=30)
        Booking.objects.create(start=later, blocked_start=later, blocked_end=later + timedelta(minutes=30), **fields)
    # Bookings that no longer take time do not count.
    Booking.objects.update(status=Booking.Status.DECLINED)
    Booking.objects.create(start=start, blocked_start=start, blocked_end=start + timedelta(minutes=30), **fields)


@pytest.fixture
def mentor_and_slot():
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    slots = selectors.open_slots(intro, start=now, end=now + timedelta(days=7))
    return mentor, intro, slots[2]


def run_together(count: int, work) -> list:
    """Run work(index) in `count` threads at once; returns each result or exception."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def paid_booking(stripe_server, mentor_and_slot):
    from bookings import services as booking_services
    from payments import services as payment_services

    mentor, service, start = mentor_and_slot
    booking = booking_services.booking_hold(mentee=UserFactory(), service=service, start=start)
    secret = payment_services.checkout_setup(booking_id=booking.pk, mentee=booking.mentee)
    payment_method = stripe_server.confirm_card_setup(secret)
    payment = payment_services.checkout_pay(
        booking_id=booking.pk, mentee=booking.mentee, payment_method_id=payment_method
    )
    return booking, payment


def test_a_webhook_delivered_20_times_at_once_changes_state_once(stripe_server, mentor_and_slot, settings):
    from payments import gateway, services
    from payments.models import Payment, WebhookEvent

    from .test_payments import signed

    mentor, service, start = mentor_and_slot
    from bookings import services as booking_services

    booking = booking_services.booking_hold(mentee=UserFactory(), service=service, start=start)
    secret = services.checkout_setup(booking_id=booking.pk, mentee=booking.mentee)
    payment = Payment.objects.create(booking=booking, amount_cents=4000, currency="usd")
    result = gateway.charge(
        payment_id=payment.pk,
        amount_cents=4000,
        currency="usd",
        customer_id=services.customer_for(booking.mentee),
        payment_method_id=stripe_server.confirm_card_setup(secret),
        metadata={"booking_id": str(booking.pk)},
    )
    event = {
        "id": "evt_concurrent",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": result.payment_intent_id, "metadata": {"payment_id": str(payment.pk)}}},
    }
    body, signature = signed(event, settings.STRIPE_WEBHOOK_SECRET)
    url = reverse("stripe_webhook")
    responses = run_together(
        20, lambda _: Client().post(url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
    )
    assert [getattr(r, "status_code", r) for r in responses] == [200] * 20
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING
    assert booking.events.filter(to_status="pending").count() == 1
    assert WebhookEvent.objects.count() == 1


def test_concurrent_refunds_never_exceed_the_charge(stripe_server, paid_booking):
    from payments import services
    from payments.models import Refund

    booking, payment = paid_booking
    results = run_together(20, lambda _: services.refund_payment(payment, amount_cents=1500, reason="partial"))
    assert sum(isinstance(r, Refund) for r in results) == 2  # 2 × 1500 ≤ 4000 < 3 × 1500
    assert all(isinstance(r, Refund | ValueError) for r in results)
    on_stripe = stripe_server.get(f"/v1/refunds?payment_intent={payment.stripe_payment_intent_id}")["data"]
    assert sum(r["amount"] for r in on_stripe) == 3000


def test_sweepers_run_twice_at_once_send_each_reminder_once(stripe_server, paid_booking):
    import time_machine
    from django.core import mail

    from bookings import reminders
    from bookings import services as booking_services

    booking, _ = paid_booking
    booking_services.booking_confirm(booking.pk, actor=booking.mentor.user)
    mail.outbox.clear()
    with time_machine.travel(booking.start - timedelta(minutes=30)):
        results = run_together(4, lambda _: reminders.run_all())
    assert sum(r["reminders"] for r in results) == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([booking.mentee.email, booking.mentor.user.email])


def test_status_sweepers_run_at_once_change_each_booking_once(stripe_server, paid_booking):
    import time_machine
    from django.core import mail

    from bookings import services as booking_services
    from payments.models import Refund

    booking, payment = paid_booking
    mail.outbox.clear()
    with time_machine.travel(booking.start + timedelta(minutes=1)):  # unanswered until the start
        results = run_together(4, lambda _: booking_services.expire_pending_bookings())
    assert sum(results) == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.EXPIRED
    assert booking.events.filter(to_status="expired").count() == 1
    assert [r.amount_cents for r in Refund.objects.filter(payment=payment)] == [4000]


@pytest.mark.stripe
def test_the_last_package_credit_is_spent_once_when_two_tabs_use_it_at_once(stripe_server):
    from bookings import packages
    from bookings import services as booking_services
    from bookings.models import PackagePurchase

    from .test_packages import buy

    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    package = packages.package_save(mentor, service=intro, sessions=2, price_cents=7000, valid_days=30)
    purchase = buy(stripe_server, package)
    PackagePurchase.objects.filter(pk=purchase.pk).update(sessions=1)  # one credit left to fight over
    now = timezone.now()
    starts = selectors.open_slots(intro, start=now + timedelta(days=3), end=now + timedelta(days=6))[:8:4]
    client = Client()
    client.force_login(purchase.mentee)
    holds = []
    for start in starts:  # two tabs, two times, one credit
        booking = booking_services.booking_hold(mentee=purchase.mentee, service=intro, start=start)
        Booking.objects.filter(pk=booking.pk).update(status="held")  # the second hold released the first; keep both
        holds.append(booking)
    Booking.objects.filter(pk__in=[b.pk for b in holds]).update(hold_expires_at=now + timedelta(minutes=10))
    responses = race([(client, reverse("booking_use_credit", args=[b.pk]), {"purchase": purchase.pk}) for b in holds])
    assert sorted(r.status_code for r in responses) == [302, 302]
    assert Booking.objects.filter(package_purchase=purchase).count() == 1
    assert packages.credits_left(PackagePurchase.objects.get(pk=purchase.pk)) == 0


def test_two_tabs_cannot_both_get_past_the_free_sessions_limit():
    """One free intro call per mentee: the same mentee books two different free times from many tabs at once.
    The limit is counted under the mentor lock the booking takes, so exactly one request goes through."""
    from mentorship.models import Service

    mentor = bookable_mentor()
    free = Service.objects.create(
        mentor=mentor, title="Free intro call", duration_minutes=30, price_cents=0, free_sessions_per_mentee=1
    )
    now = timezone.now()
    slots = selectors.open_slots(free, start=now, end=now + timedelta(days=7))
    mentee = UserFactory()
    url = reverse("book", args=[mentor.pk])
    tabs = []
    for index in range(8):
        client = Client()
        client.force_login(mentee)
        tabs.append((client, url, {"service": free.pk, "start": slots[index * 2].isoformat()}))
    responses = race(tabs)
    assert all(r is not None and r.status_code == 302 for r in responses)
    sent = [r for r in responses if "/bookings/" in r.url]
    told = [r for r in responses if "/mentors/" in r.url]
    assert (len(sent), len(told)) == (1, len(tabs) - 1)
    assert Booking.objects.filter(mentee=mentee, status=Booking.Status.PENDING).count() == 1
    assert Booking.objects.filter(mentee=mentee).count() == 1
    follow = tabs[responses.index(told[0])][0].get(told[0].url)
    assert "offers one free “Free intro call” session per mentee" in follow.content.decode()
