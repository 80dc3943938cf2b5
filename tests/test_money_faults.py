"""Money under faults: refunds Stripe fails or refuses, a broker that is down, payouts half done.

Every fault is real: the local Stripe server answers with an error (tests/stripe_faults.py),
Stripe is pointed at a port where nothing listens, or Celery at a broker that is not there.
"""

import json
import urllib.request
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from bookings import selectors
from bookings import services as booking_services
from bookings.models import Booking
from mentorship.celery import app as celery_app
from notifications.models import Notification
from payments import ledger, payouts, services, tasks
from payments.models import LedgerEntry, Payout, Refund

from .factories import UserFactory, bookable_mentor
from .stripe_faults import fail_next, forget_faults, stripe_unreachable
from .stripe_server import free_port
from .test_payments import charge_outside_checkout, pay
from .test_payouts import completed_session, onboard

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]


@pytest.fixture(autouse=True)
def _no_faults_left(stripe_server, settings):
    settings.PLATFORM_FEE_PERCENT = 15
    settings.PAYOUT_MINIMUM_CENTS = 1000
    yield
    forget_faults(stripe_server)


def paid_booking(stripe_server, *, mentor=None, minutes=30, offset=0) -> Booking:
    mentor = mentor or bookable_mentor()
    service = mentor.services.get(duration_minutes=minutes)
    now = timezone.now()
    start = selectors.open_slots(service, start=now, end=now + timedelta(days=7))[offset]
    booking = booking_services.booking_hold(mentee=UserFactory(), service=service, start=start)
    pay(stripe_server, booking)
    return booking


def completed(stripe_server, **kwargs) -> Booking:
    booking = paid_booking(stripe_server, **kwargs)
    booking_services.booking_confirm(booking.pk, actor=booking.mentor.user)
    booking_services.booking_complete(booking.pk, actor=booking.mentor.user, now=booking.end)
    return booking


def booking_ledger(booking) -> tuple[int, int]:
    """(mentor, platform): what the ledger credits for this booking, all refunds taken into account."""
    totals = LedgerEntry.objects.filter(booking=booking).aggregate(
        mentor=Sum("amount_cents", filter=Q(account="mentor")),
        platform=Sum("amount_cents", filter=Q(account="platform")),
    )
    return totals["mentor"] or 0, totals["platform"] or 0


def stripe_fails(stripe_server, refund: Refund) -> Refund:
    """Stripe fails a refund it had accepted (the card's bank sent it back) and says so when asked,
    as after a `refund.failed` event."""
    if hasattr(stripe_server, "set_refund_status"):  # a server that can fail it on its side
        stripe_server.set_refund_status(refund.stripe_refund_id, "failed", "expired_or_canceled_card")
    else:  # or it only answers so
        body = {"id": refund.stripe_refund_id, "object": "refund", "status": "failed", "amount": refund.amount_cents}
        fail_next(stripe_server, f"/v1/refunds/{refund.stripe_refund_id}", method="GET", status=200, body=body)
    return services.refund_sync(refund.stripe_refund_id)


def refunds_on_stripe(stripe_server, payment) -> list[int]:
    found = stripe_server.get(f"/v1/refunds?payment_intent={payment.stripe_payment_intent_id}")["data"]
    return [refund["amount"] for refund in found]


# Finding 1: refunds never exceed the charge, on every retry.


def test_a_failed_partial_refund_is_not_retried_on_top_of_a_later_full_refund(stripe_server):
    booking = completed(stripe_server)
    payment = booking.payments.get()
    partial = services.refund_grant(booking_id=booking.pk, actor=booking.mentor.user, amount_cents=1000)
    assert stripe_fails(stripe_server, partial).status == Refund.Status.FAILED
    services.refund_booking_in_full(booking.pk, reason="full_refund")  # staff settle a dispute meanwhile
    assert payment.refunded_cents() == 4000

    services.refunds_retry()
    services.refunds_retry(now=timezone.now() + timedelta(minutes=30))
    assert payment.refunded_cents() == 4000  # not 5,000 of a 4,000 charge
    assert not Refund.objects.filter(retry_of=partial).exists()
    assert booking_ledger(booking) == (0, 0)


def test_a_failed_refund_is_retried_for_no_more_than_is_left_at_retry_time(stripe_server):
    booking = completed(stripe_server)
    payment = booking.payments.get()
    first = services.refund_grant(booking_id=booking.pk, actor=booking.mentor.user, amount_cents=3000)
    stripe_fails(stripe_server, first)
    services.refund_grant(booking_id=booking.pk, actor=booking.mentor.user, amount_cents=2000)

    assert services.refunds_retry() == 1
    first.refresh_from_db()
    assert (first.retried_by.amount_cents, first.retried_by.status) == (2000, Refund.Status.SUCCEEDED)
    assert payment.refunded_cents() == 4000
    assert booking_ledger(booking) == (0, 0)


def test_a_refund_stripe_refuses_is_recorded_as_failed_with_its_reason_and_staff_see_it(client, stripe_server):
    booking = completed(stripe_server)
    payment = booking.payments.get()
    fail_next(stripe_server, "/v1/refunds", message="Charge has been disputed; it cannot be refunded now.")
    with pytest.raises(services.RefundFailed):  # the mentor is told Stripe did not take it yet
        services.refund_grant(booking_id=booking.pk, actor=booking.mentor.user, amount_cents=1500)
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.FAILED and "disputed" in refund.failure_message
    assert payment.refunded_cents() == 0
    assert ledger.balance_cents(booking.mentor) == 3400  # the share taken back is restored

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get("/admin/payments/refund/?status__exact=failed").content.decode()
    assert "disputed" in page

    # The sweeper tries again as a new refund with its own key; Stripe takes it this time.
    assert services.refunds_retry() == 1
    refund.refresh_from_db()
    assert refund.retried_by.status == Refund.Status.SUCCEEDED and refund.retried_by.attempt == 2
    assert payment.refunded_cents() == 1500 and refunds_on_stripe(stripe_server, payment) == [1500]
    assert booking_ledger(booking) == (2500 - 375, 375)


def test_a_refund_stripe_cannot_be_reached_for_stays_owed_and_is_sent_once_later(stripe_server):
    booking = completed(stripe_server)
    payment = booking.payments.get()
    with stripe_unreachable(), pytest.raises(services.RefundFailed):
        services.refund_booking_in_full(booking.pk, reason="no_show")
    refund = Refund.objects.get()
    assert (refund.status, refund.stripe_refund_id, refund.amount_cents) == (Refund.Status.PENDING, "", 4000)
    assert payment.refunded_cents() == 4000 and booking_ledger(booking) == (0, 0)
    later = timezone.now() + timedelta(minutes=6)
    assert services.refunds_retry(now=later) == 1
    assert services.refunds_retry(now=later) == 0
    assert refunds_on_stripe(stripe_server, payment) == [4000]


def test_the_database_refuses_a_refund_of_nothing(stripe_server):
    payment = paid_booking(stripe_server).payments.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(payment=payment, amount_cents=0, reason="nothing")


# Finding 3: a late payment whose refund only waits in a queue cannot buy a time that frees up.


@contextmanager
def broker_unreachable():
    """Celery hands tasks to a broker where nothing listens, as when Redis is down."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    conf.broker_url, conf.task_always_eager = f"redis://127.0.0.1:{free_port()}/0", False
    _forget_broker_connections()
    try:
        yield
    finally:
        conf.broker_url, conf.task_always_eager = saved
        _forget_broker_connections()


def _forget_broker_connections():
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_a_late_payment_whose_refund_waits_cannot_buy_a_time_that_frees_up(stripe_server):
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(intro, start=now, end=now + timedelta(days=7))[0]
    late_booking = booking_services.booking_hold(mentee=UserFactory(), service=intro, start=start)
    Booking.objects.filter(pk=late_booking.pk).update(hold_expires_at=now - timedelta(seconds=1))
    other = booking_services.booking_hold(mentee=UserFactory(), service=intro, start=start)
    pay(stripe_server, other)

    late = charge_outside_checkout(late_booking, stripe_server)
    with broker_unreachable():
        services.payment_succeeded(late.pk)  # the time is taken: refund decided, but no worker can be told
    assert late.refunded_cents() == 4000  # owed from this commit on, though not sent yet

    booking_services.booking_cancel(other.pk, actor=other.mentee)  # the time is free again
    services.payment_succeeded(late.pk)  # Stripe's webhook for the late payment arrives
    late_booking.refresh_from_db()
    assert late_booking.status != Booking.Status.PENDING

    # The sweeper sends the waiting refund a few minutes later, once.
    later = timezone.now() + timedelta(minutes=6)
    assert services.refunds_retry(now=later) == 1
    assert services.refunds_retry(now=later) == 0
    assert Refund.objects.get(payment=late).status == Refund.Status.SUCCEEDED
    late.refresh_from_db()
    assert refunds_on_stripe(stripe_server, late) == [4000]


# Finding 5: ledger reversals are cumulative, so any sequence of refunds nets to the cent.


def test_a_75_dollar_session_refunded_in_two_parts_nets_both_accounts_to_zero(stripe_server):
    booking = completed(stripe_server, minutes=60)
    payment = booking.payments.get()
    assert booking_ledger(booking) == (6375, 1125)
    services.refund_payment(payment, amount_cents=250, reason="granted_by_mentor")
    assert booking_ledger(booking) == (7250 - 1088, 1088)
    services.refund_booking_in_full(booking.pk, reason="full_refund")
    assert booking_ledger(booking) == (0, 0)


def test_refunds_after_a_late_cancellation_net_to_the_split_of_what_was_kept(stripe_server):
    booking = paid_booking(stripe_server, minutes=60)
    booking_services.booking_confirm(booking.pk, actor=booking.mentor.user)
    booking_services.booking_cancel(booking.pk, actor=booking.mentee, now=booking.start - timedelta(hours=1))
    assert booking_ledger(booking) == (6375, 1125)  # too late for a refund: the session's money is the mentor's
    for amount in (333, 1, 2917):
        services.refund_grant(booking_id=booking.pk, actor=booking.mentor.user, amount_cents=amount)
        kept = 7500 - booking.payments.get().refunded_cents()
        fee = ledger.platform_fee_cents(kept)
        assert booking_ledger(booking) == (kept - fee, fee)
    assert booking_ledger(booking) == (4249 - 637, 637)


# Finding 2: payouts in two recorded steps.


def bank_payouts(stripe_server, account) -> list[int]:
    request = urllib.request.Request(
        f"{stripe_server.base}/v1/payouts",
        headers={"Authorization": "Bearer sk_test_localstripe", "Stripe-Account": account.stripe_account_id},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return [p["amount"] for p in json.load(response)["data"]]


def transfers(stripe_server, account) -> list[int]:
    return [t["amount"] for t in stripe_server.get(f"/v1/transfers?destination={account.stripe_account_id}")["data"]]


def test_a_failed_bank_payout_is_retried_and_the_money_is_never_transferred_twice(stripe_server, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0  # the failure outlasts the call (the SDK's own retries would absorb one)
    mentor = bookable_mentor()
    account = onboard(stripe_server, mentor)
    completed_session(mentor, stripe_server)
    mail.outbox.clear()
    # Stripe could not finish the bank step this time (its 5xx, which it does not keep under the key).
    fail_next(stripe_server, "/v1/payouts", status=503, message="The bank could not be reached.")

    (payout,) = payouts.payouts_run()
    assert payout.status == Payout.Status.TRANSFERRED and payout.stripe_transfer_id and payout.transferred_at
    assert payout.failure_message
    assert ledger.balance_cents(mentor) == 0  # on its way, not back on the balance

    (again,) = payouts.payouts_run()  # the next run: the bank step only, with the same key
    assert (again.pk, again.status, again.failure_message) == (payout.pk, Payout.Status.PAID, "")
    assert payouts.payouts_run() == []
    assert transfers(stripe_server, account) == [3400]  # transferred == earned
    assert bank_payouts(stripe_server, account) == [3400]
    assert [m.subject for m in mail.outbox] == ["Payout of $34.00 is on its way"]


def test_a_transfer_whose_answer_was_lost_is_asked_again_with_the_same_key_not_repeated(stripe_server, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0  # the whole call went unanswered (a retry would get the answer)
    mentor = bookable_mentor()
    account = onboard(stripe_server, mentor)
    completed_session(mentor, stripe_server)
    fail_next(stripe_server, "/v1/transfers", status=503, after=True)  # Stripe moved the money; we never heard

    (payout,) = payouts.payouts_run()
    assert payout.status == Payout.Status.PENDING and not payout.stripe_transfer_id
    assert ledger.balance_cents(mentor) == 0  # not put back: the money may have moved
    assert payouts.payouts_run() == []  # one payout at a time, and too recent to ask again

    # Beat's finisher, minutes later, asks again with the same key: Stripe answers with the first transfer.
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        tasks.finish_payouts.delay()
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    assert transfers(stripe_server, account) == [3400]
    assert bank_payouts(stripe_server, account) == [3400]
    assert payouts.payouts_run() == []


def test_beat_finishes_payouts_left_half_way_within_minutes():
    entry = celery_app.conf.beat_schedule["finish-payouts"]
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] <= timedelta(minutes=10)  # far inside the 24 hours Stripe keeps an idempotency key


# A package credit returned after the package expired goes back to the card: through the same capped path.


def test_a_credit_returned_after_expiry_refunds_its_value_once_and_never_beyond_the_package_price(stripe_server):
    from bookings import packages
    from bookings.models import PackagePurchase, SupportTicket

    from .test_packages import book_with_credit, buy

    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    package = packages.package_save(mentor, service=intro, sessions=5, price_cents=17000, valid_days=90)
    purchase = buy(stripe_server, package)
    PackagePurchase.objects.filter(pk=purchase.pk).update(expires_at=timezone.now() + timedelta(days=5))
    booking = book_with_credit(purchase)
    booking_services.booking_confirm(booking.pk, actor=mentor.user)
    payment = purchase.payments.get()
    services.refund_payment(payment, amount_cents=15000, reason="goodwill")  # staff gave most of it back already
    ticket = booking_services.no_show_report(
        booking.pk, actor=purchase.mentee, now=booking.start + timedelta(minutes=15)
    )
    with time_machine.travel(timezone.now() + timedelta(days=6)):  # settled after the package expired
        booking_services.ticket_resolve(
            ticket.pk, staff=UserFactory(is_staff=True), resolution=SupportTicket.Resolution.MENTOR_NO_SHOW_REFUND
        )
    assert services.credit_returned(booking.pk) is None  # the job again: nothing more
    refund = payment.refunds.get(reason=f"credit-after-expiry-{booking.pk}")
    assert (refund.amount_cents, refund.status) == (2000, Refund.Status.SUCCEEDED)  # 3,400 asked, 2,000 left
    assert payment.refunded_cents() == 17000
    payment.refresh_from_db()
    assert sorted(refunds_on_stripe(stripe_server, payment)) == [2000, 15000]


def test_retries_and_full_refunds_racing_never_refund_beyond_the_charge(stripe_server):
    from django.db import connection

    from .conftest import skip_or_fail
    from .test_concurrency import run_together

    if connection.vendor != "postgresql":
        skip_or_fail("Races need PostgreSQL: set DATABASE_URL=postgres://…")
    booking = completed(stripe_server)
    payment = booking.payments.get()
    partial = services.refund_grant(booking_id=booking.pk, actor=booking.mentor.user, amount_cents=1500)
    stripe_fails(stripe_server, partial)

    def work(index):
        if index % 2:
            return services.refunds_retry()
        return services.refund_booking_in_full(booking.pk, reason="full_refund")

    results = run_together(8, work)
    assert not [r for r in results if isinstance(r, Exception)]
    assert payment.refunded_cents() == 4000
    payment.refresh_from_db()
    on_stripe = stripe_server.get(f"/v1/refunds?payment_intent={payment.stripe_payment_intent_id}")["data"]
    assert sum(r["amount"] for r in on_stripe if r["id"] != partial.stripe_refund_id) == 4000
    assert booking_ledger(booking) == (0, 0)


def test_a_bank_step_stripe_keeps_refusing_is_told_to_staff_once_and_paid_when_it_goes_through(stripe_server):
    staff = UserFactory(is_staff=True)
    mentor = bookable_mentor()
    account = onboard(stripe_server, mentor)
    completed_session(mentor, stripe_server)
    for _ in range(payouts.BANK_REFUSALS_TOLD + 1):  # the mentor's bank details are wrong, say
        fail_next(stripe_server, "/v1/payouts", status=400, message="The bank account is closed.")
        (payout,) = payouts.payouts_run()
        assert payout.status == Payout.Status.TRANSFERRED
    told = Notification.objects.filter(user=staff, kind="payout_stuck")
    assert told.count() == 1 and "The bank account is closed." in told.get().body
    (paid,) = payouts.payouts_run()  # fixed on Stripe's side: a new request goes through
    assert paid.status == Payout.Status.PAID
    assert transfers(stripe_server, account) == [3400] and bank_payouts(stripe_server, account) == [3400]
