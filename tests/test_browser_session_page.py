"""The session page in Chromium, at phone and desktop width, for the mentee and for the mentor: the banner says
what is happening, Join is the button when it opens, add-to-calendar is three buttons, long links wrap, and
axe-core finds nothing. Screenshots go to /tmp/shots-session/."""

import os
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from bookings import services

from .factories import bookable_mentor
from .test_browser_flow import log_in
from .test_lifecycle import booked
from .viewports import SIZES, assert_no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.stripe]

SHOTS = "/tmp/shots-session"
LONG_MEETING = "https://meet.example.com/j/81234567890?pwd=" + "Zx9" * 60 + "&uname=Mentorship-session"
LONG_AVAILABILITY = "https://calendar.google.com/calendar/appointments/schedules/" + "AcZssZ1" * 40


def shot(page, name: str) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def assert_no_axe_violations_but_the_test_banner(page) -> None:
    """axe-core as in viewports.assert_no_axe_violations, leaving out the test-mode banner's missing landmark
    (the site shell's part, fixed there)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = [
        v
        for v in Axe().run(page).response["violations"]
        if not (v["id"] == "region" and all(n["target"] == [".test-banner"] for n in v["nodes"]))
    ]
    lines = [f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:3]}" for v in violations]
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(lines)


def open_session(new_page, user, booking, size: str):
    page = new_page("Europe/London")
    log_in(page, user.email)
    page.set_viewport_size(SIZES[size])
    page.goto(f"/bookings/{booking.pk}/")
    return page


def check_page(page) -> None:
    assert_no_sideways_scroll(page)
    assert_no_axe_violations_but_the_test_banner(page)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", ["mentee", "mentor"])
def test_a_confirmed_session_leads_with_join_and_calendar_buttons(new_page, stripe_server, role, size):
    mentor = bookable_mentor(user__display_name="Ada Mentor")
    booking = booked(mentor, stripe_server)
    services.booking_set_links(
        booking.pk, actor=mentor.user, meeting_link=LONG_MEETING, availability_link=LONG_AVAILABILITY
    )
    user = mentor.user if role == "mentor" else booking.mentee

    page = open_session(new_page, user, booking, size)
    expect(page.get_by_role("region", name="Confirmed: starts")).to_be_visible()
    expect(page.get_by_text("The Join button appears here 10 minutes before the start")).to_be_visible()
    expect(page.get_by_role("link", name="Join", exact=True)).to_have_count(0)
    calendar = page.get_by_role("group", name="Add to calendar")
    for label in ("Google Calendar", "Outlook", "Apple Calendar (.ics)"):
        expect(calendar.get_by_role("link", name=label)).to_be_visible()
    expect(page.get_by_role("link", name="Open meeting link")).to_have_attribute("href", LONG_MEETING)
    expect(page.get_by_role("link", name="Open availability link")).to_be_visible()
    check_page(page)
    shot(page, f"confirmed-{role}-{size}")

    with time_machine.travel(booking.start - timedelta(minutes=5), tick=True):
        page.reload()
        banner = page.get_by_role("region", name="Starts at")
        expect(banner).to_be_visible()
        join = banner.get_by_role("link", name="Join", exact=True)
        expect(join).to_be_visible()
        expect(join).to_have_attribute("href", LONG_MEETING)
        check_page(page)
        shot(page, f"join-open-{role}-{size}")

    with time_machine.travel(booking.start + timedelta(minutes=15), tick=True):
        page.reload()
        if role == "mentee":
            expect(page.get_by_text("Ada Mentor didn't come? Report a no-show below")).to_be_visible()
        else:
            expect(page.get_by_text("didn't come? Report it below.")).to_be_visible()
            expect(page.get_by_text("Mentor didn't come?")).to_have_count(0)
        check_page(page)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", ["mentee", "mentor"])
def test_a_request_and_its_decline_read_right_for_each_side(new_page, stripe_server, role, size):
    mentor = bookable_mentor(user__display_name="Ada Mentor")
    booking = booked(mentor, stripe_server, confirm=False)
    user = mentor.user if role == "mentor" else booking.mentee

    page = open_session(new_page, user, booking, size)
    if role == "mentor":
        banner = page.get_by_role("region", name="Confirm or decline by")
        expect(banner.get_by_role("button", name="Confirm")).to_be_visible()
    else:
        banner = page.get_by_role("region", name="Waiting for Ada Mentor to confirm")
        expect(banner).to_contain_text("You can cancel for a full refund until")
        expect(page.get_by_role("button", name="Confirm")).to_have_count(0)
    expect(banner).to_be_visible()
    expect(page.get_by_role("heading", name="Policy")).to_be_visible()
    check_page(page)
    shot(page, f"pending-{role}-{size}")

    services.booking_decline(booking.pk, actor=mentor.user, reason="I'm away at a conference that week, sorry!")
    page.reload()
    title = "You declined this request" if role == "mentor" else "Ada Mentor declined this request"
    banner = page.get_by_role("region", name=title)
    expect(banner).to_contain_text("I'm away at a conference that week, sorry!")
    if role == "mentee":
        expect(banner).to_contain_text("Refunded $40.00 to Visa card ending 4242")
        expect(banner.get_by_role("link", name="Book another time with Ada Mentor")).to_be_visible()
    else:
        expect(banner).to_contain_text("Refunded $40.00 to")
    expect(page.get_by_role("heading", name="Policy")).to_have_count(0)
    expect(page.get_by_role("group", name="Add to calendar")).to_have_count(0)
    check_page(page)
    shot(page, f"declined-{role}-{size}")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", ["mentee", "mentor"])
def test_after_the_session_each_side_sees_its_next_step_and_no_policy(new_page, stripe_server, role, size):
    mentor = bookable_mentor(user__display_name="Ada Mentor")
    done = booked(mentor, stripe_server)
    services.booking_complete(done.pk, actor=mentor.user, now=done.end)
    called_off = booked(mentor, stripe_server, days_ahead=5)
    services.booking_cancel(called_off.pk, actor=mentor.user)
    services.booking_take_refund(called_off.pk, actor=called_off.mentee)  # rather than a new time
    user = mentor.user if role == "mentor" else done.mentee

    page = open_session(new_page, user, done, size)
    banner = page.get_by_role("region", name="Completed")
    expect(banner).to_be_visible()
    expect(banner.get_by_role("link", name="Leave a review")).to_have_count(1 if role == "mentee" else 0)
    expect(page.get_by_role("heading", name="Policy")).to_have_count(0)
    check_page(page)
    shot(page, f"completed-{role}-{size}")

    if role == "mentee":  # another mentee's session
        page = open_session(new_page, called_off.mentee, called_off, size)
    else:
        page.goto(f"/bookings/{called_off.pk}/")
    title = "You cancelled this session" if role == "mentor" else "Ada Mentor cancelled this session"
    banner = page.get_by_role("region", name=title)
    expect(banner).to_be_visible()
    if role == "mentee":
        expect(banner).to_contain_text("Refunded $40.00 to Visa card ending 4242")
        expect(banner.get_by_role("link", name="Book another time with Ada Mentor")).to_be_visible()
    expect(page.get_by_role("heading", name="Policy")).to_have_count(0)
    check_page(page)
    shot(page, f"cancelled-by-mentor-{role}-{size}")
