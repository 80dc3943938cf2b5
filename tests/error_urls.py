"""The site's URLs plus views that fail on purpose, for the error-page tests."""

import psycopg
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError
from django.urls import path

from mentorship import urls as site_urls


def broken(request, booking_id=None):
    # A local of the failing code holding a person's words (spelt backwards here, so the source shown beside
    # a traceback does not hold them): never sent to error tracking.
    words = "".join(reversed("mrof a ni etorw nosrep a sdrow"))
    raise RuntimeError(f"a bug in a view ({len(words)})")


def forbidden(request):
    raise PermissionDenied("staff only")


def suspicious(request):
    raise SuspiciousOperation("a request we refuse")


def stuck(request):
    """What Django raises when PostgreSQL gave up waiting for a lock (lock_timeout)."""
    raise OperationalError("canceling statement due to lock timeout") from psycopg.errors.LockNotAvailable()


urlpatterns = [
    path("test/stuck/", stuck),
    path("test/broken/", broken),
    path("test/broken/<int:booking_id>/", broken),
    path("test/forbidden/", forbidden),
    path("test/suspicious/", suspicious),
    *site_urls.urlpatterns,
]
handler400 = getattr(site_urls, "handler400", "django.views.defaults.bad_request")
handler403 = getattr(site_urls, "handler403", "django.views.defaults.permission_denied")
handler404 = getattr(site_urls, "handler404", "django.views.defaults.page_not_found")
handler500 = getattr(site_urls, "handler500", "django.views.defaults.server_error")
