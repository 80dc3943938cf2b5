"""In Chromium: accessibility needs reach the mentor with the request; after the session the mentee
reviews it, the mentor replies, and both show on the profile."""

import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from .factories import UserFactory, bookable_mentor
from .test_browser_flow import book_and_pay, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_needs_reach_the_mentor_and_a_review_with_the_reply_appears_on_the_profile(new_page, stripe_server):
    mentor = bookable_mentor(user__display_name="Maya Mentor", user__time_zone="America/New_York")
    mentee = UserFactory(display_name="Sam Mentee", time_zone="Europe/London")
    mentee_page = new_page("Europe/London")
    log_in(mentee_page, mentee.email)
    booking = book_and_pay(mentee_page, mentor, message="Career change", needs="Live captions, please")

    mentor_page = new_page("America/New_York")
    log_in(mentor_page, mentor.user.email)
    mentor_page.get_by_role("link", name="Bookings", exact=True).click()
    pending = mentor_page.get_by_role("region", name=re.compile("Pending"))
    expect(pending).to_contain_text("Accessibility needs: Live captions, please")
    pending.get_by_role("button", name="Confirm").click()
    expect(mentor_page.get_by_role("status")).to_contain_text("Confirmed")

    with time_machine.travel(booking.end + timedelta(minutes=5), tick=True):
        mentor_page.reload()
        mentor_page.get_by_role("region", name=re.compile("To mark complete")).get_by_role(
            "button", name="Complete"
        ).click()
        expect(mentor_page.get_by_role("status")).to_contain_text("Marked complete")

        mentee_page.goto(f"/bookings/{booking.pk}/")
        mentee_page.get_by_role("link", name="Leave a review").click()
        mentee_page.get_by_label("5 stars: excellent").check()
        mentee_page.get_by_label("Your review").fill("Maya turned my vague plan into three concrete steps.")
        shot(mentee_page, "22-review-form")
        mentee_page.get_by_role("button", name="Post review").click()
        expect(mentee_page.get_by_role("status")).to_contain_text("Thank you! Your review is on the mentor's profile.")

        mentor_page.goto(f"/bookings/{booking.pk}/")
        expect(mentor_page.get_by_text("three concrete steps")).to_be_visible()
        mentor_page.get_by_label("Your public reply").fill("Thank you, Sam. Good luck with step one!")
        mentor_page.get_by_role("button", name="Reply").click()
        expect(mentor_page.get_by_role("status")).to_contain_text("Your reply is on your profile")

        mentee_page.goto(f"/mentors/{mentor.pk}/")
        review = mentee_page.get_by_role("article").filter(has_text="Sam Mentee")
        expect(review.get_by_label("5 out of 5 stars")).to_be_visible()
        expect(review).to_contain_text("three concrete steps")
        expect(review).to_contain_text("Reply from Maya Mentor")
        expect(review).to_contain_text("Good luck with step one!")
        expect(mentee_page.get_by_role("link", name="1 review")).to_be_visible()
        shot(mentee_page, "23-profile-with-review")
