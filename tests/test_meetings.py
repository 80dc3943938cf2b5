"""Meeting links from the configured provider: Zoom through its API (a local stand-in), else Jitsi."""

import pytest
from django.core import mail
from django.core.cache import cache

from bookings import services

from .factories import bookable_mentor
from .test_lifecycle import booked
from .zoom_server import LocalZoom

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]


@pytest.fixture
def zoom(settings):
    server = LocalZoom(account_id="acct-42", client_id="client-42", client_secret="s3cret").start()
    settings.MEETING_PROVIDER = "zoom"
    settings.ZOOM_API_BASE = f"{server.base}/v2"
    settings.ZOOM_OAUTH_URL = f"{server.base}/oauth/token"
    settings.ZOOM_ACCOUNT_ID, settings.ZOOM_CLIENT_ID, settings.ZOOM_CLIENT_SECRET = "acct-42", "client-42", "s3cret"
    cache.clear()  # no token from another test's server
    yield server
    server.stop()
    cache.clear()


def test_a_confirmed_session_gets_a_zoom_meeting_at_its_time_and_the_e_mail_carries_it(zoom, stripe_server):
    mentor = bookable_mentor()
    booking = booked(mentor, stripe_server, confirm=False)
    mail.outbox.clear()
    services.booking_confirm(booking.pk, actor=mentor.user)
    booking.refresh_from_db()
    (meeting,) = zoom.meetings
    assert booking.meeting_link == meeting["join_url"] and booking.meeting_link.startswith("https://zoom.example/j/")
    assert meeting["start_time"] == booking.start.strftime("%Y-%m-%dT%H:%M:%SZ")  # stored in UTC
    assert (meeting["duration"], meeting["timezone"], meeting["type"]) == (30, "UTC", 2)
    assert booking.service.title in meeting["topic"]
    confirmation = next(m for m in mail.outbox if m.to == [booking.mentee.email])
    assert f"Join: {booking.meeting_link}" in confirmation.body
    # The next booking reuses the access token; a token Zoom no longer accepts is replaced once.
    second = booked(mentor, stripe_server, days_ahead=5)
    assert second.meeting_link == zoom.meetings[1]["join_url"] and zoom.token_requests == 1
    zoom.expire_tokens()
    third = booked(mentor, stripe_server, days_ahead=8)
    assert third.meeting_link == zoom.meetings[2]["join_url"] and zoom.token_requests == 2


def test_the_link_the_mentor_pastes_replaces_the_generated_one(zoom, stripe_server):
    mentor = bookable_mentor()
    booking = booked(mentor, stripe_server)
    assert booking.meeting_link == zoom.meetings[0]["join_url"]
    services.booking_set_links(
        booking.pk, actor=mentor.user, meeting_link="https://meet.example.com/my-room", availability_link=""
    )
    booking.refresh_from_db()
    assert booking.meeting_link == "https://meet.example.com/my-room"


def test_when_zoom_refuses_the_session_still_gets_a_room(zoom, stripe_server, settings, caplog):
    settings.ZOOM_CLIENT_SECRET = "wrong"
    settings.JITSI_BASE_URL = "https://meet.jit.si"
    mentor = bookable_mentor()
    booking = booked(mentor, stripe_server)
    assert booking.meeting_link.startswith("https://meet.jit.si/Mentorship-")
    assert "Zoom refused the credentials (401)" in caplog.text
