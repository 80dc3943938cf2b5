"""The paid booking flow, clicked through in Chromium by a mentee and a mentor in separate browsers."""

import os
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from playwright.sync_api import expect

from bookings.models import Booking
from mentorship.models import User
from payments.models import LedgerEntry, Refund

from .factories import PASSWORD, UserFactory, bookable_mentor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = "test-artifacts/screens"


def shot(page, name: str) -> None:
    os.makedirs(SCREENSHOTS, exist_ok=True)
    page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # The bell shows at every width (on phones "Log out" is inside the Menu).
    expect(page.get_by_role("link", name=re.compile(r"^Notifications, \d+ unread"))).to_be_visible()


def staff_action(page, *, email: str, section: str, row: str, action: str) -> None:
    """As staff in Django admin: log in, open a list, tick one row and run an action on it."""
    page.goto("/admin/")  # the admin sends staff to the site's login and back
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name=section).click()
    page.get_by_role("row", name=re.compile(row)).get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option(label=action)
    page.get_by_role("button", name="Go").click()


def book_and_pay(page, mentor, *, message: str, needs: str = "") -> Booking:
    """As the mentee: open the mentor's profile, pick the 30-min intro and the first time, pay."""
    page.goto("/")
    page.get_by_role("link", name=mentor.user.display_name).click()
    expect(page.locator("#tz-select option:checked")).to_have_text(re.compile(r"^London \(.*\), yours$"))
    page.get_by_role("link", name=re.compile("30-min intro")).click()
    first_slot = page.locator(".slot").first
    slot_label = first_slot.get_attribute("aria-label")
    first_slot.click()
    page.get_by_label("Message to the mentor").fill(message)
    if needs:
        page.get_by_label("Accessibility needs (optional)").fill(needs)
    shot(page, "1-mentor-profile")
    page.get_by_role("button", name="Book session").click()

    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    cart = page.get_by_role("region", name="Your cart")
    expect(cart).to_contain_text("30-min intro")
    expect(cart).to_contain_text(mentor.user.display_name)
    expect(cart).to_contain_text("$40.00")
    expect(cart).to_contain_text(slot_label.split(" ", 1)[1].rsplit(" ", 1)[0])  # the day we picked
    expect(page.get_by_text("4242 4242 4242 4242").first).to_be_visible()
    fill_card(page, "4242424242424242")
    shot(page, "2-checkout")
    page.get_by_role("button", name="Pay $40.00").click()

    expect(page.get_by_role("status")).to_contain_text("Payment received")
    expect(page.locator(".badge")).to_have_text("Pending")
    shot(page, "3-booking-pending")
    return Booking.objects.get(message=message)


@pytest.fixture
def people():
    mentor = bookable_mentor(user__display_name="Maya Mentor", user__time_zone="America/New_York")
    mentee = UserFactory(display_name="Sam Mentee", time_zone="Europe/London")
    return mentor, mentee


def test_book_pay_confirm_complete_and_see_earnings(new_page, people, stripe_server, settings):
    settings.PLATFORM_FEE_PERCENT = 15
    mentor, mentee = people
    mentee_page = new_page("Europe/London")
    log_in(mentee_page, mentee.email)
    booking = book_and_pay(mentee_page, mentor, message="Help me prepare a system design interview")
    mentee_page.get_by_role("link", name="My Bookings").click()
    expect(mentee_page.get_by_role("listitem").filter(has_text="30-min intro")).to_contain_text("Pending")
    shot(mentee_page, "4-my-bookings")

    mentor_page = new_page("America/New_York")
    log_in(mentor_page, mentor.user.email)
    mentor_page.get_by_role("link", name="Bookings", exact=True).click()
    pending = mentor_page.get_by_role("region", name=re.compile("Pending"))
    expect(pending).to_contain_text("Sam Mentee")
    expect(pending).to_contain_text("Help me prepare a system design interview")
    shot(mentor_page, "5-mentor-bookings")
    pending.get_by_role("button", name="Confirm").click()
    expect(mentor_page.get_by_role("status")).to_contain_text("Confirmed")
    expect(mentor_page.get_by_role("region", name=re.compile("Upcoming"))).to_contain_text("Sam Mentee")

    mentee_page.reload()
    expect(mentee_page.get_by_role("listitem").filter(has_text="30-min intro")).to_contain_text("Confirmed")
    assert any("confirmed your session" in m.subject for m in mail.outbox if m.to == [mentee.email])

    with time_machine.travel(booking.end + timedelta(minutes=5), tick=True):
        mentor_page.reload()
        to_complete = mentor_page.get_by_role("region", name=re.compile("To mark complete"))
        to_complete.get_by_role("button", name="Complete").click()
        expect(mentor_page.get_by_role("status")).to_contain_text("Marked complete")
        mentor_page.get_by_role("link", name="Earnings").click()
        expect(mentor_page.get_by_test_id("balance")).to_have_text("$34.00")
        expect(mentor_page.get_by_test_id("total-earnings")).to_have_text("$34.00")
        session_row = mentor_page.get_by_role("row", name=re.compile("Session earning"))
        expect(session_row).to_contain_text("price $40.00")
        expect(session_row).to_contain_text("$34.00")
        expect(mentor_page.get_by_text("platform fee of 15%")).to_be_visible()
        shot(mentor_page, "6-earnings")
    assert LedgerEntry.objects.get(account="mentor").amount_cents == 3400


def test_decline_refunds_the_payment_in_full(new_page, people, stripe_server):
    mentor, mentee = people
    mentee_page = new_page("Europe/London")
    log_in(mentee_page, mentee.email)
    booking = book_and_pay(mentee_page, mentor, message="Career chat")

    mentor_page = new_page("America/New_York")
    log_in(mentor_page, mentor.user.email)
    mentor_page.get_by_role("link", name="Bookings", exact=True).click()
    mentor_page.get_by_text("Decline…").click()
    mentor_page.get_by_label("Reason (optional, shown to the mentee)").fill("I'm travelling that week, sorry!")
    shot(mentor_page, "7-decline")
    mentor_page.get_by_role("button", name="Decline", exact=True).click()
    expect(mentor_page.get_by_role("status")).to_contain_text("full refund")

    payment = booking.payments.get()
    refunds = stripe_server.get(f"/v1/refunds?payment_intent={payment.stripe_payment_intent_id}")["data"]
    assert [(r["amount"], r["status"]) for r in refunds] == [(4000, "succeeded")]
    assert Refund.objects.get().status == Refund.Status.SUCCEEDED

    mentee_page.reload()
    expect(mentee_page.locator(".badge")).to_have_text("Declined")
    expect(mentee_page.get_by_text("Your payment is refunded in full")).to_be_visible()
    banner = mentee_page.get_by_role("region", name=re.compile("declined this request"))
    expect(banner.get_by_text("I'm travelling that week, sorry!")).to_be_visible()
    expect(banner).to_contain_text("Refunded $40.00 to Visa card ending 4242")
    shot(mentee_page, "8-declined")


def test_sign_up_saves_the_browsers_time_zone(new_page):
    page = new_page("Asia/Kolkata")
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Your name").fill("Priya Learner")
    page.get_by_label("Email").fill("priya@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-unique-passphrase")
    page.get_by_label("Password (again)").fill("a-long-unique-passphrase")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Kolkata")
    shot(page, "0-sign-up")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    link = re.search(r"http://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    user = User.objects.get(email="priya@example.com")
    assert (user.display_name, user.time_zone) == ("Priya Learner", "Asia/Kolkata")
    expect(page.get_by_role("contentinfo")).to_contain_text("Times are shown in Kolkata (IST, UTC+5:30)")


def fill_card(page, number: str) -> None:
    page.get_by_placeholder("number").fill(number)
    page.get_by_placeholder("exp_month").fill("12")
    page.get_by_placeholder("exp_year").fill("34")
    page.get_by_placeholder("cvc").fill("123")
    page.get_by_placeholder("postal_code").fill("10001")


def start_checkout(page, mentor):
    page.goto(f"/mentors/{mentor.pk}/")
    page.locator(".slot").first.click()
    page.get_by_role("button", name="Book session").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()


def test_a_declined_card_shows_the_banks_reason_and_another_card_succeeds(new_page, people, stripe_server):
    mentor, mentee = people
    page = new_page("Europe/London")
    log_in(page, mentee.email)
    start_checkout(page, mentor)

    fill_card(page, "4000000000000341")
    page.get_by_role("button", name="Pay $40.00").click()
    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
    expect(page.get_by_text("We're holding this time for you")).to_be_visible()
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.HELD

    fill_card(page, "4242424242424242")
    page.get_by_role("button", name="Pay $40.00").click()
    expect(page.locator(".badge")).to_have_text("Pending")
    assert [p.status for p in booking.payments.order_by("pk")] == ["failed", "succeeded"]


def test_a_card_that_asks_for_3d_secure_is_paid_after_complete_authentication(new_page, people, stripe_server):
    mentor, mentee = people
    page = new_page("Europe/London")
    log_in(page, mentee.email)
    start_checkout(page, mentor)

    fill_card(page, "4000002500003155")
    page.get_by_role("button", name="Pay $40.00").click()
    page.get_by_role("button", name="Complete authentication").click()  # saving the card
    page.get_by_role("button", name="Complete authentication").click()  # the charge
    expect(page.locator(".badge")).to_have_text("Pending")
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.PENDING
    assert [p.status for p in booking.payments.all()] == ["succeeded"]


def test_a_returning_mentee_pays_with_the_saved_card_and_opens_the_receipt(new_page, people, stripe_server):
    mentor, mentee = people
    page = new_page("Europe/London")
    log_in(page, mentee.email)
    book_and_pay(page, mentor, message="First session")

    page.goto(f"/mentors/{mentor.pk}/")
    page.locator(".slot").first.click()  # the first time still free: the day shown may have only a few
    page.get_by_role("button", name="Book session").click()
    page.get_by_role("button", name="Pay $40.00 with Visa •••• 4242").click()
    expect(page.locator(".badge")).to_have_text("Pending")

    page.get_by_role("link", name="My Bookings").click()
    page.get_by_role("link", name="Receipt").first.click()
    receipt = page.get_by_role("article", name="Receipt")
    expect(receipt).to_contain_text("Visa •••• 4242")
    expect(receipt).to_contain_text("Total paid")
    expect(receipt).to_contain_text("$40.00")
    shot(page, "13-receipt")
