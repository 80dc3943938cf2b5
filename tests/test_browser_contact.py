"""Contact details in Chromium, at phone and desktop width: the mentee sees the mentor's e-mail address only
after the mentor confirms; the mentor sees the mentee's once paid. Staff resend an e-mail the system gave up on."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from bookings import selectors
from bookings import services as booking_services
from notifications import services as notification_services

from .factories import UserFactory, bookable_mentor
from .test_browser_error_pages import DESKTOP, PHONE, fits_the_screen
from .test_browser_flow import log_in, shot
from .test_names_and_headers import _unreachable_smtp
from .test_payments import pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MENTOR_EMAIL = "maya.mentor@example.com"
MENTEE_EMAIL = "mia.mentee@example.com"


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_mentors_address_appears_for_the_mentee_only_after_confirming(new_page, stripe_server, size):
    mentor = bookable_mentor(user__email=MENTOR_EMAIL, user__display_name="Maya Mentor")
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(intro, start=now + timedelta(days=3), end=now + timedelta(days=6))[0]
    mentee = UserFactory(email=MENTEE_EMAIL, display_name="Mia Mentee")
    booking = booking_services.booking_hold(mentee=mentee, service=intro, start=start)

    page = new_page("Europe/London")
    page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    log_in(page, MENTEE_EMAIL)
    page.goto(f"/bookings/{booking.pk}/")
    expect(page.get_by_text("their e-mail address shows here once they confirm")).to_be_visible()
    expect(page.get_by_role("link", name=MENTOR_EMAIL)).to_have_count(0)
    expect(page.get_by_role("link", name="Message Maya Mentor")).to_be_visible()
    assert fits_the_screen(page)
    shot(page, f"contact-held-{size}")

    pay(stripe_server, booking)
    mentor_page = new_page("America/New_York")
    mentor_page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    log_in(mentor_page, MENTOR_EMAIL)
    mentor_page.goto(f"/bookings/{booking.pk}/")
    expect(mentor_page.get_by_role("link", name=MENTEE_EMAIL)).to_have_attribute("href", f"mailto:{MENTEE_EMAIL}")
    page.reload()
    expect(page.get_by_role("link", name=MENTOR_EMAIL)).to_have_count(0)  # paid, but not confirmed yet

    mentor_page.get_by_role("button", name="Confirm").click()
    expect(mentor_page.get_by_role("status")).to_contain_text("Confirmed")
    page.reload()
    expect(page.get_by_role("link", name=MENTOR_EMAIL)).to_have_attribute("href", f"mailto:{MENTOR_EMAIL}")
    shot(page, f"contact-confirmed-{size}")
    assert fits_the_screen(page)


def test_staff_find_an_e_mail_given_up_on_and_send_it_again(new_page, settings):
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    person = UserFactory(display_name="Eve")
    _unreachable_smtp(settings)
    notice = notification_services.notify(person, kind="payout_processed", key="p-9", subject="Payout sent", body="Hi")
    for hours in range(1, 8):
        with time_machine.travel(timezone.now() + timedelta(hours=hours * 2)):
            notification_services.retry_failed_emails()
    notice.refresh_from_db()
    assert notice.email_status == "gave_up"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the mail server is back

    page = new_page()
    page.goto("/admin/")  # the admin sends staff to the site's login and back
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill("a-good-test-password")
    page.get_by_role("button", name="Log in").click()
    page.goto("/admin/notifications/notification/")
    page.get_by_role("link", name="Failed for good").click()
    row = page.get_by_role("row", name=re.compile("Payout sent"))
    expect(row).to_contain_text("Connection refused")
    shot(page, "admin-emails-given-up")
    row.get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option(label="Send the e-mail again (failed ones)")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_text("Sent 1 of 1 failed e-mails.")).to_be_visible()
    assert [m.subject for m in mail.outbox] == ["Payout sent"]
