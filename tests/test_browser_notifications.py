"""The bell in Chromium: its count changes when the other party acts."""

import re

import pytest
from playwright.sync_api import expect

from .factories import UserFactory, bookable_mentor
from .test_browser_flow import book_and_pay, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_bell_counts_what_the_other_party_did(new_page, stripe_server):
    mentor = bookable_mentor(user__display_name="Maya Mentor")
    mentee = UserFactory(display_name="Sam Mentee", time_zone="Europe/London")
    mentor_page = new_page("America/New_York")
    log_in(mentor_page, mentor.user.email)
    expect(mentor_page.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()

    mentee_page = new_page("Europe/London")
    log_in(mentee_page, mentee.email)
    book_and_pay(mentee_page, mentor, message="Interview prep")
    mentor_page.reload()
    expect(mentor_page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()

    mentor_page.get_by_role("link", name="Notifications, 1 unread").click()
    mentor_page.get_by_role("button", name=re.compile("Open: New booking request from Sam Mentee")).click()
    expect(mentor_page.get_by_role("heading", name="30-min intro with Sam Mentee")).to_be_visible()
    expect(mentor_page.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()
    mentor_page.get_by_role("button", name="Confirm").click()

    mentee_page.reload()
    expect(mentee_page.get_by_role("link", name="Notifications, 2 unread")).to_be_visible()  # paid, then confirmed
    mentee_page.get_by_role("link", name="Notifications, 2 unread").click()
    expect(mentee_page.get_by_text("Maya Mentor confirmed your session")).to_be_visible()
    shot(mentee_page, "17-notifications")
    mentee_page.get_by_role("button", name="Mark all as read").click()
    expect(mentee_page.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()
