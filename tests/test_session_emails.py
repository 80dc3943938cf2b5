"""What each booking e-mail carries: one clear button, add-to-calendar links on the approval (UTC times,
encoded), the refund's amount and card, and the mentor's decline reason (also in the in-app notice)."""

import re
from datetime import UTC, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bookings import services
from notifications.models import Notification

from .factories import UserFactory, bookable_mentor
from .test_lifecycle import booked

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]


def _to(address: str, subject_part: str):
    (email,) = [m for m in mail.outbox if m.to == [address] and subject_part in m.subject]
    return email, email.alternatives[0][0]


def _buttons(html: str) -> list[tuple[str, str]]:
    """(label, address) of the primary button in an HTML e-mail."""
    return [
        (label, href.replace("&amp;", "&"))
        for href, label in re.findall(r'<a href="([^"]+)" class="primary-action"[^>]*>([^<]+)</a>', html)
    ]


def _link(html: str, label: str) -> str:
    (href,) = re.findall(rf'<a href="([^"]+)"[^>]*>{re.escape(label)}</a>', html)
    return href.replace("&amp;", "&")


def test_the_approval_carries_google_outlook_and_apple_calendar_links_in_utc(stripe_server):
    mentor = bookable_mentor(user__display_name="Ada Mentor")  # New York; the mentee is in London
    booking = booked(mentor, stripe_server)
    email, html = _to(booking.mentee.email, "confirmed your session")
    start, end = booking.start.astimezone(UTC), booking.end.astimezone(UTC)

    google = urlsplit(_link(html, "Google Calendar"))
    assert (google.scheme, google.netloc, google.path) == ("https", "calendar.google.com", "/calendar/render")
    query = parse_qs(google.query)
    assert query["action"] == ["TEMPLATE"]
    assert query["text"] == ["30-min intro with Ada Mentor"]
    assert query["dates"] == [f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"]
    assert query["location"] == [booking.meeting_link]
    assert f"Join: {booking.meeting_link}" in query["details"][0]
    assert "30-min+intro+with+Ada+Mentor" in google.query  # encoded, not raw spaces

    outlook = urlsplit(_link(html, "Outlook"))
    assert (outlook.netloc, outlook.path) == ("outlook.live.com", "/calendar/0/deeplink/compose")
    query = parse_qs(outlook.query)
    assert query["subject"] == ["30-min intro with Ada Mentor"]
    assert query["startdt"] == [start.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert query["enddt"] == [end.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert query["location"] == [booking.meeting_link] and "Session page: " in query["body"][0]

    apple = f"{settings.SITE_URL}{reverse('booking_ics', args=[booking.pk])}"
    assert _link(html, "Apple Calendar (.ics)") == apple
    assert any(name.endswith(".ics") for name, *_ in email.attachments)  # the invite is still attached
    # The plain-text part has the same three.
    assert f"Apple Calendar (.ics): {apple}" in email.body
    assert "Google Calendar: https://calendar.google.com/calendar/render?action=TEMPLATE" in email.body
    assert "Outlook: https://outlook.live.com/calendar/0/deeplink/compose?subject=" in email.body
    # One button: Join, straight to the meeting.
    assert _buttons(html) == [("Join", booking.meeting_link)]
    # The mentor's copy is titled with the mentee's name.
    _, mentor_html = _to(mentor.user.email, "You confirmed")
    assert parse_qs(urlsplit(_link(mentor_html, "Google Calendar")).query)["text"] == [
        f"30-min intro with {booking.mentee}"
    ]


def test_each_notice_has_one_button_for_what_to_do_next(stripe_server):
    mentor = bookable_mentor()
    booking = booked(mentor, stripe_server, confirm=False)
    page = f"{settings.SITE_URL}{reverse('booking_detail', args=[booking.pk])}"
    _, html = _to(mentor.user.email, "New booking request")
    assert _buttons(html) == [("Confirm or decline", page)]
    assert "Google Calendar" not in html  # nothing to add to a calendar until it is confirmed
    _, html = _to(booking.mentee.email, "waiting for")
    assert _buttons(html) == [("View request", page)]
    services.booking_confirm(booking.pk, actor=mentor.user)
    services.booking_complete(booking.pk, actor=mentor.user, now=booking.end)
    email, html = _to(booking.mentee.email, "Leave a review")
    review = f"{settings.SITE_URL}{reverse('booking_review', args=[booking.pk])}"
    assert _buttons(html) == [("Leave a review", review)]
    assert email.body.count(review) == 1  # the text part names the address once


def test_the_decline_reason_reaches_the_mentee_by_e_mail_and_in_the_app_with_the_refund(client, stripe_server):
    mentor = bookable_mentor(user__display_name="Ada Mentor")
    booking = booked(mentor, stripe_server, confirm=False)
    mail.outbox.clear()
    services.booking_decline(booking.pk, actor=mentor.user, reason="I'm away at a conference <that> week.")
    email, html = _to(booking.mentee.email, "declined")
    assert "Ada Mentor's reason: \"I'm away at a conference <that> week.\"" in email.body
    assert "I&#x27;m away at a conference &lt;that&gt; week." in html  # escaped in HTML
    assert "You get a full refund of $40.00 to your card ending 4242" in email.body
    assert "full refund of $40.00 to your card ending 4242" in html
    assert _buttons(html) == [("View booking", f"{settings.SITE_URL}{reverse('booking_detail', args=[booking.pk])}")]
    notice = Notification.objects.get(user=booking.mentee, kind="booking_declined")
    assert "I'm away at a conference <that> week." in notice.body
    client.force_login(booking.mentee)
    assert "I&#x27;m away at a conference &lt;that&gt; week." in client.get(reverse("notifications")).content.decode()


def test_cancellation_and_expiry_e_mails_state_the_amount_and_the_card(stripe_server):
    mentor = bookable_mentor(user__display_name="Ada Mentor")
    booking = booked(mentor, stripe_server)
    mail.outbox.clear()
    services.booking_cancel(booking.pk, actor=mentor.user)
    email, html = _to(booking.mentee.email, "had to cancel")
    rebook = f"{settings.SITE_URL}{reverse('booking_rebook', args=[booking.pk])}"
    assert f"Pick a new time with Ada Mentor, without paying again: {rebook}" in email.body
    assert "Or get a full refund of $40.00" in email.body and "the refund is made then" in email.body
    assert _buttons(html) == [("Pick a new time", rebook)]
    assert "Google Calendar" not in html  # a cancelled session is not added anywhere
    mentor_email, _ = _to(mentor.user.email, "You cancelled")
    assert f"{booking.mentee} can pick another of your free times until" in mentor_email.body
    assert "or get a full refund of $40.00" in mentor_email.body

    # No answer in time: the refund is made and said, with the card it goes back to.
    mail.outbox.clear()
    services.refund_unanswered_cancellations(now=timezone.now() + settings.BOOKING_REBOOK_WINDOW + timedelta(hours=1))
    email, html = _to(booking.mentee.email, "Your refund")
    assert "$40.00 is refunded in full. It goes back to your card ending 4242" in email.body
    profile = f"{settings.SITE_URL}{reverse('mentor_profile', args=[mentor.pk])}?service={booking.service_id}"
    assert f"Book another time with Ada Mentor: {profile}" in email.body

    pending = booked(mentor, stripe_server, days_ahead=5, confirm=False)
    mail.outbox.clear()
    services.expire_pending_bookings(now=pending.start)
    email, _ = _to(pending.mentee.email, "expired")
    assert "You get a full refund of $40.00 to your card ending 4242" in email.body


@pytest.mark.parametrize("kind", ["pending_nudge_1", "pending_nudge_2", "booking_requested"])
def test_a_request_and_every_nudge_ask_the_mentor_to_confirm_or_decline(kind):
    from notifications.email import primary_action

    from .test_bookings import first_open_slot

    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    booking = services.booking_hold(mentee=UserFactory(), service=intro, start=first_open_slot(intro))
    notice = Notification.objects.create(user=mentor.user, kind=kind, key=kind, subject="s", body="b", booking=booking)
    assert primary_action(notice) == (
        "Confirm or decline",
        f"{settings.SITE_URL}{reverse('booking_detail', args=[booking.pk])}",
    )


@pytest.mark.parametrize("declined", [1, 12])
def test_the_notice_list_reads_the_decline_reasons_in_a_fixed_number_of_queries(
    client, declined, django_assert_max_num_queries
):
    from bookings.models import Booking, BookingEvent

    from .test_bookings import first_open_slot

    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    mentee = UserFactory()
    slot = first_open_slot(intro)
    for number in range(declined):
        booking = services.booking_hold(mentee=mentee, service=intro, start=slot + timedelta(days=number))
        Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.DECLINED)
        BookingEvent.objects.create(booking=booking, from_status="pending", to_status="declined", note=f"Away {number}")
        Notification.objects.create(
            user=mentee, kind="booking_declined", key=f"d{number}", subject="Declined", body="b", booking=booking
        )
    client.force_login(mentee)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("notifications")).content.decode()
    assert all(f"Away {number}" in page for number in range(declined))
