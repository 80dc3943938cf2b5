"""axe-core finds nothing, of any impact, on the pages people use most, at phone and desktop width: every part of
the page in a landmark, headings in order, names on controls, enough contrast. Also: the skip link comes first and
the focus ring shows in the brand colour."""

import os

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from .site_data import build_site
from .test_browser_flow import log_in
from .viewports import SIZES, assert_no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/shots-shell"  # each key page at each width, to look at


def key_pages(role: str, site) -> list[str]:
    if role == "signed_out":
        return [reverse("home"), reverse("home") + "?q=engineer&sort=price", reverse("account_login")]
    if role == "mentee":
        return [
            reverse("mentor_profile", args=[site.mentor.pk]),
            reverse("checkout", args=[site.held.pk]),
            reverse("my_bookings"),
            reverse("booking_detail", args=[site.confirmed.pk]),
            reverse("account_settings"),
            reverse("conversations"),
            reverse("conversation", args=[site.conversation.pk]),
        ]
    return [
        reverse("mentor_bookings"),
        reverse("booking_detail", args=[site.pending.pk]),
        reverse("booking_detail", args=[site.confirmed.pk]),
        reverse("earnings"),
        reverse("account_settings"),
        reverse("conversations"),
    ]


@pytest.fixture
def site(stripe_server, settings):
    return build_site(stripe_server, settings)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", ["signed_out", "mentee", "mentor"])
def test_the_key_pages_have_no_axe_violations(new_page, site, role, size):
    page = new_page("Europe/London")
    page.set_viewport_size(SIZES[size])
    if role != "signed_out":
        log_in(page, site.mentee.email if role == "mentee" else site.mentor.user.email)
    found = []
    for path in key_pages(role, site):
        assert page.goto(path).status < 400
        os.makedirs(SHOTS, exist_ok=True)
        slug = path.strip("/").replace("/", "-").replace("?", "-").replace("&", "-").replace("=", "") or "home"
        page.screenshot(path=f"{SHOTS}/{role}-{slug}-{size}.png", full_page=True)
        try:
            assert_no_axe_violations(page)
        except AssertionError as error:
            found.append(str(error))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("size", SIZES)
def test_the_skip_link_comes_first_and_focus_shows_in_the_brand_colour(new_page, size):
    page = new_page()
    page.set_viewport_size(SIZES[size])
    page.goto(reverse("home"))
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    page.keyboard.press("Tab")  # the first control in the page's content
    outline = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineColor]; })()"
    )
    assert outline == ["solid", "rgb(58, 79, 216)"], outline  # --brand
