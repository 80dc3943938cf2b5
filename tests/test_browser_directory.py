"""In Chromium: search and filters find the expected mentor (a plain GET form; listing after approval is in
test_browser_accounts)."""

import pytest
from playwright.sync_api import expect

from .factories import MentorProfileFactory, ServiceFactory, weekly_hours
from .test_browser_flow import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _mentor(name, **kwargs):
    price = kwargs.pop("price", 4000)
    fmt = kwargs.pop("fmt", "online")
    mentor = MentorProfileFactory(user__display_name=name, **kwargs)
    ServiceFactory(
        mentor=mentor, price_cents=price, format=fmt, address="Torstraße 1, Berlin" if fmt != "online" else ""
    )
    weekly_hours(mentor)
    return mentor


def test_search_and_filters_find_the_expected_mentor(new_page):
    _mentor(
        "Lena Schmidt",
        headline="Engineering manager",
        expertise="Leadership, hiring",
        languages="English, German",
        price=6000,
        fmt="in_person",
    )
    _mentor("Arjun Rao", headline="Data engineer", expertise="SQL, data", languages="English, Hindi", price=3000)
    _mentor("Chloe Nguyen", headline="Product designer", expertise="UX, leadership", languages="English", price=6500)
    page = new_page("Europe/Berlin")
    page.goto("/")
    expect(page.get_by_role("heading", name="3 mentors")).to_be_visible()
    shot(page, "24-directory")
    search = page.get_by_role("search", name="Find a mentor")
    search.get_by_label("Search").fill("leadership")
    search.get_by_role("button", name="Show mentors").click()
    expect(page.get_by_role("heading", name="2 mentors")).to_be_visible()
    search = page.get_by_role("search", name="Find a mentor")
    search.get_by_label("Language").select_option("German")
    search.get_by_label("Sessions").select_option(label="In person")
    search.get_by_role("button", name="Show mentors").click()
    expect(page.get_by_role("heading", name="1 mentor", exact=True)).to_be_visible()
    card = page.get_by_role("article", name="Lena Schmidt")
    expect(card).to_contain_text("From $60.00")
    expect(card).to_contain_text("English, German")
    assert "q=leadership" in page.url and "language=German" in page.url  # a plain GET form: shareable
    card.get_by_role("link", name="See times").click()
    expect(page.get_by_role("heading", name="Lena Schmidt")).to_be_visible()
