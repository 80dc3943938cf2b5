"""Staff set up an authenticator app the first time they open the admin, keep their recovery codes, and
from then on sign in with password and code; a recovery code gets them in once."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from .factories import PASSWORD, UserFactory
from .test_browser_flow import shot
from .test_staff_security import totp_code
from .viewports import open_menu

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1200, "height": 900}}


def sign_in_to_admin(page, email: str) -> None:
    page.goto("/admin/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def sign_out(page) -> None:
    page.goto("/")
    open_menu(page)
    page.get_by_role("button", name="Log out").click()
    open_menu(page)
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
def test_staff_set_up_a_second_factor_then_sign_in_with_it_and_a_recovery_code_works_once(new_page, settings, size):
    settings.STAFF_REQUIRE_MFA = True
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    page = new_page()
    page.set_viewport_size(SIZES[size])

    sign_in_to_admin(page, staff.email)
    expect(page.get_by_text("Set up an authenticator app before you open the admin.")).to_be_visible()
    # Adding a second factor asks for the password again (allauth): a borrowed session can't add its own.
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = page.get_by_label("Authenticator secret").input_value()
    shot(page, f"staff-mfa-activate-{size}")
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()

    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    codes = page.get_by_label("Unused codes").input_value().split()
    assert len(codes) == 10
    shot(page, f"staff-mfa-recovery-codes-{size}")
    page.get_by_role("link", name="I have saved them: open the admin").click()
    expect(page.get_by_role("heading", name="Mentors, bookings and money")).to_be_visible()
    page.goto("/settings/")  # where anyone finds their second factor again
    page.get_by_role("link", name="Two-factor sign-in").click()
    expect(page.get_by_text("Authentication using an authenticator app is active.")).to_be_visible()
    shot(page, f"staff-mfa-settings-{size}")
    sign_out(page)

    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=60)):  # a code is good once: the app shows the next one
        sign_in_to_admin(page, staff.email)
        expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
        shot(page, f"staff-mfa-code-{size}")
        page.get_by_label("Code").fill(totp_code(secret))
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Mentors, bookings and money")).to_be_visible()
        sign_out(page)

        for attempt in ("first", "again"):
            sign_in_to_admin(page, staff.email)
            page.get_by_label("Code").fill(codes[0])
            page.get_by_role("button", name="Log in").click()
            if attempt == "first":
                expect(page.get_by_role("heading", name="Mentors, bookings and money")).to_be_visible()
                sign_out(page)
            else:
                expect(page.get_by_text("Incorrect code.")).to_be_visible()
                expect(page.get_by_role("heading", name="Mentors, bookings and money")).to_have_count(0)
                shot(page, f"staff-mfa-used-recovery-code-{size}")
