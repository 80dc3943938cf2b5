"""Book first, sign in after, clicked through in Chromium at phone and desktop widths; and the sign-in pages in
our design (axe-core, no sideways scroll, screenshots)."""

import os
import re
from datetime import datetime

import pytest
from django.core import mail
from playwright.sync_api import expect

from bookings import services
from bookings.models import Booking
from mentorship.models import User

from .factories import PASSWORD, UserFactory, bookable_mentor
from .test_browser_flow import fill_card
from .viewports import SIZES, assert_no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/shots-signin"
MESSAGE = "I'd like help preparing a system design interview."


def shot(page, name: str) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def assert_accessible(page) -> None:
    """axe-core finds nothing, leaving out the test-mode banner (its landmark is another change's work)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page, context={"exclude": [[".test-banner"]]}).response["violations"]
    lines = [f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:3]}" for v in violations]
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(lines)


@pytest.fixture
def mentor():
    return bookable_mentor(user__display_name="Maya Mentor", user__time_zone="America/New_York")


def choose_a_time_signed_out(page, mentor, size: str) -> tuple[str, str]:
    """On the mentor's profile, signed out: the 30-min intro, the first free time, a message, "Book session".
    Returns the time's label and its value (the ISO start the form sends)."""
    page.set_viewport_size(SIZES[size])
    page.goto(f"/mentors/{mentor.pk}/")
    page.get_by_role("link", name=re.compile("30-min intro")).click()
    first_slot = page.locator(".slot").first
    label = first_slot.get_attribute("aria-label")  # "Thursday 3 December 10:00"
    start = page.locator(".slot-row input[type=radio]").first.get_attribute("value")
    first_slot.click()
    page.get_by_label("Message to the mentor").fill(MESSAGE)
    page.get_by_role("button", name="Book session").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Log in or sign up to book this time. We've kept your choice.")
    day, month, time = label.split(" ")[1], label.split(" ")[2][:3], label.split(" ")[-1]
    expect(page.locator(".kept-booking")).to_contain_text(
        re.compile(rf"You're booking: 30-min intro with Maya Mentor, \w{{3}} {day} {month} {time} \(your time\)")
    )
    return label, start


def expect_checkout_with_the_choice(page, label: str) -> None:
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    cart = page.get_by_role("region", name="Your cart")
    expect(cart).to_contain_text("30-min intro")
    expect(cart).to_contain_text("Maya Mentor")
    day_and_month = label.split(" ", 1)[1].rsplit(" ", 1)[0]  # "3 December"
    expect(cart).to_contain_text(re.compile(rf"{day_and_month} \d{{4}}, {label.rsplit(' ', 1)[1]}"))
    expect(cart).to_contain_text(MESSAGE)


def pay(page) -> None:
    fill_card(page, "4242424242424242")
    page.get_by_role("button", name="Pay $40.00").click()
    expect(page.get_by_role("status").filter(has_text="Payment received")).to_be_visible()
    expect(page.locator(".badge")).to_have_text("Pending")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_visitor_books_first_signs_up_confirms_and_pays_without_choosing_again(new_page, mentor, stripe_server, size):
    page = new_page("Europe/London")
    label, _ = choose_a_time_signed_out(page, mentor, size)
    shot(page, f"login-with-kept-booking-{size}")

    page.get_by_role("main").get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", name="Sign up")).to_be_visible()
    expect(page.locator(".kept-booking")).to_contain_text("30-min intro with Maya Mentor")
    page.get_by_label("Your name").fill("Priya Learner")
    page.get_by_label("Email").fill("priya@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-unique-passphrase")
    page.get_by_label("Password (again)").fill("a-long-unique-passphrase")
    assert_no_sideways_scroll(page)
    shot(page, f"signup-with-kept-booking-{size}")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    expect(page.locator(".kept-booking")).to_contain_text("30-min intro with Maya Mentor")
    assert_accessible(page)
    assert_no_sideways_scroll(page)
    shot(page, f"verification-sent-{size}")

    link = re.search(r"http://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Confirm your e-mail address")).to_be_visible()
    assert_accessible(page)
    shot(page, f"confirm-email-{size}")
    page.get_by_role("button", name="Confirm").click()

    expect_checkout_with_the_choice(page, label)
    assert_no_sideways_scroll(page)
    shot(page, f"checkout-after-sign-up-{size}")
    pay(page)
    booking = Booking.objects.get()
    assert booking.mentee == User.objects.get(email="priya@example.com")
    assert (booking.status, booking.message) == (Booking.Status.PENDING, MESSAGE)

    page.go_back()  # back through the resume step's history: nothing is booked twice
    page.goto("/book/resume/")
    expect(page.get_by_role("heading", name="My Bookings")).to_be_visible()
    assert Booking.objects.count() == 1


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_member_books_first_logs_in_and_lands_on_checkout(new_page, mentor, stripe_server, size):
    member = UserFactory(display_name="Sam Mentee", time_zone="Europe/London")
    page = new_page("Europe/London")
    label, _ = choose_a_time_signed_out(page, mentor, size)
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Remember me").check()
    page.get_by_role("button", name="Log in").click()
    expect_checkout_with_the_choice(page, label)
    pay(page)
    assert Booking.objects.get().mentee == member


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_time_taken_while_signing_in_sends_back_to_the_profile_with_the_message(new_page, mentor, size):
    member = UserFactory(display_name="Sam Mentee", time_zone="Europe/London")
    page = new_page("Europe/London")
    _, start = choose_a_time_signed_out(page, mentor, size)
    intro = mentor.services.get(duration_minutes=30)
    # Another mentee takes that time while this one signs in.
    services.booking_hold(mentee=UserFactory(), service=intro, start=datetime.fromisoformat(start))

    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Sorry, that time was taken while you signed in. Please pick another."
    )
    expect(page.get_by_role("heading", name="Maya Mentor")).to_be_visible()
    expect(page.get_by_label("Message to the mentor")).to_have_value(MESSAGE)
    shot(page, f"time-taken-{size}")
    assert Booking.objects.count() == 1


SIGNED_OUT_PAGES = {
    "login": ("/accounts/login/", "Log in"),
    "signup": ("/accounts/signup/", "Sign up"),
    "password-reset": ("/accounts/password/reset/", "Reset your password"),
    "password-reset-done": ("/accounts/password/reset/done/", "Check your e-mail"),
    "password-reset-bad-key": ("/accounts/password/reset/key/1-x-x/", "This link doesn't work any more"),
    "verification-sent-plain": ("/accounts/confirm-email/", "Check your e-mail"),
    "confirm-email-bad-key": ("/accounts/confirm-email/not-a-key/", "Confirm your e-mail address"),
    "account-inactive": ("/accounts/inactive/", "This account is closed"),
}
SIGNED_IN_PAGES = {
    "logout": ("/accounts/logout/", "Log out"),
    "email": ("/accounts/email/", "E-mail addresses"),
    "password-change": ("/accounts/password/change/", "Change password"),
}


def check_page(page, name: str, heading: str, size: str) -> None:
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert_accessible(page)
    assert_no_sideways_scroll(page)
    shot(page, f"{name}-{size}")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_sign_in_pages_are_ours_accessible_and_fit_a_phone(new_page, size):
    page = new_page("Europe/London")
    page.set_viewport_size(SIZES[size])
    for name, (url, heading) in SIGNED_OUT_PAGES.items():
        page.goto(url)
        check_page(page, name, heading, size)

    page.goto("/accounts/login/")
    expect(page.get_by_label("Remember me")).to_be_visible()
    expect(page.get_by_role("link", name="Forgot your password?")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Sign up").click()
    page.get_by_role("main").get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The email address and/or password you specified are not correct."
    )
    check_page(page, "login-error", "Log in", size)

    page.goto("/accounts/signup/")
    page.get_by_label("Your name").fill("Kim")
    page.get_by_label("Email").fill("kim@example.com")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password (again)").fill("other")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".errorlist").first).to_be_visible()
    check_page(page, "signup-errors", "Sign up", size)

    member = UserFactory()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status")).to_have_text(f"You're logged in as {member.display_name}.")
    for name, (url, heading) in SIGNED_IN_PAGES.items():
        page.goto(url)
        check_page(page, name, heading, size)
    page.goto("/accounts/logout/")
    page.get_by_role("main").get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You're logged out.")
