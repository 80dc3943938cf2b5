"""Free sessions (issue 16, point 4): a $0 session type is booked without a card and never reaches Stripe or the
ledger, whatever becomes of the booking; a mentor may offer only so many of them to each mentee."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bookings import packages, policies, selectors, services
from bookings.models import Booking, Review, SupportTicket
from bookings.reviews import review_save
from mentorship.models import OutboxEntry, Service
from payments import services as payment_services
from payments.models import LedgerEntry, Payment, Refund, StripeCustomer

from .factories import UserFactory, bookable_mentor
from .test_payments import pay

# Real commits: what a transition records in the outbox runs after commit, as in production.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]

MONEY_TOPICS = ("booking.refund_due", "booking.earned", "booking.credit_returned", "payments.refund_decided")


@pytest.fixture
def mentor():
    mentor = bookable_mentor()
    Service.objects.create(mentor=mentor, title="Free intro call", duration_minutes=30, price_cents=0)
    return mentor


def free_type(mentor) -> Service:
    return mentor.services.get(price_cents=0)


def free_booking(mentor, *, mentee=None, days_ahead: int = 3, slot: int = 0) -> Booking:
    """The mentee presses Book session on the free intro call `days_ahead` days from now."""
    service = free_type(mentor)
    now = timezone.now()
    start = selectors.open_slots(
        service, start=now + timedelta(days=days_ahead), end=now + timedelta(days=days_ahead + 2)
    )[slot]
    return services.booking_hold(mentee=mentee or UserFactory(), service=service, start=start, message="Hi!")


def stripe_counts(stripe_server) -> tuple[int, int]:
    """How many PaymentIntents and customers the local Stripe server holds (it lives for the whole run, so
    all of them: the local server takes any limit, where 100 would stop counting after the hundredth)."""
    intents = stripe_server.get("/v1/payment_intents?limit=1000000")["data"]
    customers = stripe_server.get("/v1/customers?limit=1000000")["data"]
    return len(intents), len(customers)


def assert_no_money(booking: Booking) -> None:
    """Nothing about money exists for this booking: no payment, refund, ledger entry or money side effect."""
    assert not Payment.objects.filter(booking=booking).exists()
    assert not Refund.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert not OutboxEntry.objects.filter(topic__in=MONEY_TOPICS).exists()


def test_a_free_booking_goes_straight_to_pending_and_nothing_reaches_stripe(mentor, stripe_server):
    before = stripe_counts(stripe_server)
    booking = free_booking(mentor)
    assert (booking.status, booking.price_cents, booking.hold_expires_at) == (Booking.Status.PENDING, 0, None)
    assert booking.is_free
    assert list(booking.events.values_list("to_status", flat=True).order_by("pk")) == ["held", "pending"]
    assert booking.events.last().note == services.FREE_REQUEST_NOTE
    assert stripe_counts(stripe_server) == before
    assert not StripeCustomer.objects.exists()
    assert_no_money(booking)
    # The mentor is asked to Confirm or Decline, the mentee told it is sent; neither hears of a payment.
    to_mentor = next(m for m in mail.outbox if m.to == [mentor.user.email])
    to_mentee = next(m for m in mail.outbox if m.to == [booking.mentee.email])
    assert "booked your free session “Free intro call” (no payment)" in to_mentor.body
    assert "has paid" not in to_mentor.body and "refund" not in to_mentor.body
    assert to_mentee.subject.startswith("Request sent")
    assert "there is nothing to pay" in to_mentee.body and "refund" not in to_mentee.body
    # A double click on Book session gets the same request, not an error that the time was taken.
    again = services.booking_hold(mentee=booking.mentee, service=booking.service, start=booking.start)
    assert again.pk == booking.pk and Booking.objects.count() == 1


def test_confirm_and_complete_a_free_session_earns_nothing(mentor, stripe_server):
    booking = free_booking(mentor)
    services.booking_confirm(booking.pk, actor=mentor.user)
    with time_machine.travel(booking.end + timedelta(minutes=5)):
        services.booking_complete(booking.pk, actor=mentor.user)
        # Reviews work as for any session.
        review_save(booking.pk, mentee=booking.mentee, rating=5, text="Lovely intro.")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.COMPLETED
    assert Review.objects.get(booking=booking).rating == 5
    assert_no_money(booking)
    banner = selectors.session_banner(booking, for_mentor=True, now=timezone.now())
    assert banner.lines[0] == "This session is free, so your Earnings don't change."


def test_decline_and_cancel_of_free_sessions_refund_nothing(mentor, stripe_server):
    declined = free_booking(mentor)
    mail.outbox.clear()
    services.booking_decline(declined.pk, actor=mentor.user, reason="Travelling")
    assert "nothing to refund" in next(m for m in mail.outbox if m.to == [declined.mentee.email]).body

    pending = free_booking(mentor, slot=2)
    terms = policies.cancellation_terms(pending, by="mentee")
    assert (terms.full_refund, terms.refund_cents) == (True, 0) and "nothing to refund" in terms.summary
    services.booking_cancel(pending.pk, actor=pending.mentee)

    by_mentor = free_booking(mentor, slot=4)
    services.booking_confirm(by_mentor.pk, actor=mentor.user)
    services.booking_cancel(by_mentor.pk, actor=mentor.user, reason="Ill")

    late = free_booking(mentor, slot=6)
    services.booking_confirm(late.pk, actor=mentor.user)
    with time_machine.travel(late.start - timedelta(hours=1)):  # inside the cancellation window
        services.booking_cancel(late.pk, actor=late.mentee)

    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert [statuses[b.pk] for b in (declined, pending, by_mentor, late)] == [
        "declined",
        "cancelled",
        "cancelled",
        "cancelled",
    ]
    for booking in (declined, pending, by_mentor, late):
        assert_no_money(booking)
    late.refresh_from_db()
    assert "nothing to refund" in late.cancellation_summary
    # The mentor's page offers no refund form: nothing was paid.
    with pytest.raises(payment_services.CheckoutError):
        payment_services.refund_grant(booking_id=late.pk, actor=mentor.user, amount_cents=100)


def test_expiry_no_shows_disputes_and_auto_completion_of_free_sessions_touch_no_money(mentor, stripe_server):
    staff = UserFactory(is_staff=True)
    expiring = free_booking(mentor, days_ahead=2)
    no_show = free_booking(mentor, days_ahead=2, slot=2)
    disputed = free_booking(mentor, days_ahead=2, slot=4)
    held = free_booking(mentor, days_ahead=2, slot=6)
    for booking in (no_show, disputed, held):
        services.booking_confirm(booking.pk, actor=mentor.user)
    with time_machine.travel(no_show.start + timedelta(minutes=11)):
        ticket = services.no_show_report(no_show.pk, actor=no_show.mentee)
        services.ticket_resolve(ticket.pk, staff=staff, resolution=SupportTicket.Resolution.MENTOR_NO_SHOW_REFUND)
        dispute = services.dispute_open(disputed.pk, actor=disputed.mentee, note="It was cut short")
        services.ticket_resolve(dispute.pk, staff=staff, resolution=SupportTicket.Resolution.FULL_REFUND)
    later = held.end + timedelta(days=8)
    with time_machine.travel(later):
        assert services.expire_pending_bookings() == 1
        assert services.complete_unmarked_sessions() >= 1
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert (statuses[expiring.pk], statuses[no_show.pk], statuses[held.pk]) == ("expired", "no_show", "completed")
    for booking in (expiring, no_show, disputed, held):
        assert_no_money(booking)


def test_a_paid_session_still_charges_refunds_and_earns(mentor, stripe_server):
    """The other side of the rule: a paid booking of the same mentor still goes through Stripe and the ledger."""
    intro = mentor.services.get(price_cents=4000)
    now = timezone.now()
    start = selectors.open_slots(intro, start=now + timedelta(days=3), end=now + timedelta(days=5))[0]
    booking = services.booking_hold(mentee=UserFactory(), service=intro, start=start)
    assert booking.status == Booking.Status.HELD and not booking.is_free
    pay(stripe_server, booking)
    services.booking_decline(booking.pk, actor=mentor.user)
    assert Refund.objects.get().amount_cents == 4000


def test_the_checkout_refuses_a_free_booking_before_any_word_with_stripe(mentor, stripe_server):
    booking = free_booking(mentor)
    before = stripe_counts(stripe_server)
    with pytest.raises(payment_services.CheckoutError, match="free"):
        payment_services.checkout_pay(booking_id=booking.pk, mentee=booking.mentee, payment_method_id="pm_card_visa")
    with pytest.raises(payment_services.CheckoutError, match="free"):
        payment_services.checkout_setup(booking_id=booking.pk, mentee=booking.mentee)
    assert stripe_counts(stripe_server) == before and not Payment.objects.exists()


def test_the_free_sessions_per_mentee_limit(mentor, client):
    service = free_type(mentor)
    service.free_sessions_per_mentee = 1
    service.save()
    mentee, other = UserFactory(), UserFactory()
    first = free_booking(mentor, mentee=mentee)
    with pytest.raises(services.BookingError, match="offers one free “Free intro call” session per mentee"):
        free_booking(mentor, mentee=mentee, slot=2)
    free_booking(mentor, mentee=other, slot=2)  # each mentee has their own
    # The profile says so instead of offering times; the paid types stay open.
    client.force_login(mentee)
    page = client.get(reverse("mentor_profile", args=[mentor.pk]), {"service": service.pk}).content.decode()
    assert "you have booked it already" in page and "Book session" not in page
    paid = mentor.services.get(price_cents=4000)
    paid_page = client.get(reverse("mentor_profile", args=[mentor.pk]), {"service": paid.pk}).content.decode()
    assert "Book session" in paid_page
    # A declined or cancelled one gives the free session back.
    services.booking_decline(first.pk, actor=mentor.user)
    second = free_booking(mentor, mentee=mentee, slot=4)
    page = client.get(reverse("mentor_profile", args=[mentor.pk]), {"service": service.pk}).content.decode()
    assert "you have booked it already" in page
    services.booking_cancel(second.pk, actor=mentee)
    third = free_booking(mentor, mentee=mentee, slot=6)
    assert third.status == Booking.Status.PENDING
    # Cancelled by the mentor, it still counts while the mentee may pick a new time for it; the refund (here:
    # nothing) that closes the choice gives the free session back.
    services.booking_confirm(third.pk, actor=mentor.user)
    services.booking_cancel(third.pk, actor=mentor.user)
    with pytest.raises(services.BookingError, match="offers one free"):
        free_booking(mentor, mentee=mentee, slot=8)
    services.refund_unanswered_cancellations(now=timezone.now() + settings.BOOKING_REBOOK_WINDOW + timedelta(days=1))
    assert free_booking(mentor, mentee=mentee, slot=8).status == Booking.Status.PENDING


def test_booking_through_the_page_sends_the_request_and_says_pending(mentor, client):
    service = free_type(mentor)
    mentee = UserFactory()
    client.force_login(mentee)
    now = timezone.now()
    start = selectors.open_slots(service, start=now + timedelta(days=2), end=now + timedelta(days=4))[0]
    response = client.post(
        reverse("book", args=[mentor.pk]), {"service": service.pk, "start": start.isoformat(), "message": "Hello"}
    )
    booking = Booking.objects.get(mentee=mentee)
    assert response.status_code == 302 and response.url == reverse("booking_detail", args=[booking.pk])
    page = client.get(response.url).content.decode()
    assert "Your request is sent. It is Pending" in page
    assert "<dd>Free</dd>" in page and "$0.00" not in page
    listing = client.get(reverse("my_bookings")).content.decode()
    assert "Free" in listing and "$0.00" not in listing
    # The checkout address of a free booking sends the mentee back to it, charging nothing.
    assert client.get(reverse("checkout", args=[booking.pk])).url == reverse("booking_detail", args=[booking.pk])


def test_packages_of_a_free_type_are_refused_and_no_longer_offered(mentor):
    service = free_type(mentor)
    with pytest.raises(services.BookingError, match="free"):
        packages.package_save(mentor, service=service, sessions=3, price_cents=3000, valid_days=30)
    # A package made while the type was paid is no longer sold once it is free.
    paid = mentor.services.get(price_cents=4000)
    offer = packages.package_save(mentor, service=paid, sessions=3, price_cents=10000, valid_days=30)
    paid.price_cents = 0
    paid.save()
    with pytest.raises(services.BookingError, match="not on offer"):
        packages.purchase_start(mentee=UserFactory(), package_id=offer.pk)


SESSION_TYPE = {"title": "Intro call", "format": "online", "duration_minutes": 30, "is_active": "on"}


@pytest.mark.parametrize(
    ("price", "cap", "error"),
    [
        ("-5", "", "Ensure this value is greater than or equal to 0."),
        ("-0.01", "", "Ensure this value is greater than or equal to 0."),
        ("0.50", "", "A price is either 0 (free) or at least $1.00."),
        ("99999999", "", "Ensure that there are no more than 7 digits in total."),
        ("1e9", "", "Ensure that there are no more than 7 digits in total."),
        ("NaN", "", "Enter a number."),
        ("0", "-1", "Ensure this value is greater than or equal to 0."),
        ("0", "0", "Ensure this value is greater than or equal to 1."),
        ("0", "101", "Ensure this value is less than or equal to 100."),
        ("0", "9" * 40, "Ensure this value is less than or equal to 100."),
        ("0", "1.5", "Enter a whole number."),
        ("40", "1", "Only a free session type can have a limit per mentee"),
    ],
)
def test_the_session_type_form_refuses_hostile_prices_and_limits(client, price, cap, error):
    mentor = bookable_mentor()
    client.force_login(mentor.user)
    response = client.post(
        reverse("mentor_service_new"), SESSION_TYPE | {"price": price, "free_sessions_per_mentee": cap}
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Service.objects.filter(title="Intro call").exists()


def test_the_session_type_form_takes_a_free_price_and_explains_it(client):
    mentor = bookable_mentor()
    client.force_login(mentor.user)
    page = client.get(reverse("mentor_service_new")).content.decode()
    assert "0 makes it free: mentees book it without a card" in page
    assert "Free sessions per mentee" in page and "Empty: no limit." in page
    response = client.post(
        reverse("mentor_service_new"), SESSION_TYPE | {"price": "0", "free_sessions_per_mentee": "1"}
    )
    assert response.status_code == 302
    service = Service.objects.get(title="Intro call")
    assert (service.price_cents, service.free_sessions_per_mentee, service.is_free) == (0, 1, True)
    listing = client.get(reverse("mentor_services")).content.decode()
    assert "<td>Free</td>" in listing and "$0.00" not in listing
    # The directory's lowest price is 0 and its price filter finds the mentor at a maximum of $0.
    mentor.refresh_from_db()
    assert mentor.lowest_price_cents == 0
    directory = client.get(reverse("home"), {"max_price": "0"}).content.decode()
    assert mentor.user.display_name in directory and "Free session available" in directory
    assert mentor.user.display_name in client.get(reverse("home"), {"sort": "price"}).content.decode()
