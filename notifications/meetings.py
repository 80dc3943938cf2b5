"""Meeting links for confirmed online sessions.

The link the mentor pasted wins (seed 001). Otherwise the configured provider makes
one: the built-in provider makes a unique Jitsi Meet room URL, which needs no API; the
Zoom provider creates a scheduled meeting through Zoom's API (Server-to-Server OAuth).
If Zoom cannot be reached, the session gets a Jitsi room rather than no link at all.
In-person sessions get no link: they have an address instead.
"""

import logging
import secrets
from datetime import UTC
from typing import Protocol

import requests
from django.conf import settings
from django.core.cache import cache

from bookings import services as booking_services
from bookings.models import Booking

log = logging.getLogger(__name__)


class MeetingProviderError(Exception):
    """The provider could not make a meeting."""


class MeetingProvider(Protocol):
    def create(self, booking: Booking) -> str:
        """A join URL for this booking's meeting."""


class JitsiProvider:
    """A unique, hard-to-guess Jitsi Meet room per booking: no account or API needed."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def create(self, booking: Booking) -> str:
        return f"{self.base_url}/Mentorship-{booking.pk}-{secrets.token_urlsafe(12)}"


class ZoomProvider:
    """A scheduled Zoom meeting per booking, made with a Server-to-Server OAuth app."""

    TOKEN_CACHE_KEY = "meetings:zoom-access-token"
    TIMEOUT = 10

    def __init__(self, *, api_base: str, oauth_url: str, account_id: str, client_id: str, client_secret: str):
        self.api_base = api_base.rstrip("/")
        self.oauth_url = oauth_url
        self.account_id = account_id
        self.auth = (client_id, client_secret)

    def _token(self, *, fresh: bool = False) -> str:
        token = None if fresh else cache.get(self.TOKEN_CACHE_KEY)
        if token:
            return token
        response = requests.post(
            self.oauth_url,
            params={"grant_type": "account_credentials", "account_id": self.account_id},
            auth=self.auth,
            timeout=self.TIMEOUT,
        )
        if response.status_code != 200:
            raise MeetingProviderError(f"Zoom refused the credentials ({response.status_code}).")
        data = response.json()
        cache.set(self.TOKEN_CACHE_KEY, data["access_token"], max(int(data.get("expires_in", 3600)) - 60, 60))
        return data["access_token"]

    def _post_meeting(self, booking: Booking, token: str) -> requests.Response:
        return requests.post(
            f"{self.api_base}/users/me/meetings",
            json={
                "topic": f"{booking.service.title}: {booking.mentor.user} and {booking.mentee}",
                "type": 2,  # scheduled
                "start_time": booking.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "duration": booking.duration_minutes,
                "timezone": "UTC",
                "agenda": f"Mentorship booking B-{booking.pk:06d}",
                "settings": {"join_before_host": False, "waiting_room": True},
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=self.TIMEOUT,
        )

    def create(self, booking: Booking) -> str:
        try:
            response = self._post_meeting(booking, self._token())
            if response.status_code == 401:  # the cached token expired early: get a new one once
                response = self._post_meeting(booking, self._token(fresh=True))
        except requests.RequestException as error:
            raise MeetingProviderError(f"Zoom could not be reached: {error}") from error
        if response.status_code != 201:
            raise MeetingProviderError(f"Zoom did not create the meeting ({response.status_code}).")
        return response.json()["join_url"]


def provider() -> MeetingProvider:
    if settings.MEETING_PROVIDER == "zoom":
        return ZoomProvider(
            api_base=settings.ZOOM_API_BASE,
            oauth_url=settings.ZOOM_OAUTH_URL,
            account_id=settings.ZOOM_ACCOUNT_ID,
            client_id=settings.ZOOM_CLIENT_ID,
            client_secret=settings.ZOOM_CLIENT_SECRET,
        )
    return JitsiProvider(settings.JITSI_BASE_URL)


def ensure_link(booking: Booking) -> str:
    """The booking's meeting link, made now if the mentor has not given one."""
    if booking.meeting_link or booking.status != Booking.Status.CONFIRMED or booking.service.in_person:
        return booking.meeting_link  # in-person sessions have an address instead
    try:
        link = provider().create(booking)
    except MeetingProviderError as error:
        log.warning("Booking %s: %s Using a Jitsi room instead.", booking.pk, error)
        link = JitsiProvider(settings.JITSI_BASE_URL).create(booking)
    booking.meeting_link = booking_services.booking_assign_meeting_link(booking.pk, link)
    return booking.meeting_link
