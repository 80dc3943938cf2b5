"""Show every time in the viewer's own zone."""

from urllib.parse import unquote
from zoneinfo import ZoneInfo, available_timezones

from django.utils import timezone

from .zones import canonical_zone

BROWSER_ZONE_COOKIE = "tz"


def viewer_zone_name(request) -> str | None:
    """The signed-in user's zone; for visitors, the zone their browser reported (cookie); None if unknown."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.time_zone
    browser_zone = canonical_zone(unquote(request.COOKIES.get(BROWSER_ZONE_COOKIE, "")))
    return browser_zone if browser_zone in available_timezones() else None


class UserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = viewer_zone_name(request)
        # Unknown until the browser tells us (timezone.js sets the cookie and reloads once).
        request.viewer_zone_known = zone is not None
        request.viewer_zone = zone or "UTC"
        with timezone.override(ZoneInfo(request.viewer_zone)):
            return self.get_response(request)
