"""Meeting links for confirmed online sessions.

The link the mentor pasted wins (seed 001). Otherwise the configured provider makes
one; the built-in provider makes a unique Jitsi Meet room URL, which needs no API.
"""

import secrets

from django.conf import settings

from bookings import services as booking_services
from bookings.models import Booking


class JitsiProvider:
    """A unique, hard-to-guess Jitsi Meet room per booking: no account or API needed."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def create(self, booking: Booking) -> str:
        return f"{self.base_url}/Mentorship-{booking.pk}-{secrets.token_urlsafe(12)}"


def provider():
    return JitsiProvider(settings.JITSI_BASE_URL)


def ensure_link(booking: Booking) -> str:
    """The booking's meeting link, made now if the mentor has not given one."""
    if booking.meeting_link or booking.status != Booking.Status.CONFIRMED or booking.service.in_person:
        return booking.meeting_link  # in-person sessions have an address instead
    booking.meeting_link = booking_services.booking_assign_meeting_link(booking.pk, provider().create(booking))
    return booking.meeting_link
