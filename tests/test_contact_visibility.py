"""Contact details by booking status: the mentee sees the mentor's e-mail address only once the mentor confirmed,
the mentor sees the mentee's only once the mentee paid; on pages, in e-mails and in calendar files alike."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bookings import selectors
from bookings import services as booking_services
from bookings.models import Booking
from notifications import calendar
from notifications import services as notification_services

from .factories import UserFactory, bookable_mentor
from .test_payments import pay

pytestmark = [pytest.mark.django_db(transaction=True)]

MENTOR_EMAIL = "maya.mentor@example.com"
MENTEE_EMAIL = "mia.mentee@example.com"

# status -> (the mentee sees the mentor's address, the mentor sees the mentee's address)
RULES = {
    "held": (False, False),
    "abandoned": (False, False),
    "pending": (False, True),
    "confirmed": (True, True),
    "completed": (True, True),
    "declined": (False, False),
    "expired": (False, False),
    "cancelled": (False, False),
    "no_show": (False, False),
}


def test_the_table_covers_every_status():
    assert set(RULES) == set(Booking.Status.values)


def unfold(ics: str) -> str:
    """Calendar files wrap long lines at 75 characters (RFC 5545); join them to search them."""
    return ics.replace("\r\n ", "")


@pytest.fixture
def held():
    mentor = bookable_mentor(user__email=MENTOR_EMAIL)
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(intro, start=now + timedelta(days=3), end=now + timedelta(days=6))[0]
    return booking_services.booking_hold(mentee=UserFactory(email=MENTEE_EMAIL), service=intro, start=start)


def seen(client, booking) -> tuple[bool, bool]:
    """(the mentee sees the mentor's address, the mentor sees the mentee's) on the booking page, in the booking's
    .ics and in each one's calendar feed."""
    views = []
    for viewer, other_email in ((booking.mentee, MENTOR_EMAIL), (booking.mentor.user, MENTEE_EMAIL)):
        client.force_login(viewer)
        page = client.get(reverse("booking_detail", args=[booking.pk])).content.decode()
        ics = unfold(client.get(reverse("booking_ics", args=[booking.pk])).content.decode())
        feed = client.get(
            reverse("calendar_feed", args=[notification_services.calendar_feed_token(viewer)])
        ).content.decode()
        found = [other_email in page, other_email in ics, other_email in unfold(feed)]
        if booking.status in ("held", "abandoned"):
            found.pop()  # not in the feed at all, so not shown there either
        assert len(set(found)) == 1, f"{viewer} sees it in some places and not in others: {found}"
        views.append(found[0])
    return tuple(views)


@pytest.mark.parametrize("status", RULES)
def test_contact_by_status_on_the_page_and_in_calendar_files(client, held, status):
    Booking.objects.filter(pk=held.pk).update(status=status)
    held.refresh_from_db()
    assert seen(client, held) == RULES[status]
    # Each side's own address stays in its own calendar file.
    assert MENTEE_EMAIL in unfold(calendar.booking_ics(held, for_mentor=False).decode())
    assert MENTOR_EMAIL in unfold(calendar.booking_ics(held, for_mentor=True).decode())


def _mail_to(address) -> str:
    """Everything e-mailed to `address` so far: subjects, bodies, HTML and attached invites."""
    parts = []
    for message in mail.outbox:
        if message.to == [address]:
            parts += [message.subject, message.body, *(html for html, _ in message.alternatives)]
            parts += [
                content.decode() if isinstance(content, bytes) else content for _, content, _ in message.attachments
            ]
    return unfold("\n".join(parts))


@pytest.mark.stripe
def test_through_the_real_steps_from_hold_to_completed(client, held, stripe_server):
    assert seen(client, held) == (False, False)
    pay(stripe_server, held)
    held.refresh_from_db()
    assert seen(client, held) == (False, True)
    assert MENTOR_EMAIL not in _mail_to(MENTEE_EMAIL)  # "payment received" says nothing of the address
    booking_services.booking_confirm(held.pk, actor=held.mentor.user)
    held.refresh_from_db()
    assert seen(client, held) == (True, True)
    assert f"Mentor contact: {MENTOR_EMAIL}" in _mail_to(MENTEE_EMAIL)
    assert f"Mentee contact: {MENTEE_EMAIL}" in _mail_to(MENTOR_EMAIL)
    with time_machine.travel(held.end + timedelta(minutes=5)):
        booking_services.booking_complete(held.pk, actor=held.mentor.user)
    held.refresh_from_db()
    assert held.status == "completed" and seen(client, held) == (True, True)


@pytest.mark.stripe
def test_a_request_cancelled_before_the_mentor_confirmed_never_shows_the_mentors_address(client, held, stripe_server):
    pay(stripe_server, held)
    booking_services.booking_cancel(held.pk, actor=held.mentee)
    held.refresh_from_db()
    assert held.status == "cancelled" and seen(client, held) == (False, False)
    mentee_mail = _mail_to(MENTEE_EMAIL)
    assert "BEGIN:VCALENDAR" in mentee_mail  # the cancellation carries an invite: without the mentor's address
    assert MENTOR_EMAIL not in mentee_mail


@pytest.mark.stripe
def test_a_declined_request_never_shows_the_mentors_address(client, held, stripe_server):
    pay(stripe_server, held)
    booking_services.booking_decline(held.pk, actor=held.mentor.user, reason="Away that week")
    held.refresh_from_db()
    assert held.status == "declined" and seen(client, held) == (False, False)
    assert MENTOR_EMAIL not in _mail_to(MENTEE_EMAIL)


def test_a_mentee_holding_a_slot_is_told_when_the_address_will_show(client, held):
    client.force_login(held.mentee)
    page = client.get(reverse("booking_detail", args=[held.pk])).content.decode()
    assert "their e-mail address shows here once they confirm" in page and MENTOR_EMAIL not in page
