"""The session page leads with what is happening and what this person does next: each status, each side.

Each side sees only what is meant for it: the mentor never reads the mentee's "Mentor didn't come?", the
mentee never gets the mentor's Confirm or Complete. Refunds read with their amount and card; the policy
card goes once nothing in it can apply any more.
"""

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from bookings import selectors, services
from bookings.models import SupportTicket

from .factories import UserFactory, bookable_mentor
from .test_lifecycle import booked

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]

MEETING = "https://meet.example.com/abc-defg-hij"


@pytest.fixture
def mentor():
    return bookable_mentor(user__display_name="Ada Mentor")


def _booking(mentor, stripe_server, *, days_ahead=3, confirm=False):
    """A paid session for Sam Mentee; confirmed ones get a meeting link."""
    mentee = UserFactory(display_name="Sam Mentee")
    booking = booked(mentor, stripe_server, days_ahead=days_ahead, confirm=confirm, mentee=mentee)
    if confirm:
        services.booking_set_links(booking.pk, actor=mentor.user, meeting_link=MEETING, availability_link="")
        booking.refresh_from_db()
    return booking


def _page(client, user, booking) -> str:
    client.force_login(user)
    response = client.get(reverse("booking_detail", args=[booking.pk]))
    assert response.status_code == 200
    return unescape(response.content.decode())


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _banner(html: str) -> str:
    (section,) = re.findall(r'<section class="session-banner.*?</section>', html, re.S)
    return _text(section)


def _both(client, booking):
    """(mentee's page, mentor's page)."""
    return _page(client, booking.mentee, booking), _page(client, booking.mentor.user, booking)


def _buttons(html: str) -> list[str]:
    """The visible labels of every link-button and button on the page."""
    found = re.findall(r'<a class="button[^"]*"[^>]*>(.*?)</a>|<button[^>]*>(.*?)</button>', html, re.S)
    return [_text(a or b) for a, b in found]


MENTEE_ONLY = ["Mentor didn't come?", "Report mentor no-show", "Leave a review", "you can cancel at any time"]
MENTOR_ONLY = ["Confirm or decline by", "Report mentee no-show", "Save links", "Give a refund", "Your reason"]


def _assert_each_side_its_own(mentee_page: str, mentor_page: str) -> None:
    for phrase in MENTEE_ONLY:
        assert phrase not in mentor_page, phrase
    for phrase in MENTOR_ONLY:
        assert phrase not in mentee_page, phrase
    assert "Complete" not in _buttons(mentee_page) and "Confirm" not in _buttons(mentee_page)
    assert "Cancel" not in _buttons(mentor_page)  # the mentor's is "Cancel session"


def test_pending_the_mentee_waits_and_may_cancel_the_mentor_confirms_or_declines(client, mentor, stripe_server):
    booking = _booking(mentor, stripe_server)
    mentee_page, mentor_page = _both(client, booking)
    banner = _banner(mentee_page)
    assert banner.startswith("Waiting for Ada Mentor to confirm")
    assert "You'll get an e-mail as soon as they answer." in banner
    assert "You can cancel for a full refund until " in banner and "you get a full refund automatically" in banner
    assert {"Cancel", "Reschedule"} <= set(_buttons(mentee_page))
    assert {"Google Calendar", "Outlook", "Apple Calendar (.ics)"} <= set(_buttons(mentee_page))
    assert 'id="policy-h"' in mentee_page and "you can cancel at any time" in mentee_page

    banner = _banner(mentor_page)
    assert banner.startswith("Confirm or decline by ")
    assert "Sam Mentee has paid and is waiting for your answer." in banner
    assert {"Confirm", "Decline"} <= set(_buttons(mentor_page))
    assert "Sam Mentee can cancel more than 24 hours before the start" in mentor_page
    assert "Sam Mentee didn't come? Wait 10 minutes" in mentor_page
    _assert_each_side_its_own(mentee_page, mentor_page)


def test_confirmed_it_says_when_and_join_opens_ten_minutes_before(client, mentor, stripe_server):
    booking = _booking(mentor, stripe_server, confirm=True)
    mentee_page, mentor_page = _both(client, booking)
    for page in (mentee_page, mentor_page):
        banner = _banner(page)
        assert re.match(r"Confirmed: starts \w{3} \d+ \w{3}, \d\d:\d\d \(in [23] days\)", banner), banner
        assert "The Join button appears here 10 minutes before the start" in banner
        assert "Join" not in _buttons(page)
        assert "Open meeting link" in _buttons(page) and f">{MEETING}</a>" not in page  # a button, not a bare URL
        assert {"Google Calendar", "Outlook", "Apple Calendar (.ics)"} <= set(_buttons(page))
        assert 'id="policy-h"' in page
    assert "You can cancel for a full refund until " in _banner(mentee_page)
    assert "Cancel session" in _buttons(mentor_page) and "Save links" in mentor_page
    _assert_each_side_its_own(mentee_page, mentor_page)

    with time_machine.travel(booking.start - timedelta(minutes=5)):
        mentee_page, mentor_page = _both(client, booking)
    for page in (mentee_page, mentor_page):
        assert _banner(page).startswith("Starts at ") and "(in 5 minutes)" in _banner(page)
        assert re.search(rf'<a class="button primary join" href="{re.escape(MEETING)}"[^>]*>Join</a>', page)
    _assert_each_side_its_own(mentee_page, mentor_page)

    with time_machine.travel(booking.start + timedelta(minutes=12)):
        mentee_page, mentor_page = _both(client, booking)
    assert "Ada Mentor didn't come? Report a no-show below" in _banner(mentee_page)
    assert "Report mentor no-show" in mentee_page
    assert "Sam Mentee didn't come? Report it below." in _banner(mentor_page)
    assert "Report mentee no-show" in mentor_page
    assert "Join" in _buttons(mentee_page) and "Join" in _buttons(mentor_page)
    _assert_each_side_its_own(mentee_page, mentor_page)


def test_after_the_end_the_mentor_completes_and_the_mentee_is_told_what_comes(client, mentor, stripe_server):
    booking = _booking(mentor, stripe_server, confirm=True)
    with time_machine.travel(booking.end + timedelta(minutes=5)):
        mentee_page, mentor_page = _both(client, booking)
    assert _banner(mentor_page).startswith("Session over: mark it Complete")
    assert "Complete" in _buttons(mentor_page)
    assert _banner(mentee_page).startswith("Session over Ada Mentor marks it complete")
    assert "Join" not in _buttons(mentee_page)
    for page in (mentee_page, mentor_page):
        assert 'id="policy-h"' not in page and "calendar-links-h" not in page
    _assert_each_side_its_own(mentee_page, mentor_page)


def test_completed_asks_the_mentee_for_a_review_and_drops_the_policy(client, mentor, stripe_server):
    booking = _booking(mentor, stripe_server, confirm=True)
    services.booking_complete(booking.pk, actor=mentor.user, now=booking.end)
    mentee_page, mentor_page = _both(client, booking)
    assert _banner(mentee_page).startswith("Completed How was it?")
    assert "Leave a review" in _buttons(mentee_page)
    assert _banner(mentor_page).startswith("Completed Your share is added to your balance in Earnings.")
    assert "Sam Mentee hasn't reviewed it yet." in _banner(mentor_page)
    for page in (mentee_page, mentor_page):
        assert 'id="policy-h"' not in page and "calendar-links-h" not in page and "Cancel" not in _buttons(page)
    _assert_each_side_its_own(mentee_page, mentor_page)


def test_declined_shows_the_mentors_reason_and_the_refund_to_the_card(client, mentor, stripe_server):
    booking = _booking(mentor, stripe_server)
    services.booking_decline(booking.pk, actor=mentor.user, reason="I'm away at a conference that week.")
    mentee_page, mentor_page = _both(client, booking)
    banner = _banner(mentee_page)
    assert banner.startswith("Ada Mentor declined this request")
    assert "Ada Mentor's reason: I'm away at a conference that week." in banner
    assert "Refunded $40.00 to Visa card ending 4242 on " in banner
    assert "Book another time with Ada Mentor" in _buttons(mentee_page)
    banner = _banner(mentor_page)
    assert banner.startswith("You declined this request Sam Mentee gets a full refund automatically.")
    assert "Your reason, shown to Sam Mentee: I'm away at a conference that week." in banner
    assert "Refunded $40.00 to Sam Mentee" in banner and "ending 4242" not in mentor_page
    for page in (mentee_page, mentor_page):
        assert 'id="policy-h"' not in page and "calendar-links-h" not in page
        assert not {"Cancel", "Cancel session", "Reschedule", "Join"} & set(_buttons(page))
    _assert_each_side_its_own(mentee_page, mentor_page)


def test_expired_says_the_mentor_did_not_answer_and_refunds(client, mentor, stripe_server):
    booking = _booking(mentor, stripe_server)
    services.expire_pending_bookings(now=booking.start + timedelta(minutes=1))
    mentee_page, mentor_page = _both(client, booking)
    assert _banner(mentee_page).startswith("This request expired Ada Mentor didn't answer by ")
    assert "Refunded $40.00 to Visa card ending 4242" in _banner(mentee_page)
    assert "You didn't answer by " in _banner(mentor_page) and "Sam Mentee gets a full refund" in _banner(mentor_page)
    for page in (mentee_page, mentor_page):
        assert 'id="policy-h"' not in page and "calendar-links-h" not in page
    _assert_each_side_its_own(mentee_page, mentor_page)


def test_cancelled_in_time_by_the_mentee_says_who_and_the_refund(client, mentor, stripe_server):
    booking = _booking(mentor, stripe_server, confirm=True)
    services.booking_cancel(booking.pk, actor=booking.mentee)
    mentee_page, mentor_page = _both(client, booking)
    banner = _banner(mentee_page)
    assert banner.startswith("You cancelled this session") and "full refund of $40.00" in banner
    assert "Refunded $40.00 to Visa card ending 4242" in banner
    assert _banner(mentor_page).startswith("Sam Mentee cancelled this session They cancelled in time")
    for page in (mentee_page, mentor_page):
        assert 'id="policy-h"' not in page and "calendar-links-h" not in page and "Join" not in _buttons(page)
        assert "Open meeting link" not in _buttons(page)  # nowhere to go any more
    _assert_each_side_its_own(mentee_page, mentor_page)


def test_a_late_cancellation_refunds_nothing_and_the_mentor_may_give_some_back(client, mentor, stripe_server):
    booking = _booking(mentor, stripe_server, confirm=True)
    services.booking_cancel(booking.pk, actor=booking.mentee, now=booking.start - timedelta(hours=2))
    mentee_page, mentor_page = _both(client, booking)
    assert "no automatic refund" in _banner(mentee_page) and "Refunded" not in mentee_page
    assert "inside the cancellation window" in _banner(mentor_page) and "Give a refund" in mentor_page
    client.force_login(booking.mentee)
    rows = unescape(client.get(reverse("my_bookings")).content.decode())
    assert "Receipt" in rows and "Refunded" not in rows


def test_cancelled_by_the_mentor_apologises_refunds_and_offers_another_time(client, mentor, stripe_server):
    booking = _booking(mentor, stripe_server, confirm=True)
    services.booking_cancel(booking.pk, actor=mentor.user)
    mentee_page, mentor_page = _both(client, booking)
    assert _banner(mentee_page).startswith(
        "Ada Mentor had to cancel: pick a new time or get a full refund We're sorry. Pick a new time without paying "
        "again, or get a full refund. If you don't choose by"
    )
    assert {"Pick a new time", "Get a full refund"} <= set(_buttons(mentee_page))
    assert _banner(mentor_page).startswith(
        "You cancelled this session Sam Mentee can pick another of your free times until"
    )
    assert "Pick a new time" not in _buttons(mentor_page)
    _assert_each_side_its_own(mentee_page, mentor_page)

    services.booking_take_refund(booking.pk, actor=booking.mentee)
    mentee_page, mentor_page = _both(client, booking)
    assert _banner(mentee_page).startswith("Ada Mentor cancelled this session We're sorry.")
    assert "Refunded $40.00 to Visa card ending 4242" in _banner(mentee_page)
    assert "Book another time with Ada Mentor" in _buttons(mentee_page)
    assert _banner(mentor_page).startswith("You cancelled this session Sam Mentee gets a full refund.")
    assert "Book another time with Ada Mentor" not in mentor_page
    _assert_each_side_its_own(mentee_page, mentor_page)


def test_a_mentor_no_show_is_refunded_and_said_so_to_each_side(client, mentor, stripe_server):
    booking = _booking(mentor, stripe_server, confirm=True)
    with time_machine.travel(booking.start + timedelta(minutes=15)):
        ticket = services.no_show_report(booking.pk, actor=booking.mentee, note="Nobody came")
        mentee_page, mentor_page = _both(client, booking)
        assert _banner(mentee_page).startswith("No-show reported Ticket #")
        assert "Report mentor no-show" not in mentee_page and "Report mentee no-show" not in mentor_page
    services.ticket_resolve(
        ticket.pk, staff=UserFactory(is_staff=True), resolution=SupportTicket.Resolution.MENTOR_NO_SHOW_REFUND
    )
    mentee_page, mentor_page = _both(client, booking)
    assert _banner(mentee_page).startswith("Mentor no-show Our support team confirmed that Ada Mentor didn't come.")
    assert "Refunded $40.00 to Visa card ending 4242" in _banner(mentee_page)
    assert _banner(mentor_page).startswith("Marked as a mentor no-show")
    for page in (mentee_page, mentor_page):
        assert 'id="policy-h"' not in page
    _assert_each_side_its_own(mentee_page, mentor_page)


def test_held_the_mentee_continues_to_checkout_and_the_mentor_waits(client, mentor):
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(intro, start=now + timedelta(days=2), end=now + timedelta(days=4))[0]
    booking = services.booking_hold(mentee=UserFactory(display_name="Sam Mentee"), service=intro, start=start)
    mentee_page, mentor_page = _both(client, booking)
    assert _banner(mentee_page).startswith("Checkout not finished This time is held for you until ")
    assert "Continue to checkout" in _buttons(mentee_page)
    assert _banner(mentor_page).startswith("Not booked yet Sam Mentee is still at checkout.")
    assert "Continue to checkout" not in mentor_page
    _assert_each_side_its_own(mentee_page, mentor_page)


def test_my_bookings_shows_what_was_refunded_beside_the_receipt(client, mentor, stripe_server):
    booking = _booking(mentor, stripe_server)
    services.booking_decline(booking.pk, actor=mentor.user)
    client.force_login(booking.mentee)
    page = _text(unescape(client.get(reverse("my_bookings")).content.decode()))
    assert "Receipt · Refunded $40.00" in page


def test_long_links_are_buttons_and_the_availability_link_too(client, mentor, stripe_server):
    booking = _booking(mentor, stripe_server, confirm=True)
    long_link = "https://calendar.example.com/appointments/schedules/" + "A" * 300
    services.booking_set_links(booking.pk, actor=mentor.user, meeting_link=MEETING, availability_link=long_link)
    mentee_page = _page(client, booking.mentee, booking)
    assert "Open availability link" in _buttons(mentee_page)
    assert f'<span class="link-url">{long_link}</span>' in mentee_page  # readable and copyable, wrapped by CSS


def test_staff_see_what_happened_and_none_of_the_parties_actions(client, mentor, stripe_server):
    booking = _booking(mentor, stripe_server, confirm=True)
    client.force_login(UserFactory(is_staff=True))
    page = client.get(reverse("booking_detail", args=[booking.pk])).content.decode()
    assert "You're looking at this booking as staff." in page
    assert reverse("admin:bookings_booking_change", args=[booking.pk]) in page
    for party_text in (
        ">Cancel<",
        "Reschedule",
        "Continue to checkout",
        ">Confirm<",
        "held for you",
        "Mentor didn't come",
    ):
        assert party_text not in page
