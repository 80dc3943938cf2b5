"""A mentor connects Stripe in Chromium, completes sessions, and sees the payout in the history."""

import re

import pytest
from playwright.sync_api import expect

from payments import payouts

from .test_browser_flow import log_in, shot
from .test_payouts import completed_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_mentor_connects_stripe_and_sees_the_payout(new_page, stripe_server, settings):
    from .factories import bookable_mentor

    settings.PLATFORM_FEE_PERCENT = 15
    mentor = bookable_mentor(user__display_name="Maya Mentor")
    completed_session(mentor, stripe_server)
    completed_session(mentor, stripe_server, offset=2)

    page = new_page("America/New_York")
    log_in(page, mentor.user.email)
    page.get_by_role("link", name="Earnings").click()
    expect(page.get_by_test_id("balance")).to_have_text("$68.00")
    page.get_by_role("button", name="Connect Stripe").click()

    expect(page.get_by_role("heading", name="Set up payouts")).to_be_visible()  # Stripe's onboarding
    page.get_by_role("button", name="Complete onboarding").click()
    expect(page.get_by_role("status")).to_contain_text("Your Stripe account is connected")
    expect(page.get_by_role("region", name="Payout account")).to_contain_text("Connected")

    payouts.payouts_run()  # what the periodic job does
    page.reload()
    history = page.get_by_role("region", name="Payout history")
    expect(history.get_by_role("row", name=re.compile(r"\$68\.00"))).to_contain_text("Paid")
    expect(page.get_by_test_id("balance")).to_have_text("$0.00")
    expect(page.get_by_test_id("paid-out")).to_have_text("$68.00")
    shot(page, "12-earnings-payout")
