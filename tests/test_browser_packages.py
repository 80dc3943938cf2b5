"""In Chromium: a mentor offers a package, a mentee buys it, books with a credit, cancels, and the credit returns."""

import re

import pytest
from playwright.sync_api import expect

from bookings.models import PackagePurchase
from payments.models import Payment

from .factories import UserFactory, bookable_mentor
from .test_browser_flow import fill_card, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_mentee_buys_a_package_books_with_a_credit_and_a_cancelled_credit_returns(new_page, stripe_server):
    mentor = bookable_mentor(user__display_name="Maya Mentor", user__time_zone="America/New_York")
    mentee = UserFactory(display_name="Sam Mentee", time_zone="Europe/London")

    mentor_page = new_page("America/New_York")
    log_in(mentor_page, mentor.user.email)
    mentor_page.get_by_role("navigation", name="Main").get_by_role("link", name="Services").click()
    mentor_page.get_by_role("link", name="Add a package").click()
    mentor_page.get_by_label("Session type").select_option(label="30-min intro (30 min)")
    mentor_page.get_by_label("Number of sessions").fill("5")
    mentor_page.get_by_label("Package price (USD)").fill("170")
    mentor_page.get_by_label("Valid for (days)").fill("90")
    mentor_page.get_by_role("button", name="Save package").click()
    expect(mentor_page.get_by_role("cell", name="5 × 30-min intro")).to_be_visible()

    page = new_page("Europe/London")
    log_in(page, mentee.email)
    page.goto(f"/mentors/{mentor.pk}/")
    packages = page.get_by_role("list", name="Packages")
    expect(packages).to_contain_text("save $30.00")
    packages.get_by_role("button", name="Buy package 5 × 30-min intro").click()
    terms = page.get_by_role("group").filter(has_text="Terms for this package")
    expect(terms).to_contain_text("Credits expire 90 days after you pay")
    expect(terms).to_contain_text("Credits left unused when the package expires are not refunded.")
    shot(page, "26-package-checkout")
    fill_card(page, "4242424242424242")
    page.get_by_role("button", name="Pay $170.00").click()
    expect(page.get_by_role("status")).to_contain_text("Your package 5 × 30-min intro is ready")
    expect(page.get_by_test_id("credits-left")).to_have_text("5 of 5 credits left")
    assert Payment.objects.get(purchase__mentee=mentee).amount_cents == 17000

    page.get_by_role("link", name="Book session").click()
    page.locator(".slot").first.click()
    page.get_by_role("button", name="Book session").click()
    credit_box = page.get_by_role("region", name="Use a package credit")
    expect(credit_box).to_contain_text("5 credits left")
    credit_box.get_by_role("button", name="Use a package credit").click()
    expect(page.get_by_role("status")).to_contain_text("Booked with a package credit")
    expect(page.locator(".badge")).to_have_text("Pending")
    expect(page.get_by_text(re.compile("A credit of the package 5 × 30-min intro"))).to_be_visible()
    shot(page, "27-booked-with-credit")
    page.goto("/packages/")
    expect(page.get_by_test_id("credits-left")).to_have_text("4 of 5 credits left")

    page.get_by_role("link", name=re.compile(r"\w{3} \d+ \w{3} \d{4}")).first.click()
    page.get_by_role("link", name="Cancel", exact=True).click()
    expect(page.get_by_role("heading", name="Your package credit comes back")).to_be_visible()
    page.get_by_role("button", name="Cancel booking").click()
    expect(page.get_by_role("status")).to_contain_text("your package credit comes back")
    page.goto("/packages/")
    expect(page.get_by_test_id("credits-left")).to_have_text("5 of 5 credits left")
    expect(page.get_by_text("credit returned")).to_be_visible()
    shot(page, "28-my-packages")
    assert PackagePurchase.objects.get().status == "paid"
