"""The site under its Content-Security-Policy in Chromium: the checkout pays through Stripe.js, the receipt
prints, the admin works, and a member is stopped kindly after too many attempts. The new_page fixture fails
each test on anything the policy blocks."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from bookings.models import Booking
from notifications.models import Message

from .factories import UserFactory, bookable_mentor
from .test_browser_error_pages import DESKTOP, PHONE, fits_the_screen
from .test_browser_flow import fill_card, log_in, shot, start_checkout
from .test_browser_messages import write_to_maya
from .viewports import open_menu

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_checkout_pays_with_stripe_js_under_the_policy_and_the_receipt_prints(
    new_page, stripe_server, size
):  # fmt: skip
    mentor, mentee = bookable_mentor(), UserFactory()
    page = new_page("Europe/London")
    page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    log_in(page, mentee.email)
    start_checkout(page, mentor)
    policy = page.evaluate("fetch(location.href).then(r => r.headers.get('content-security-policy'))")
    assert stripe_server.base in re.search(r"script-src ([^;]*)", policy).group(1)
    assert "'unsafe-inline'" not in policy
    fill_card(page, "4242424242424242")
    assert fits_the_screen(page)
    shot(page, f"csp-checkout-{size}")
    page.get_by_role("button", name="Pay $40.00").click()
    expect(page.get_by_role("status")).to_contain_text("Payment received")
    assert Booking.objects.get().status == Booking.Status.PENDING

    open_menu(page)
    page.get_by_role("link", name="My Bookings").click()
    page.get_by_role("link", name="Receipt").first.click()
    page.evaluate("window.print = function () { window.printed = true; }")  # no print dialog in a test
    page.get_by_role("button", name="Print").click()  # shown and wired by print.js, no inline handler
    assert page.evaluate("window.printed") is True
    shot(page, f"csp-receipt-{size}")


def test_the_admin_works_under_the_policy(new_page, stripe_server, live_server):
    staff = UserFactory(is_staff=True, is_superuser=True)
    mentor = bookable_mentor()
    signed_in = Client()
    signed_in.force_login(staff)
    page = new_page()
    page.context.add_cookies(
        [{"name": "sessionid", "value": signed_in.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto("/admin/mentorship/mentorprofile/")
    expect(page.get_by_role("heading", name=re.compile("Select mentor profile"))).to_be_visible()
    # The admin's own scripts run: ticking a row updates the selection count (actions.js).
    page.get_by_role("row", name=re.compile(mentor.user.display_name)).get_by_role("checkbox").check()
    expect(page.get_by_text("1 of 1 selected")).to_be_visible()
    page.get_by_role("link", name=mentor.user.display_name).click()
    expect(page.get_by_role("heading", name=re.compile("Change mentor profile"))).to_be_visible()
    shot(page, "csp-admin")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_member_over_the_message_limit_is_told_when_to_try_again(new_page, settings, size):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "message": (1, 600)}
    mentor, page = write_to_maya(new_page)
    page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    page.get_by_role("textbox", name="Message").fill("Hi Maya!")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Message sent.")).to_be_visible()
    page.get_by_role("textbox", name="Message").fill("Are you there?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    expect(page.get_by_text(re.compile(r"try again in \d+ minutes?"))).to_be_visible()
    assert fits_the_screen(page)
    shot(page, f"too-many-attempts-{size}")
    assert list(Message.objects.values_list("body", flat=True)) == ["Hi Maya!"]
    page.get_by_role("link", name="Go back").click()
    expect(page.get_by_role("heading", name="Messages with Maya Mentor")).to_be_visible()
