"""The page around every page, in Chromium: on a phone the links fold behind "Menu" and the directory's filters
behind "Filters" (both plain <details>, no script); on a desktop both show at once. The test-mode banner is one
short line on a phone."""

import pytest
from playwright.sync_api import expect

from .factories import MentorProfileFactory, ServiceFactory, weekly_hours
from .test_browser_flow import log_in, shot
from .viewports import SIZES, assert_no_axe_violations, assert_no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/shots-shell"


@pytest.mark.parametrize("size", SIZES)
def test_the_phone_menu_opens_and_its_links_work(new_page, size):
    mentor = MentorProfileFactory(user__display_name="Maya Mentor")
    ServiceFactory(mentor=mentor)
    page = new_page()
    page.set_viewport_size(SIZES[size])
    log_in(page, mentor.user.email)
    nav = page.get_by_role("navigation", name="Main")
    menu = nav.locator("summary", has_text="Menu")
    earnings = nav.get_by_role("link", name="Earnings")
    if size == "phone":
        expect(menu).to_be_visible()
        expect(earnings).to_be_hidden()
        expect(nav.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()  # the bell stays out
        menu.focus()
        page.keyboard.press("Enter")  # a keyboard opens it too
        expect(earnings).to_be_visible()
        expect(nav.get_by_role("button", name="Log out")).to_be_visible()
        assert_no_sideways_scroll(page)
        assert_no_axe_violations(page)  # the open menu as well
        page.screenshot(path=f"{SHOTS}/menu-open-phone.png")
    else:
        expect(menu).to_be_hidden()
        expect(earnings).to_be_visible()
    earnings.click()
    expect(page.get_by_role("heading", name="Earnings", exact=True)).to_be_visible()
    if size == "phone":
        expect(earnings).to_be_hidden()  # folded again on the next page
        menu.click()
    nav.get_by_role("link", name="Bookings", exact=True).click()
    expect(page.get_by_role("heading", name="Bookings", exact=True)).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
def test_the_directory_filters_fold_on_a_phone_and_stay_open_while_set(new_page, size):
    for name, languages in (("Lena Schmidt", "English, German"), ("Arjun Rao", "English, Hindi")):
        mentor = MentorProfileFactory(user__display_name=name, languages=languages)
        ServiceFactory(mentor=mentor)
        weekly_hours(mentor)
    page = new_page()
    page.set_viewport_size(SIZES[size])
    page.goto("/")
    search = page.get_by_role("search", name="Find a mentor")
    language = search.get_by_label("Language")
    filters = search.locator("summary", has_text="Filters")
    expect(search.get_by_label("Search")).to_be_visible()
    expect(search.get_by_role("button", name="Show mentors")).to_be_visible()
    if size == "phone":
        expect(language).to_be_hidden()
        page.screenshot(path=f"{SHOTS}/directory-filters-folded-phone.png")
        filters.click()
    else:
        expect(filters).to_be_hidden()
    language.select_option("German")
    search.get_by_role("button", name="Show mentors").click()
    expect(page.get_by_role("heading", name="1 mentor", exact=True)).to_be_visible()
    expect(page.get_by_role("search", name="Find a mentor").get_by_label("Language")).to_have_value("German")
    assert_no_sideways_scroll(page)


@pytest.mark.parametrize("size", SIZES)
def test_the_test_mode_banner_is_one_short_line_on_a_phone(new_page, size):
    page = new_page()
    page.set_viewport_size(SIZES[size])
    page.goto("/")
    banner = page.get_by_role("banner").get_by_role("note")
    expect(banner).to_contain_text("4242 4242 4242 4242")
    if size == "phone":
        expect(banner).to_have_text("Test mode · card 4242 4242 4242 4242", use_inner_text=True)
        assert banner.bounding_box()["height"] < 40  # one line
    else:
        expect(banner).to_have_text(
            "Test mode: no real money moves. Pay with card 4242 4242 4242 4242, any future expiry date and any CVC.",
            use_inner_text=True,
        )
    shot(page, f"shell-home-{size}")
