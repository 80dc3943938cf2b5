"""Schedules and slots in Chromium: the mentor's hours and days off, the mentee's zone, two mentees, expiry."""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import Booking

from .factories import MentorProfileFactory, ServiceFactory, UserFactory
from .test_browser_flow import log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KOLKATA, NEW_YORK, BERLIN = ZoneInfo("Asia/Kolkata"), ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")


def a_monday_ahead() -> datetime:
    """Midnight UTC of a Monday one to two weeks ahead: a fixed "now" for this test, always in the future."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=7 + (7 - today.weekday()) % 7 or 7)


def shown_zone(page):
    """The zone switch beside the calendar: the one place on the profile that says which zone it shows."""
    return page.locator("#tz-select option:checked")


def slots(page):
    """The times the calendar offers on the day it shows (drawn by its script, so read with expect, which waits)."""
    return page.locator(".slot")


def test_mentor_sets_hours_and_a_day_off_and_mentees_elsewhere_see_exactly_those_times(new_page):
    monday = a_monday_ahead()
    tuesday, wednesday = (monday + timedelta(days=1)).date(), (monday + timedelta(days=2)).date()
    mentor = MentorProfileFactory(user__display_name="Asha Iyer", user__time_zone="Asia/Kolkata")
    ServiceFactory(mentor=mentor, title="60-min deep dive", duration_minutes=60, price_cents=7500)
    first, second = UserFactory(time_zone="America/New_York"), UserFactory(time_zone="Europe/Berlin")

    with time_machine.travel(monday, tick=True):
        page = new_page("Asia/Kolkata")
        log_in(page, mentor.user.email)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Schedule").click()
        page.get_by_label("Tuesday:").fill("09:00-11:00")
        page.get_by_label("Wednesday:").fill("9-11")
        page.get_by_role("button", name="Save schedule").click()
        expect(page.get_by_role("status")).to_contain_text("Your schedule is saved (in Kolkata (IST, UTC+5:30))")
        expect(page.get_by_label("Wednesday:")).to_have_value("09:00–11:00")

        page.get_by_label("Date:").fill(wednesday.isoformat())
        page.get_by_role("button", name="Save date").click()
        expect(page.get_by_role("status")).to_contain_text(
            f"{wednesday:%A} {wednesday.day} {wednesday:%B} is now a day off"
        )
        expect(page.get_by_role("region", name="Days off and different hours")).to_contain_text("Day off")
        shot(page, "10-schedule-day-off")

        # Tuesday 09:00, 09:30, 10:00 in Kolkata, as the clock shows them in New York and Berlin.
        starts = [datetime.combine(tuesday, time(9), tzinfo=KOLKATA) + timedelta(minutes=30 * n) for n in range(3)]
        in_new_york = [s.astimezone(NEW_YORK).strftime("%H:%M") for s in starts]

        mentee = new_page("America/New_York")
        log_in(mentee, first.email)
        mentee.goto(f"/mentors/{mentor.pk}/")
        expect(shown_zone(mentee)).to_have_text(re.compile(r"^New York \(E[SD]T, UTC−[45]\), yours$"))
        expect(slots(mentee)).to_have_text(in_new_york)  # and nothing on the day off
        expect(mentee.get_by_role("heading", name=starts[0].astimezone(NEW_YORK).strftime("%A %-d %B"))).to_be_visible()

        mentee.get_by_label("Times are shown in").select_option("Asia/Kolkata")
        expect(shown_zone(mentee)).to_have_text("Asha Iyer's time zone, Kolkata (IST, UTC+5:30)")
        expect(slots(mentee)).to_have_text(["09:00", "09:30", "10:00"])
        mentee.get_by_label("Times are shown in").select_option("America/New_York")
        expect(shown_zone(mentee)).to_have_text(re.compile("^New York .*, yours$"))

        rival = new_page("Europe/Berlin")
        log_in(rival, second.email)
        rival.goto(f"/mentors/{mentor.pk}/")
        expect(slots(rival)).to_have_text([s.astimezone(BERLIN).strftime("%H:%M") for s in starts])

        mentee.get_by_text(in_new_york[0], exact=True).click()
        mentee.get_by_role("button", name="Book session").click()
        expect(mentee.get_by_role("heading", name="Checkout")).to_be_visible()

        # The rival's page still offers that time; booking it is refused with the clear message.
        rival.get_by_text(starts[0].astimezone(BERLIN).strftime("%H:%M"), exact=True).click()
        rival.get_by_role("button", name="Book session").click()
        expect(rival.get_by_role("alert")).to_have_text("This time was just taken — please pick another.")
        # The 60-minute session from 09:00 overlaps 09:30 too.
        expect(slots(rival)).to_have_text([s.astimezone(BERLIN).strftime("%H:%M") for s in starts[2:]])
        shot(rival, "11-slot-taken")
        assert Booking.objects.filter(status=Booking.Status.HELD).count() == 1

        # The mentee leaves checkout open too long: coming back, they are told and sent to the calendar.
        with time_machine.travel(monday + timedelta(minutes=16), tick=True):
            mentee.reload()
            expect(mentee.get_by_role("alert")).to_contain_text("Your hold on this time ran out")
            expect(mentee).to_have_url(re.compile(rf"/mentors/{mentor.pk}/"))
            expect(slots(mentee).filter(has_text=in_new_york[0])).to_have_count(1)


def test_a_visitor_who_is_not_logged_in_sees_their_browsers_zone(new_page):
    mentor = MentorProfileFactory(user__time_zone="Europe/Berlin")
    ServiceFactory(mentor=mentor)
    page = new_page("Asia/Tokyo")
    page.goto(f"/mentors/{mentor.pk}/")
    expect(shown_zone(page)).to_have_text("Tokyo (JST, UTC+9), yours")
    expect(page.get_by_role("contentinfo")).not_to_contain_text("Times are shown")  # said once, by the switch
