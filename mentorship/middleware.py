"""Show every time in the viewer's own zone."""

from zoneinfo import ZoneInfo, available_timezones

from django.utils import timezone

from .zones import canonical_zone

BROWSER_ZONE_COOKIE = "tz"


def viewer_zone_name(request) -> str:
    """The signed-in user's zone; for visitors, the zone their browser reported (cookie), else UTC."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.time_zone
    browser_zone = canonical_zone(request.COOKIES.get(BROWSER_ZONE_COOKIE, ""))
    return browser_zone if browser_zone in available_timezones() else "UTC"


class UserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.viewer_zone = viewer_zone_name(request)
        with timezone.override(ZoneInfo(request.viewer_zone)):
            return self.get_response(request)
