"""Stripe Connect and payouts through the real SDK against the local Stripe server's Connect stand-in.

Payouts under faults and random sequences: tests/test_money_faults.py, tests/test_money_properties.py.
"""

import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from bookings import selectors
from bookings import services as booking_services
from payments import ledger, payouts, services
from payments.models import ConnectedAccount, Payout

from .factories import UserFactory, bookable_mentor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]


def onboard(stripe_server, mentor) -> ConnectedAccount:
    """Connect the mentor's Stripe account, pressing the onboarding page's button as a person would."""
    url = payouts.connect_start(
        mentor, return_url="http://testserver/return/", refresh_url="http://testserver/refresh/"
    )
    assert url.startswith(stripe_server.base)

    class KeepRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    data = urllib.parse.urlencode({"return_url": "http://testserver/return/"}).encode()
    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(KeepRedirect).open(url.split("?")[0], data=data)
    assert redirect.value.headers["Location"] == "http://testserver/return/"
    return payouts.connect_refresh(mentor)


def completed_session(mentor, stripe_server, *, offset=0):
    service = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(service, start=now, end=now + timedelta(days=7))[offset]
    booking = booking_services.booking_hold(mentee=UserFactory(), service=service, start=start)
    secret = services.checkout_setup(booking_id=booking.pk, mentee=booking.mentee)
    services.checkout_pay(
        booking_id=booking.pk, mentee=booking.mentee, payment_method_id=stripe_server.confirm_card_setup(secret)
    )
    booking_services.booking_confirm(booking.pk, actor=mentor.user)
    booking_services.booking_complete(booking.pk, actor=mentor.user, now=booking.end)
    return booking


@pytest.fixture
def mentor(settings):
    settings.PLATFORM_FEE_PERCENT = 15
    settings.PAYOUT_MINIMUM_CENTS = 1000
    return bookable_mentor()


def test_a_connected_mentor_is_paid_their_balance_once_and_told(stripe_server, mentor):
    account = onboard(stripe_server, mentor)
    assert account.details_submitted and account.payouts_enabled
    completed_session(mentor, stripe_server)
    mail.outbox.clear()

    (payout,) = payouts.payouts_run()
    assert (payout.status, payout.amount_cents) == (Payout.Status.PAID, 3400)
    assert payouts.payouts_run() == []  # balance is 0 now
    assert ledger.balance_cents(mentor) == 0
    transfers = stripe_server.get(f"/v1/transfers?destination={account.stripe_account_id}")["data"]
    assert [(t["amount"], t["metadata"]["payout_id"]) for t in transfers] == [(3400, str(payout.pk))]
    assert [m.subject for m in mail.outbox] == ["Payout of $34.00 is on its way"]


def test_no_payout_below_the_minimum_or_without_a_connected_account(stripe_server, mentor, settings):
    completed_session(mentor, stripe_server)
    assert payouts.payouts_run() == []  # not connected
    onboard(stripe_server, mentor)
    settings.PAYOUT_MINIMUM_CENTS = 5000
    assert payouts.payouts_run() == []
    assert not Payout.objects.exists()


def test_a_failed_payout_returns_the_money_and_the_next_run_pays_it(stripe_server, mentor):
    completed_session(mentor, stripe_server)
    # Our record says ready, but Stripe refuses: an account it does not know.
    ConnectedAccount.objects.create(mentor=mentor, stripe_account_id="acct_unknown", payouts_enabled=True)
    (failed,) = payouts.payouts_run()
    assert failed.status == Payout.Status.FAILED and failed.failure_message
    assert ledger.balance_cents(mentor) == 3400
    ConnectedAccount.objects.filter(mentor=mentor).delete()
    onboard(stripe_server, mentor)
    (paid,) = payouts.payouts_run()
    assert (paid.status, paid.amount_cents) == (Payout.Status.PAID, 3400)


def test_money_refunded_after_a_payout_is_netted_in_the_next_one(stripe_server, mentor):
    onboard(stripe_server, mentor)
    first = completed_session(mentor, stripe_server)
    payouts.payouts_run()
    services.refund_booking_in_full(first.pk, reason="no_show")  # after it was paid out
    assert ledger.balance_cents(mentor) == -3400
    completed_session(mentor, stripe_server, offset=2)
    completed_session(mentor, stripe_server, offset=4)
    (payout,) = payouts.payouts_run()
    assert payout.amount_cents == 2 * 3400 - 3400


def test_a_payout_left_half_way_is_finished_with_the_same_keys(stripe_server, mentor):
    account = onboard(stripe_server, mentor)
    completed_session(mentor, stripe_server)
    claimed = payouts._claim(mentor.pk)  # the worker died right after claiming
    Payout.objects.filter(pk=claimed.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    (finished,) = payouts.payouts_run()
    assert finished.pk == claimed.pk and finished.status == Payout.Status.PAID
    transfers = stripe_server.get(f"/v1/transfers?destination={account.stripe_account_id}")["data"]
    assert len(transfers) == 1
