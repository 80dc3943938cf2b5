"""A free intro call booked in Chromium without a card, at phone and desktop widths: the profile and the request
say "Free", the request goes straight to Pending, the mentor confirms and completes it, Earnings stay at $0.00,
and a second free intro call is politely refused (one each)."""

import os
import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import Booking
from mentorship.models import Service
from payments.models import LedgerEntry, Payment

from .factories import UserFactory, bookable_mentor
from .test_browser_flow import log_in
from .viewports import SIZES, assert_no_sideways_scroll, open_menu

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = "test-artifacts/screens-free"


def shot(page, name: str) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.fixture
def people():
    mentor = bookable_mentor(user__display_name="Maya Mentor", user__time_zone="America/New_York")
    Service.objects.create(
        mentor=mentor,
        title="Free intro call",
        duration_minutes=30,
        price_cents=0,
        free_sessions_per_mentee=1,
        position=0,
    )
    mentee = UserFactory(display_name="Sam Mentee", time_zone="Europe/London")
    return mentor, mentee


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_mentee_books_a_free_intro_call_without_a_card(new_page, people, size):
    mentor, mentee = people
    page = new_page("Europe/London")
    page.set_viewport_size(SIZES[size])
    log_in(page, mentee.email)
    page.goto(f"/mentors/{mentor.pk}/")
    intro = page.get_by_role("link", name=re.compile("Free intro call"))
    expect(intro).to_contain_text("Free (1 per mentee)")
    intro.click()
    page.locator(".slot").first.click()
    page.get_by_label("Message to the mentor").fill("Could we talk about moving into data engineering?")
    assert_no_sideways_scroll(page)
    shot(page, f"{size}-1-profile")
    page.get_by_role("button", name="Book session").click()

    # No checkout and no card: the request is sent and Pending.
    expect(page.get_by_role("status")).to_contain_text("Your request is sent. It is Pending until Maya Mentor")
    expect(page.locator(".badge")).to_have_text("Pending")
    expect(page.get_by_role("heading", name="Checkout")).to_have_count(0)
    expect(page.locator(".details")).to_contain_text("Free")
    expect(page.get_by_text("This session is free: there is nothing to pay.")).to_be_visible()
    expect(page.get_by_text("$0.00")).to_have_count(0)
    assert_no_sideways_scroll(page)
    shot(page, f"{size}-2-request-sent")
    booking = Booking.objects.get(mentee=mentee)
    assert booking.status == Booking.Status.PENDING and not Payment.objects.exists()

    open_menu(page)
    page.get_by_role("link", name="My Bookings").click()
    row = page.get_by_role("listitem").filter(has_text="Free intro call")
    expect(row).to_contain_text("Pending")
    expect(row).to_contain_text("Free")
    shot(page, f"{size}-3-my-bookings")

    # One free intro call each: the profile says so instead of offering times.
    page.goto(f"/mentors/{mentor.pk}/")
    page.get_by_role("link", name=re.compile("Free intro call")).click()
    expect(page.get_by_test_id("free-limit")).to_have_text(
        "Maya Mentor offers one free “Free intro call” session per mentee, and you have booked it already. "
        "Their other session types are open to you."
    )
    expect(page.get_by_role("button", name="Book session")).to_have_count(0)
    assert_no_sideways_scroll(page)
    shot(page, f"{size}-4-limit-reached")

    # The mentor confirms and completes it; their Earnings don't change.
    mentor_page = new_page("America/New_York")
    mentor_page.set_viewport_size(SIZES[size])
    log_in(mentor_page, mentor.user.email)
    open_menu(mentor_page)
    mentor_page.get_by_role("link", name="Bookings", exact=True).click()
    pending = mentor_page.get_by_role("region", name=re.compile("Pending"))
    expect(pending).to_contain_text("Sam Mentee")
    expect(pending).to_contain_text("Free")
    pending.get_by_text("Decline…").click()
    expect(pending.get_by_text("This session is free, so there is nothing to refund.")).to_be_visible()
    assert_no_sideways_scroll(mentor_page)
    shot(mentor_page, f"{size}-5-mentor-pending")
    pending.get_by_role("button", name="Confirm").click()
    expect(mentor_page.get_by_role("status")).to_contain_text("Confirmed")
    with time_machine.travel(booking.end + timedelta(minutes=5), tick=True):
        mentor_page.reload()
        to_complete = mentor_page.get_by_role("region", name=re.compile("To mark complete"))
        to_complete.get_by_role("button", name="Complete").click()
        expect(mentor_page.get_by_role("status")).to_contain_text("Marked complete")
        open_menu(mentor_page)
        mentor_page.get_by_role("link", name="Earnings").click()
        expect(mentor_page.get_by_test_id("balance")).to_have_text("$0.00")
        expect(mentor_page.get_by_test_id("total-earnings")).to_have_text("$0.00")
        shot(mentor_page, f"{size}-6-earnings")
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_mentor_offers_a_free_intro_call_once_per_mentee(new_page, size):
    mentor = bookable_mentor(user__display_name="Maya Mentor", user__time_zone="America/New_York")
    page = new_page("America/New_York")
    page.set_viewport_size(SIZES[size])
    log_in(page, mentor.user.email)
    page.goto("/mentor/services/new/")
    expect(page.get_by_text("0 makes it free: mentees book it without a card")).to_be_visible()
    page.get_by_label("Title").fill("Free intro call")
    page.get_by_label("Duration (minutes)").fill("20")
    page.get_by_label("Price (USD)").fill("0.50")
    page.get_by_label("Free sessions per mentee").fill("1")
    page.get_by_role("button", name="Save session type").click()
    expect(page.get_by_text("A price is either 0 (free) or at least $1.00.")).to_be_visible()
    expect(page.get_by_text("Only a free session type can have a limit")).to_have_count(0)  # one error is enough
    page.get_by_label("Price (USD)").fill("0")
    assert_no_sideways_scroll(page)
    shot(page, f"{size}-7-mentor-session-type")
    page.get_by_role("button", name="Save session type").click()
    expect(page.get_by_role("status")).to_contain_text("“Free intro call” is saved.")
    row = page.get_by_role("row", name=re.compile("Free intro call"))
    expect(row).to_contain_text("Free")
    assert_no_sideways_scroll(page)
    shot(page, f"{size}-8-mentor-session-types")
    service = Service.objects.get(title="Free intro call")
    assert (service.price_cents, service.free_sessions_per_mentee) == (0, 1)
