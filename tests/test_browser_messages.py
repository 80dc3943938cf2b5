"""Messages in Chromium: a mentee writes from a profile, the mentor reads and answers; a card number is refused."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from notifications.models import Message

from .factories import UserFactory, bookable_mentor
from .test_browser_flow import log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def write_to_maya(new_page):
    """A mentee opens Maya's profile and chooses "Message Maya Mentor"."""
    mentor = bookable_mentor(user__display_name="Maya Mentor")
    mentee = UserFactory(display_name="Sam Mentee")
    page = new_page("Europe/London")
    log_in(page, mentee.email)
    page.goto(f"/mentors/{mentor.pk}/")
    page.get_by_role("link", name="Message Maya Mentor").click()
    expect(page.get_by_role("heading", name="Messages with Maya Mentor")).to_be_visible()
    return mentor, page


def test_a_message_is_sent_read_and_answered(new_page):
    mentor, mentee_page = write_to_maya(new_page)
    mentee_page.get_by_role("textbox", name="Message").fill(
        "Hi Maya! Could we talk about moving into staff engineering?"
    )
    mentee_page.get_by_role("button", name="Send").click()
    expect(mentee_page.get_by_text("Message sent.")).to_be_visible()
    assert [m.to for m in mail.outbox] == [[mentor.user.email]]

    mentor_page = new_page("America/New_York")
    log_in(mentor_page, mentor.user.email)
    mentor_page.get_by_role("link", name="Messages, 1 unread").click()
    mentor_page.get_by_role("link", name="Sam Mentee").click()
    expect(mentor_page.get_by_text("moving into staff engineering?")).to_be_visible()
    expect(mentor_page.get_by_role("link", name="Messages, 0 unread")).to_be_visible()  # read now
    mentor_page.get_by_role("textbox", name="Message").fill("Happy to. Book the 30-min intro and bring your questions.")
    mentor_page.get_by_role("button", name="Send").click()
    shot(mentor_page, "20-conversation")

    mentee_page.goto("/")
    expect(mentee_page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()
    mentee_page.get_by_role("link", name="Messages, 1 unread").click()
    expect(mentee_page.get_by_text("Maya Mentor", exact=True)).to_be_visible()
    mentee_page.get_by_role("link", name="Maya Mentor").click()
    expect(mentee_page.get_by_text("Book the 30-min intro and bring your questions.")).to_be_visible()
    # Reading the conversation also clears its notice in the bell.
    expect(mentee_page.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()


def test_a_card_number_in_a_message_is_refused_and_kept_for_editing(new_page):
    _, page = write_to_maya(new_page)
    page.get_by_role("textbox", name="Message").fill("Can you charge my card directly? 4242 4242 4242 4242, exp 12/30")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("looks like it contains a card number")
    expect(page.get_by_role("textbox", name="Message")).to_have_value(
        "Can you charge my card directly? 4242 4242 4242 4242, exp 12/30"
    )
    shot(page, "21-card-number-refused")
    assert not Message.objects.exists() and not mail.outbox
    page.get_by_role("textbox", name="Message").fill("Can I pay for a package in one go?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Message sent.")).to_be_visible()
    assert Message.objects.count() == 1
