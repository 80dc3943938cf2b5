"""Per-request rules: every time in the viewer's own zone, headers every response carries, and staff reach the
admin only with a second factor."""

import logging
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.db import OperationalError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from . import error_pages
from .zones import canonical_zone, is_known_zone

BROWSER_ZONE_COOKIE = "tz"
log = logging.getLogger(__name__)


def viewer_zone_name(request) -> str | None:
    """The signed-in user's zone; for visitors, the zone their browser reported (cookie); None if unknown."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.time_zone
    browser_zone = canonical_zone(unquote(request.COOKIES.get(BROWSER_ZONE_COOKIE, "")))
    return browser_zone if is_known_zone(browser_zone) else None


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


class StaffSecondFactorMiddleware:
    """Staff set up a second factor before the admin opens (STAFF_REQUIRE_MFA, on outside development).

    The admin's own login form is allauth's (secure_admin_login in urls.py), so the password and the
    code are asked for, and limited, in one place.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.STAFF_REQUIRE_MFA
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and request.path.startswith(reverse("admin:index"))
            and not is_mfa_enabled(user, [Authenticator.Type.TOTP])
        ):
            messages.warning(request, "Set up an authenticator app before you open the admin.")
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class PrivacyHeadersMiddleware:
    """Permissions-Policy on every response, and no copy of a signed-in person's page kept anywhere.

    A page drawn for a signed-in person (bookings, messages, receipts) must not stay in a shared proxy or in
    the browser's cache for the next person at the same computer. Responses that set their own caching keep it
    (static files, a mentor's public photo, the calendar feed).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)  # none for static files, answered before authentication
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "private, no-store"
        return response


# PostgreSQL's "lock not available" (lock_timeout) and "query canceled" (statement_timeout).
GAVE_UP_WAITING = {"55P03", "57014"}


class DatabaseBusyMiddleware:
    """A lock held too long elsewhere (or a statement too slow) ends the page with "Busy right now, try
    again" (503) instead of a hung worker or a "Something went wrong"; settings set the timeouts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        cause = exception.__cause__
        if isinstance(exception, OperationalError) and getattr(cause, "sqlstate", None) in GAVE_UP_WAITING:
            log.warning("Gave up waiting on the database for %s %s: %s", request.method, request.path, cause)
            return error_pages.busy(request)
        return None
