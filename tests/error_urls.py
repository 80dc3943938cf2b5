"""The site's URLs plus views that fail on purpose, for the error-page tests."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from mentorship import urls as site_urls


def broken(request):
    raise RuntimeError("a bug in a view")


def forbidden(request):
    raise PermissionDenied("staff only")


def suspicious(request):
    raise SuspiciousOperation("a request we refuse")


urlpatterns = [
    path("test/broken/", broken),
    path("test/forbidden/", forbidden),
    path("test/suspicious/", suspicious),
    *site_urls.urlpatterns,
]
handler400 = getattr(site_urls, "handler400", "django.views.defaults.bad_request")
handler403 = getattr(site_urls, "handler403", "django.views.defaults.permission_denied")
handler404 = getattr(site_urls, "handler404", "django.views.defaults.page_not_found")
handler500 = getattr(site_urls, "handler500", "django.views.defaults.server_error")
