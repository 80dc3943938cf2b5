"""In Chromium: a mentor's Markdown bio is refused over its cap with a message, and shown as saved HTML."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from mentorship import rich_text

from .factories import bookable_mentor
from .test_browser_flow import log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1200, "height": 900}}


@pytest.mark.parametrize("size", SIZES)
def test_a_mentor_is_told_a_bio_is_too_long_and_the_profile_shows_the_saved_one(new_page, size):
    mentor = bookable_mentor(bio="Short.")
    page = new_page()
    page.set_viewport_size(SIZES[size])
    log_in(page, mentor.user.email)
    page.goto(reverse("mentor_profile_edit"))
    bio = page.get_by_label("Bio:")
    expect(bio).to_have_attribute("maxlength", str(rich_text.BIO_MAX_LENGTH))
    # Past the browser's own limit (a pasted script, an old browser): the server says what is wrong.
    bio.evaluate("(area, length) => { area.removeAttribute('maxlength'); area.value = '['.repeat(length); }", 12_000)
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Ensure this value has at most 5000 characters (it has 12000).")).to_be_visible()
    shot(page, f"bio-too-long-{size}")
    mentor.refresh_from_db()
    assert mentor.bio == "Short."

    page.get_by_label("Bio:").fill("## How I mentor\n\nI **review your code** with you.\n\n- Django\n- SQL")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_contain_text("Your profile is saved")
    page.goto(reverse("mentor_profile", args=[mentor.pk]))
    expect(page.get_by_role("heading", name="How I mentor")).to_be_visible()
    expect(page.locator(".bio strong")).to_have_text("review your code")
    expect(page.locator(".bio li")).to_have_text(["Django", "SQL"])
    shot(page, f"bio-saved-{size}")
