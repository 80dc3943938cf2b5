"""The bounced-address banner in Chromium, at phone and desktop width: it says which address bounced, links to
the e-mail page, and "It works now" makes it go and says so."""

import pytest
from playwright.sync_api import expect

from notifications import suppression

from .factories import UserFactory
from .test_browser_flow import log_in, shot
from .viewports import SIZES, assert_no_axe_violations, assert_no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", SIZES)
def test_a_person_whose_address_bounced_sees_the_banner_and_can_say_it_works_again(new_page, size):
    person = UserFactory(email="sam.with.a.rather.long.address@mentee-mail.example.com")
    suppression.address_suppress(
        email=person.email, reason="bounced", provider="Mailgun", description="550 5.1.1 No such user"
    )
    page = new_page("Europe/London")
    page.set_viewport_size(SIZES[size])
    log_in(page, person.email)
    page.goto("/bookings/")
    banner = page.get_by_test_id("undeliverable-banner")
    expect(banner).to_contain_text(f"We couldn't deliver e-mail to {person.email} (it bounced).")
    expect(banner.get_by_role("link", name="Change your e-mail address")).to_have_attribute("href", "/accounts/email/")
    assert_no_sideways_scroll(page)
    assert_no_axe_violations(page)
    shot(page, f"bounced-address-banner-{size}")

    banner.get_by_role("button", name="It works now").click()
    expect(page.get_by_text(f"Thank you. We'll e-mail {person.email} again.")).to_be_visible()
    expect(page.get_by_test_id("undeliverable-banner")).to_have_count(0)
    assert page.url.endswith("/bookings/")  # back where they were
    shot(page, f"bounced-address-lifted-{size}")
    assert not suppression.is_undeliverable(person.email)
