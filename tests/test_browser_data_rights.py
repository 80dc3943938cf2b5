"""A person downloads their data and deletes their account from Settings, in Chromium, on a phone and a desktop."""

import io
import zipfile

import pytest
from playwright.sync_api import expect

from bookings.models import Booking
from mentorship.models import User

from .factories import PASSWORD
from .test_browser_flow import log_in, shot
from .test_payments import held_and_paid
from .viewports import SIZES, assert_no_sideways_scroll, open_menu

pytestmark = [pytest.mark.browser, pytest.mark.stripe, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", SIZES)
def test_a_mentee_downloads_their_data_then_deletes_their_account(new_page, stripe_server, size):
    booking = held_and_paid(stripe_server)  # a pending request, paid
    mentee = booking.mentee
    page = new_page()
    page.set_viewport_size(SIZES[size])
    log_in(page, mentee.email)
    open_menu(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()

    with page.expect_download() as download:
        page.get_by_role("button", name="Download your data").click()
    with zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read())) as archive:
        assert "bookings.json" in archive.namelist() and str(booking.pk) in archive.read("bookings.json").decode()

    page.get_by_role("link", name="Delete your account").click()
    expect(page.get_by_role("heading", name="Delete your account?")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Not confirmed yet, so you get a full refund")).to_be_visible()
    assert_no_sideways_scroll(page)
    shot(page, f"account-delete-{size}")
    page.get_by_label("Your password").fill("not my password")
    page.get_by_label("I understand that my account cannot be restored.").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("That is not your password.")).to_be_visible()
    assert User.objects.get(pk=mentee.pk).is_active

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("I understand that my account cannot be restored.").check()
    page.get_by_role("button", name="Delete my account").click()

    expect(page.get_by_role("status")).to_contain_text("Your account is deleted.")
    open_menu(page)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")).to_be_visible()
    shot(page, f"account-deleted-{size}")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert User.objects.get(pk=mentee.pk).display_name == "Former member"
