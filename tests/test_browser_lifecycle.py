"""The booking lifecycle in Chromium: links and Join, cancel with its preview, reschedule, no-show to refund."""

import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from payments.models import Refund

from .factories import UserFactory, bookable_mentor
from .test_browser_flow import log_in, shot, staff_action
from .test_lifecycle import booked

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mentor():
    return bookable_mentor(user__display_name="Maya Mentor")


def test_mentor_adds_links_and_the_mentee_gets_a_join_button_near_the_start(new_page, mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    page = new_page("America/New_York")
    log_in(page, mentor.user.email)
    page.goto(f"/bookings/{booking.pk}/")
    links = page.get_by_role("region", name=re.compile("Links for"))
    links.get_by_label("Meeting link").fill("https://meet.example.com/abc-defg")
    links.get_by_label("Availability link").fill("https://calendar.example.com/schedule/maya")
    links.get_by_role("button", name="Save links").click()
    expect(page.get_by_role("status")).to_contain_text("Links saved")

    mentee = new_page("Europe/London")
    log_in(mentee, booking.mentee.email)
    mentee.goto(f"/bookings/{booking.pk}/")
    expect(mentee.get_by_role("link", name="Open availability link")).to_have_attribute(
        "href", "https://calendar.example.com/schedule/maya"
    )
    expect(mentee.get_by_role("link", name="Join")).to_have_count(0)
    expect(mentee.get_by_text("The Join button appears here 10 minutes before the start")).to_be_visible()
    with time_machine.travel(booking.start - timedelta(minutes=9), tick=True):
        mentee.reload()
        expect(mentee.get_by_role("link", name="Join")).to_have_attribute("href", "https://meet.example.com/abc-defg")
        shot(mentee, "14-session-join")


def test_cancel_shows_the_refund_first_then_refunds(new_page, mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    page = new_page("Europe/London")
    log_in(page, booking.mentee.email)
    page.goto("/bookings/")
    page.get_by_role("link", name="30-min intro").click()
    page.get_by_role("link", name="Cancel", exact=True).click()
    expect(page.get_by_role("heading", name="Refund: $40.00")).to_be_visible()
    shot(page, "15-cancel-preview")
    page.get_by_role("button", name="Cancel booking").click()
    expect(page.get_by_role("status")).to_contain_text("full refund of $40.00")
    expect(page.locator(".badge")).to_have_text("Cancelled")
    assert Refund.objects.get().amount_cents == 4000


def test_the_mentee_moves_a_booking_to_another_time(new_page, mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    page = new_page("Europe/London")
    log_in(page, booking.mentee.email)
    page.goto(f"/bookings/{booking.pk}/")
    page.get_by_role("link", name="Reschedule").click()
    slot = page.locator(".slot").nth(3)
    label = slot.get_attribute("aria-label")
    slot.click()
    page.get_by_role("button", name="Move session").click()
    expect(page.get_by_role("status")).to_contain_text("Moved")
    expect(page.locator(".badge")).to_have_text("Confirmed")
    day, hour = label.rsplit(" ", 1)
    expect(page.get_by_role("definition").first).to_contain_text(hour)
    booking.refresh_from_db()
    assert booking.reschedules_used == 1 and booking.payments.count() == 1


def test_a_mentor_no_show_report_is_resolved_by_staff_in_admin_with_a_refund(new_page, mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    UserFactory(email="support@example.com", is_staff=True, is_superuser=True)
    with time_machine.travel(booking.start + timedelta(minutes=12), tick=True):
        page = new_page("Europe/London")
        log_in(page, booking.mentee.email)
        page.goto(f"/bookings/{booking.pk}/")
        page.get_by_text("Report mentor no-show").click()
        page.get_by_label("What happened? (for our support team)").fill("Waited 12 minutes, nobody came.")
        page.get_by_role("button", name="Send report").click()
        expect(page.get_by_role("status")).to_contain_text("Reported")

        staff = new_page()
        staff_action(
            staff,
            email="support@example.com",
            section="Support tickets",
            row="Mentor did not show up",
            action="Mentor no-show — full refund",
        )
        expect(staff.get_by_text("1 ticket(s) resolved")).to_be_visible()

        page.reload()
        expect(page.locator(".badge")).to_have_text("Mentor no-show")
    assert Refund.objects.get().amount_cents == 4000


def test_the_mentor_suggests_other_times_and_the_mentee_accepts_one(new_page, mentor, stripe_server):
    booking = booked(mentor, stripe_server, confirm=False)
    page = new_page("America/New_York")
    log_in(page, mentor.user.email)
    page.get_by_role("link", name="Bookings", exact=True).click()
    page.get_by_role("link", name="Suggest other times…").click()
    page.get_by_text("Suggest other times instead…").click()
    boxes = page.get_by_role("checkbox")
    boxes.nth(2).check()
    boxes.nth(5).check()
    page.get_by_label("Note to").fill("Mornings are better for me that week.")
    page.get_by_role("button", name="Send suggestions").click()
    expect(page.get_by_role("status")).to_contain_text("Suggestions sent")

    mentee = new_page("Europe/London")
    log_in(mentee, booking.mentee.email)
    mentee.goto(f"/bookings/{booking.pk}/")
    offer = mentee.get_by_role("region", name="Maya Mentor suggests other times")
    expect(offer.get_by_role("button", name=re.compile("Accept"))).to_have_count(2)
    shot(mentee, "16-suggested-times")
    offer.get_by_role("button", name=re.compile("Accept")).first.click()
    expect(mentee.get_by_role("status")).to_contain_text("Confirmed for the new time")
    expect(mentee.locator(".badge")).to_have_text("Confirmed")
    booking.refresh_from_db()
    assert booking.status == "confirmed" and booking.payments.count() == 1 and not Refund.objects.exists()


def test_the_session_page_offers_calendar_links_and_the_ics_downloads(new_page, mentor, stripe_server):
    booking = booked(mentor, stripe_server)
    page = new_page("Europe/London")
    log_in(page, booking.mentee.email)
    page.goto(f"/bookings/{booking.pk}/")
    expect(page.get_by_role("link", name="Google Calendar")).to_have_attribute(
        "href", re.compile(r"^https://calendar\.google\.com/calendar/render\?action=TEMPLATE")
    )
    expect(page.get_by_role("link", name="Outlook")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Apple Calendar (.ics)").click()
    content = download.value.path().read_bytes()
    assert b"BEGIN:VEVENT" in content and f"booking-{booking.pk}@".encode() in content


def test_a_mentor_gives_part_of_the_money_back_after_a_late_cancellation(new_page, mentor, stripe_server):
    from bookings import services as booking_services

    booking = booked(mentor, stripe_server)
    with time_machine.travel(booking.start - timedelta(hours=2)):
        booking_services.booking_cancel(booking.pk, actor=booking.mentee)  # inside the window: no refund
    page = new_page("America/New_York")
    log_in(page, mentor.user.email)
    page.goto(f"/bookings/{booking.pk}/")
    page.get_by_text("Give a refund…").click()
    page.get_by_label("Amount to refund").fill("15")
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Refunded $15.00")
    assert [r.amount_cents for r in Refund.objects.all()] == [1500]


def test_e_mail_choices_and_the_calendar_address_are_kept_in_settings(new_page, stripe_server):
    user = UserFactory()
    page = new_page()
    log_in(page, user.email)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Notifications and calendar").click()
    page.get_by_label("Reminders before sessions").uncheck()
    page.get_by_role("button", name="Save e-mail choices").click()
    expect(page.get_by_role("status")).to_contain_text("Your e-mail choices are saved")
    expect(page.get_by_label("Reminders before sessions")).not_to_be_checked()
    old_address = page.get_by_label("Calendar address").input_value()
    page.get_by_role("button", name=re.compile("Make a new address")).click()
    expect(page.get_by_label("Calendar address")).not_to_have_value(old_address)
    assert page.request.get(old_address).status == 404
