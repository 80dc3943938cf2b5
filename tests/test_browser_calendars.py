"""The mentor's own calendar in Chromium, at phone and desktop width: they connect its iCal address from their
schedule, see it read, and a meeting in it takes those times off their profile; a calendar that stops answering
is shown with the error while its busy time stays."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from tests.caldav_server import CalDAVServer
from tests.ics_server import Feed, FeedServer, calendar
from tests.viewports import assert_no_axe_violations

from .factories import MentorProfileFactory, ServiceFactory, UserFactory, weekly_hours
from .test_browser_flow import log_in, shot
from .test_browser_schedule import a_monday_ahead, slots

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BERLIN = ZoneInfo("Europe/Berlin")
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1200, "height": 900}}


@pytest.fixture
def feeds():
    server = FeedServer().start()
    yield server
    server.stop()


def open_from_menu(page, size: str, link: str) -> None:
    nav = page.get_by_role("navigation", name="Main")
    if size == "phone":
        nav.locator("summary", has_text="Menu").click()
    nav.get_by_role("link", name=link).click()


@pytest.mark.parametrize("size", SIZES)
def test_mentor_connects_a_calendar_and_its_meeting_leaves_their_profile(new_page, feeds, size):
    monday = a_monday_ahead()
    tuesday = (monday + timedelta(days=1)).date()
    mentor = MentorProfileFactory(user__display_name="Lena Vogel", user__time_zone="Europe/Berlin")
    weekly_hours(mentor, start=time(9), end=time(13), days=[1])  # Tuesdays 09:00–13:00 in Berlin
    ServiceFactory(mentor=mentor, title="60-min deep dive", duration_minutes=60, price_cents=7500)
    meeting_start = datetime.combine(tuesday, time(10), tzinfo=BERLIN).astimezone(UTC)
    feeds.feeds["/lena.ics"] = Feed(
        calendar(
            f"UID:board\nDTSTART:{meeting_start:%Y%m%dT%H%M%SZ}\n"
            f"DTEND:{meeting_start + timedelta(hours=1):%Y%m%dT%H%M%SZ}\nSUMMARY:Board meeting"
        )
    )
    mentee = UserFactory(time_zone="Europe/Berlin")

    with time_machine.travel(monday, tick=True):
        visitor = new_page("Europe/Berlin")
        visitor.set_viewport_size(SIZES[size])
        log_in(visitor, mentee.email)
        visitor.goto(f"/mentors/{mentor.pk}/")
        expect(slots(visitor)).to_have_text(["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00"])

        page = new_page("Europe/Berlin")
        page.set_viewport_size(SIZES[size])
        log_in(page, mentor.user.email)
        open_from_menu(page, size, "Schedule")
        page.get_by_role("region", name="Your other calendars").get_by_role("link", name="Connect a calendar").click()
        expect(page.get_by_role("heading", name="Calendars", exact=True)).to_be_visible()
        address = page.get_by_role("region", name="Connect a calendar address (iCal)")
        address.get_by_label("Name").fill("Work")
        address.get_by_label("Calendar address (iCal)").fill(feeds.url("/lena.ics"))
        address.get_by_role("button", name="Connect calendar").click()
        expect(page.get_by_role("status").first).to_contain_text("“Work” is connected.")
        connected = page.get_by_role("region", name="Connected calendars")
        expect(connected).to_contain_text("Work")
        expect(connected).to_contain_text("1 busy time ahead")
        expect(connected).not_to_contain_text("lena.ics")  # the address is a secret: only its host is shown
        assert_no_axe_violations(page)
        shot(page, f"calendars-connected-{size}")

        # The meeting 10:00–11:00 takes away the 60-minute starts at 09:30, 10:00 and 10:30.
        visitor.reload()
        expect(slots(visitor)).to_have_text(["09:00", "11:00", "11:30", "12:00"])

        # The calendar's server stops answering: the mentor is told, the meeting still counts.
        feeds.feeds["/lena.ics"] = Feed(status=500)
        with time_machine.travel(monday + timedelta(minutes=10), tick=True):
            open_from_menu(page, size, "Schedule")  # opening the schedule reads calendars again
            expect(page.get_by_role("region", name="Your other calendars")).to_contain_text("could not be read")
            page.get_by_role("region", name="Your other calendars").scroll_into_view_if_needed()
            page.screenshot(path=f"test-artifacts/screens/schedule-calendars-{size}.png")
            page.get_by_role("link", name="Manage calendars").click()
            expect(connected).to_contain_text("Could not be read: The calendar's server answered 500")
            expect(connected).to_contain_text("We keep using what we read")
            shot(page, f"calendars-failing-{size}")
            visitor.reload()
            expect(slots(visitor)).to_have_text(["09:00", "11:00", "11:30", "12:00"])

            page.get_by_role("button", name="Remove Work").click()
            expect(page.get_by_role("status").first).to_contain_text("Calendar removed")
            visitor.reload()
            expect(slots(visitor)).to_have_text(["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00"])


@pytest.mark.parametrize("size", SIZES)
def test_mentor_connects_a_caldav_account_and_picks_its_calendars(new_page, size):
    dav = CalDAVServer({"lena": "app-password-1234"}).start()
    try:
        dav.calendar("lena", "Work")
        dav.calendar("lena", "Family")
        mentor = MentorProfileFactory(user__display_name="Lena Vogel", user__time_zone="Europe/Berlin")
        page = new_page("Europe/Berlin")
        page.set_viewport_size(SIZES[size])
        log_in(page, mentor.user.email)
        page.goto("/settings/")
        page.get_by_role("link", name="Calendars").click()
        caldav = page.get_by_role("region", name="Connect a CalDAV account")
        caldav.get_by_label("Server address").fill(dav.url)
        caldav.get_by_label("User name").fill("lena")
        caldav.get_by_label("App password").fill("wrong")
        caldav.get_by_role("button", name="Find my calendars").click()
        expect(page.get_by_role("alert")).to_contain_text("refused that user name and password")
        caldav = page.get_by_role("region", name="Connect a CalDAV account")
        caldav.get_by_label("User name").fill("lena")
        caldav.get_by_label("App password").fill("app-password-1234")
        caldav.get_by_role("button", name="Find my calendars").click()

        expect(page.get_by_role("heading", name="Pick your calendars")).to_be_visible()
        page.get_by_role("checkbox", name="Work").check()
        page.get_by_role("checkbox", name="Family").check()
        page.get_by_label("Write my confirmed sessions to").select_option(label="Work")
        assert_no_axe_violations(page)
        shot(page, f"calendars-caldav-pick-{size}")
        page.get_by_role("button", name="Connect").click()

        expect(page.get_by_role("status").first).to_contain_text("Connected: ")
        connected = page.get_by_role("region", name="Connected calendars")
        expect(connected.get_by_role("listitem")).to_have_count(2)
        expect(connected.get_by_role("listitem").filter(has_text="Work")).to_contain_text(
            "Your confirmed sessions are written here."
        )
        expect(connected).not_to_contain_text("app-password")
        shot(page, f"calendars-caldav-connected-{size}")
    finally:
        dav.stop()
