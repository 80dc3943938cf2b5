"""The error pages in Chromium, at phone and desktop width: readable, in the site's design, with a way on."""

import re

import pytest
from playwright.sync_api import expect

from .factories import UserFactory
from .test_browser_flow import log_in, shot
from .viewports import open_menu

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.error_urls")]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1200, "height": 900}


def fits_the_screen(page) -> bool:
    """Nothing sticks out sideways: no horizontal scrolling."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_missing_page_reads_well_and_leads_home(new_page, size):
    page = new_page()
    page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    response = page.goto("/mentors/999999/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="We can't find that page")).to_be_visible()
    expect(page.get_by_role("link", name="support@mentorship.localhost")).to_be_visible()
    assert fits_the_screen(page)
    shot(page, f"error-404-{size}")
    page.get_by_role("main").get_by_role("link", name="Find a mentor").click()
    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_member_sees_their_menu_on_the_404_and_a_calm_500(new_page, size):
    member = UserFactory(display_name="Maya Member")
    page = new_page()
    page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    log_in(page, member.email)
    response = page.goto("/bookings/999999/")
    assert response.status == 404
    open_menu(page)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="My Bookings")).to_be_visible()
    assert fits_the_screen(page)
    shot(page, f"error-404-member-{size}")

    response = page.goto("/test/broken/")
    assert response.status == 500
    expect(page.get_by_role("heading", name="Something went wrong on our side")).to_be_visible()
    expect(page.get_by_role("link", name="Try again")).to_be_visible()
    assert fits_the_screen(page)
    shot(page, f"error-500-{size}")
    page.get_by_role("main").get_by_role("link", name="My Bookings").click()
    expect(page.get_by_role("heading", name="My Bookings")).to_be_visible()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_stuck_lock_reads_busy_and_offers_to_try_again(new_page, size):
    page = new_page()
    page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    response = page.goto("/test/stuck/")
    assert response.status == 503 and response.headers["retry-after"] == "5"
    expect(page.get_by_role("heading", name="Busy right now")).to_be_visible()
    expect(page.get_by_text("Please try again in a few seconds.")).to_be_visible()
    assert fits_the_screen(page)
    shot(page, f"error-503-{size}")
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", name="Busy right now")).to_be_visible()
