"""Packages: bought through the same checkout, booked with credits that come back when a session
doesn't happen, earned by the mentor per session and at expiry, reminded before expiry."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings import packages, selectors
from bookings import services as booking_services
from bookings.models import Booking, Package, PackagePurchase, SupportTicket
from payments import services
from payments.models import LedgerEntry, Payment

from .factories import UserFactory, bookable_mentor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]


@pytest.fixture
def offer():
    """Five 30-minute intros (usually $40 each) for $170, valid 90 days."""
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    return packages.package_save(mentor, service=intro, sessions=5, price_cents=17000, valid_days=90)


def buy(stripe_server, package, mentee=None, number="4242424242424242") -> PackagePurchase:
    mentee = mentee or UserFactory()
    purchase = packages.purchase_start(mentee=mentee, package_id=package.pk)
    secret = services.checkout_setup(mentee=mentee, purchase_id=purchase.pk)
    payment_method = stripe_server.confirm_card_setup(secret, number)
    services.checkout_pay(mentee=mentee, purchase_id=purchase.pk, payment_method_id=payment_method)
    purchase.refresh_from_db()
    return purchase


def hold(purchase, *, days_ahead=3, service=None):
    service = service or purchase.service
    now = timezone.now()
    taken = set(Booking.objects.filter(mentor=service.mentor).values_list("start", flat=True))
    start = next(
        s
        for s in selectors.open_slots(service, start=now + timedelta(days=days_ahead), end=now + timedelta(days=40))
        if s not in taken
    )
    return booking_services.booking_hold(mentee=purchase.mentee, service=service, start=start)


def book_with_credit(purchase, **kwargs) -> Booking:
    booking = hold(purchase, **kwargs)
    return packages.booking_pay_with_credit(booking.pk, mentee=purchase.mentee, purchase_id=purchase.pk)


def test_a_package_is_bought_through_checkout_and_its_credits_start(client, stripe_server, offer):
    mentee = UserFactory()
    first = packages.purchase_start(mentee=mentee, package_id=offer.pk)
    assert packages.purchase_start(mentee=mentee, package_id=offer.pk) == first  # a double click: one purchase
    purchase = buy(stripe_server, offer, mentee)
    assert purchase.pk == first.pk and purchase.status == "paid"
    assert purchase.expires_at == purchase.paid_at + timedelta(days=90)
    payment = Payment.objects.get(purchase=purchase)
    assert (payment.amount_cents, payment.status, payment.booking_id) == (17000, "succeeded", None)
    intent = stripe_server.get(f"/v1/payment_intents/{payment.stripe_payment_intent_id}")
    assert intent["amount"] == 17000 and intent["metadata"]["package_purchase_id"] == str(purchase.pk)
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects[mentee.email] == "Your package is ready: 5 × 30-min intro"
    assert "bought your package 5 × 30-min intro" in subjects[offer.mentor.user.email]
    assert packages.credits_left(purchase) == 5
    client.force_login(mentee)
    page = client.get(reverse("my_packages")).content.decode()
    assert "5 of 5 credits left" in page and f"{purchase.expires_at:%-d %B %Y}" in page
    receipt = client.get(reverse("receipt", args=[payment.pk])).content.decode()
    assert "Package 5 × 30-min intro" in receipt and f"P-{purchase.pk:06d}" in receipt
    client.force_login(UserFactory())  # someone else's purchase and receipt
    assert client.get(reverse("package_checkout", args=[purchase.pk])).status_code == 404
    assert client.get(reverse("receipt", args=[payment.pk])).status_code == 404


def test_the_terms_are_shown_before_paying(client, stripe_server, offer):
    mentee = UserFactory()
    client.force_login(mentee)
    profile = client.get(reverse("mentor_profile", args=[offer.mentor_id])).content.decode()
    assert "5 × 30-min intro" in profile and "save $30.00" in profile
    response = client.post(reverse("package_buy", args=[offer.pk]))
    purchase = PackagePurchase.objects.get()
    assert response.url == reverse("package_checkout", args=[purchase.pk])
    page = client.get(response.url).content.decode()
    assert "Credits expire 90 days after you pay" in page and "not refunded" in page and "Pay $170.00" in page


def test_booking_with_a_credit_skips_the_card_and_tells_the_mentor(client, stripe_server, offer):
    purchase = buy(stripe_server, offer)
    booking = hold(purchase)
    client.force_login(purchase.mentee)
    checkout = client.get(reverse("checkout", args=[booking.pk])).content.decode()
    assert "Use a package credit" in checkout and "5 credits left" in checkout
    mail.outbox.clear()
    response = client.post(reverse("booking_use_credit", args=[booking.pk]), {"purchase": purchase.pk})
    assert response.url == reverse("booking_detail", args=[booking.pk])
    booking.refresh_from_db()
    assert (booking.status, booking.package_purchase_id, booking.price_cents) == ("pending", purchase.pk, 3400)
    assert not Payment.objects.filter(booking=booking).exists()
    request = next(m for m in mail.outbox if m.to == [offer.mentor.user.email])
    assert "paid with a credit of your package 5 × 30-min intro" in request.body
    assert packages.credits_left(purchase) == 4
    # Twice (a double click) does not spend a second credit.
    client.post(reverse("booking_use_credit", args=[booking.pk]), {"purchase": purchase.pk})
    assert packages.credits_left(purchase) == 4


@pytest.mark.parametrize("how", ["decline", "expire", "cancel_in_time", "mentor_cancels", "mentor_no_show"])
def test_a_credit_comes_back_when_the_session_does_not_happen(stripe_server, offer, how):
    purchase = buy(stripe_server, offer)
    booking = book_with_credit(purchase)
    mentor = offer.mentor.user
    if how == "decline":
        booking_services.booking_decline(booking.pk, actor=mentor)
    elif how == "expire":
        booking_services.expire_pending_bookings(now=booking.start + timedelta(minutes=1))
    elif how == "cancel_in_time":
        booking_services.booking_cancel(booking.pk, actor=purchase.mentee)
    elif how == "mentor_cancels":  # and the mentee takes the credit back rather than a new time
        booking_services.booking_confirm(booking.pk, actor=mentor)
        booking_services.booking_cancel(booking.pk, actor=mentor)
        booking.refresh_from_db()
        assert not booking.credit_returned
        booking_services.booking_take_refund(booking.pk, actor=purchase.mentee)
    else:
        booking_services.booking_confirm(booking.pk, actor=mentor)
        with time_machine.travel(booking.start + timedelta(minutes=15)):
            ticket = booking_services.no_show_report(booking.pk, actor=purchase.mentee)
        booking_services.ticket_resolve(
            ticket.pk, staff=UserFactory(is_staff=True), resolution=SupportTicket.Resolution.MENTOR_NO_SHOW_REFUND
        )
    booking.refresh_from_db()
    assert booking.credit_returned and packages.credits_left(purchase) == 5
    assert not Payment.objects.filter(booking=booking).exists()  # nothing to refund by card


def test_a_late_cancellation_uses_the_credit(stripe_server, offer):
    purchase = buy(stripe_server, offer)
    booking = book_with_credit(purchase)
    booking_services.booking_confirm(booking.pk, actor=offer.mentor.user)
    booking_services.booking_cancel(booking.pk, actor=purchase.mentee, now=booking.start - timedelta(hours=2))
    booking.refresh_from_db()
    assert "so the package credit is used" in booking.cancellation_summary
    assert not booking.credit_returned and packages.credits_left(purchase) == 4
    # The mentor is not pointed to a refund form a credit booking does not have.
    (email,) = [m for m in mail.outbox if m.to == [offer.mentor.user.email] and "cancelled" in m.subject]
    assert "the package credit stays used" in email.body and "give some or all of it back" not in email.body
    client = Client()
    client.force_login(offer.mentor.user)
    page = client.get(reverse("booking_detail", args=[booking.pk])).content.decode()
    assert "the package credit stays used" in page and "give some or all of it back" not in page


def test_credits_only_pay_for_their_own_session_type_before_expiry(stripe_server, offer):
    purchase = buy(stripe_server, offer)
    deep_dive = offer.mentor.services.get(duration_minutes=60)
    other_type = hold(purchase, service=deep_dive)
    with pytest.raises(booking_services.BookingError, match="can't pay for this session"):
        packages.booking_pay_with_credit(other_type.pk, mentee=purchase.mentee, purchase_id=purchase.pk)
    intruder = UserFactory()
    theirs = booking_services.booking_hold(
        mentee=intruder,
        service=purchase.service,
        start=selectors.open_slots(
            purchase.service, start=timezone.now() + timedelta(days=9), end=timezone.now() + timedelta(days=11)
        )[0],
    )
    with pytest.raises(booking_services.BookingError, match="not yours"):
        packages.booking_pay_with_credit(theirs.pk, mentee=intruder, purchase_id=purchase.pk)
    PackagePurchase.objects.filter(pk=purchase.pk).update(expires_at=timezone.now() + timedelta(days=1))
    late = hold(purchase, days_ahead=3)  # the session would start after the credits expire
    with pytest.raises(booking_services.BookingError, match="expire"):
        packages.booking_pay_with_credit(late.pk, mentee=purchase.mentee, purchase_id=purchase.pk)


def test_no_more_bookings_than_credits(stripe_server, offer):
    small = packages.package_save(offer.mentor, service=offer.service, sessions=2, price_cents=7000, valid_days=30)
    purchase = buy(stripe_server, small)
    book_with_credit(purchase, days_ahead=3)
    book_with_credit(purchase, days_ahead=5)
    third = hold(purchase, days_ahead=7)
    with pytest.raises(booking_services.BookingError, match="no credits left"):
        packages.booking_pay_with_credit(third.pk, mentee=purchase.mentee, purchase_id=purchase.pk)


def test_the_mentor_earns_each_credit_and_at_expiry_the_unused_ones_to_the_cent(stripe_server, settings):
    settings.PLATFORM_FEE_PERCENT = 15
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    package = packages.package_save(mentor, service=intro, sessions=3, price_cents=10000, valid_days=30)
    purchase = buy(stripe_server, package)
    booking = book_with_credit(purchase)
    booking_services.booking_confirm(booking.pk, actor=mentor.user)
    booking_services.booking_complete(booking.pk, actor=mentor.user, now=booking.end + timedelta(minutes=5))
    entries = LedgerEntry.objects.filter(booking=booking)
    assert sum(e.amount_cents for e in entries) == 3333  # the first credit of $100 over 3
    packages.run_sweeps(now=purchase.expires_at + timedelta(minutes=1))
    packages.run_sweeps(now=purchase.expires_at + timedelta(minutes=2))  # twice: settled once
    expired = LedgerEntry.objects.filter(purchase=purchase)
    assert sum(e.amount_cents for e in expired) == 6667  # the two unused credits
    assert sum(e.amount_cents for e in LedgerEntry.objects.all()) == 10000  # every cent of the price, once
    mentor_share = LedgerEntry.objects.filter(purchase=purchase, account="mentor").get()
    assert mentor_share.kind == "package_expired" and mentor_share.amount_cents == 6667 - round(6667 * 0.15)


def test_a_reminder_before_credits_expire_is_sent_once_and_unpaid_purchases_close(stripe_server, offer):
    purchase = buy(stripe_server, offer)
    book_with_credit(purchase)
    mail.outbox.clear()
    soon = purchase.expires_at - timedelta(days=6)
    packages.run_sweeps(now=soon)
    packages.run_sweeps(now=soon + timedelta(minutes=10))
    (reminder,) = mail.outbox
    assert reminder.to == [purchase.mentee.email]
    assert "4 unused credits" in reminder.body and reminder.subject.startswith("Your package credits expire on")
    unpaid = packages.purchase_start(mentee=UserFactory(), package_id=offer.pk)
    packages.run_sweeps(now=timezone.now() + timedelta(days=2))
    unpaid.refresh_from_db()
    assert unpaid.status == "abandoned"


def test_a_second_charge_for_a_package_is_refunded(stripe_server, offer):
    purchase = buy(stripe_server, offer)
    first = Payment.objects.get(purchase=purchase)
    second = Payment.objects.create(purchase=purchase, amount_cents=17000, currency="usd", status="processing")
    Payment.objects.filter(pk=second.pk).update(stripe_payment_intent_id=first.stripe_payment_intent_id)
    services.payment_succeeded(second.pk)
    second.refresh_from_db()
    assert second.status == "succeeded" and second.refunded_cents() == 17000
    assert first.refunded_cents() == 0
    assert Package.objects.count() == 1


def test_e_mails_about_a_credit_booking_talk_about_the_credit_not_a_card(stripe_server, offer):
    purchase = buy(stripe_server, offer)
    booking = book_with_credit(purchase)
    mail.outbox.clear()
    booking_services.booking_decline(booking.pk, actor=offer.mentor.user)
    (declined,) = [m for m in mail.outbox if m.to == [purchase.mentee.email]]
    assert "The package credit you used is back" in declined.body and "refund" not in declined.body


def test_a_booking_is_never_paid_by_both_a_card_and_a_credit(stripe_server, offer):
    purchase = buy(stripe_server, offer)
    booking = hold(purchase)
    waiting = Payment.objects.create(booking=booking, amount_cents=4000, currency="usd", status="requires_action")
    with pytest.raises(booking_services.BookingError, match="card payment for this session is already under way"):
        packages.booking_pay_with_credit(booking.pk, mentee=purchase.mentee, purchase_id=purchase.pk)
    Payment.objects.filter(pk=waiting.pk).update(status="failed")
    packages.booking_pay_with_credit(booking.pk, mentee=purchase.mentee, purchase_id=purchase.pk)
    # The card the other tab was paying with goes through after all: that money goes back.
    from .test_payments import pay

    late = Payment.objects.create(booking=booking, amount_cents=4000, currency="usd", status="processing")
    other = pay(stripe_server, hold(buy(stripe_server, offer)))  # a real charge to refund against
    Payment.objects.filter(pk=late.pk).update(stripe_payment_intent_id=other.stripe_payment_intent_id)
    services.payment_succeeded(late.pk)
    late.refresh_from_db()
    assert late.refunded_cents() == 4000
    booking.refresh_from_db()
    assert booking.status == "pending" and booking.package_purchase_id == purchase.pk


def test_a_credit_returned_after_expiry_goes_back_to_the_card_not_to_the_mentor(stripe_server, offer, settings):
    settings.PLATFORM_FEE_PERCENT = 15
    purchase = buy(stripe_server, offer)
    booking = book_with_credit(purchase)
    booking_services.booking_confirm(booking.pk, actor=offer.mentor.user)
    PackagePurchase.objects.filter(pk=purchase.pk).update(expires_at=booking.end + timedelta(hours=1))
    purchase.refresh_from_db()
    with time_machine.travel(booking.start + timedelta(minutes=15)):
        ticket = booking_services.no_show_report(booking.pk, actor=purchase.mentee)
    packages.run_sweeps(now=purchase.expires_at + timedelta(minutes=1))  # settles: 4 unused credits to the mentor
    with time_machine.travel(purchase.expires_at + timedelta(days=1)):
        booking_services.ticket_resolve(
            ticket.pk, staff=UserFactory(is_staff=True), resolution=SupportTicket.Resolution.MENTOR_NO_SHOW_REFUND
        )
    payment = Payment.objects.get(purchase=purchase)
    assert payment.refunded_cents() == 3400  # the no-show's credit, as money: it can't be used any more
    expired = LedgerEntry.objects.filter(purchase=purchase)
    assert sum(e.amount_cents for e in expired) == 17000 - 3400
    packages.run_sweeps(now=purchase.expires_at + timedelta(days=2))  # nothing more, and no second refund
    assert sum(e.amount_cents for e in LedgerEntry.objects.filter(purchase=purchase)) == 17000 - 3400
    assert Payment.objects.get(purchase=purchase).refunded_cents() == 3400


def test_a_credit_booking_cannot_move_past_the_packages_expiry(stripe_server, offer):
    purchase = buy(stripe_server, offer)
    booking = book_with_credit(purchase)
    PackagePurchase.objects.filter(pk=purchase.pk).update(expires_at=booking.start + timedelta(days=1))
    later = selectors.open_slots(
        offer.service, start=booking.start + timedelta(days=2), end=booking.start + timedelta(days=4)
    )[0]
    with pytest.raises(booking_services.BookingError, match="pick a time before then"):
        booking_services.booking_reschedule(booking.pk, actor=purchase.mentee, new_start=later)


def test_a_late_cancellation_earns_the_mentor_the_credit(stripe_server, offer, settings):
    settings.PLATFORM_FEE_PERCENT = 15
    purchase = buy(stripe_server, offer)
    booking = book_with_credit(purchase)
    booking_services.booking_confirm(booking.pk, actor=offer.mentor.user)
    booking_services.booking_cancel(booking.pk, actor=purchase.mentee, now=booking.start - timedelta(hours=2))
    assert sum(e.amount_cents for e in LedgerEntry.objects.filter(booking=booking)) == 3400


def test_a_package_taken_off_offer_is_not_charged(stripe_server, offer):
    mentee = UserFactory()
    purchase = packages.purchase_start(mentee=mentee, package_id=offer.pk)
    Package.objects.filter(pk=offer.pk).update(is_active=False)
    with pytest.raises(services.CheckoutError, match="no longer on offer"):
        services.checkout_setup(mentee=mentee, purchase_id=purchase.pk)
    assert not Payment.objects.exists()


def test_staff_see_packages_and_purchases_in_admin(admin_client, stripe_server, offer):
    purchase = buy(stripe_server, offer)
    page = admin_client.get(reverse("admin:bookings_packagepurchase_changelist")).content.decode()
    assert str(purchase.mentee) in page
    assert admin_client.get(reverse("admin:bookings_package_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:bookings_packagepurchase_add")).status_code == 403


def test_my_packages_costs_the_same_queries_for_one_package_or_several(client, stripe_server, offer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    purchase = buy(stripe_server, offer)
    book_with_credit(purchase)
    client.force_login(purchase.mentee)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("my_packages"))
    second = packages.package_save(offer.mentor, service=offer.service, sessions=3, price_cents=11000, valid_days=30)
    book_with_credit(buy(stripe_server, second, purchase.mentee))
    with CaptureQueriesContext(connection) as two:
        page = client.get(reverse("my_packages")).content.decode()
    assert len(two) == len(one) and "2 of 3 credits left" in page and "4 of 5 credits left" in page
