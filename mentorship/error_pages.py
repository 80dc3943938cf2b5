"""Our own error pages (400, 403, 404, 429, 500 and a refused form), in the site's design, with a way on.

400, 403, 404 and the refused form are drawn with the request's context, so the visitor keeps their menu.
The 500 page is drawn without it (no context processors, session, user or database), because those may be
what failed. If a page still cannot be drawn (say the static files manifest is missing), a plain page with
the same words is sent: nobody gets a bare "Server Error (500)".
"""

import logging
import math

from django.conf import settings
from django.http import HttpResponse
from django.template import loader
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme

log = logging.getLogger(__name__)

# The words of each page when even its template fails: (heading, text).
PLAIN = {
    400: ("We couldn't handle that request", "The address or the form sent looks broken."),
    403: ("You can't open this page", "It belongs to another account, or your account has no access to it."),
    404: ("We can't find that page", "The link may be old or mistyped, or the page was removed."),
    429: ("Too many attempts", "Nothing was done this time. Please wait a few minutes and try again."),
    503: ("Busy right now", "Someone else was changing the same thing at this moment. Please try again."),
    500: (
        "Something went wrong on our side",
        "Sorry, this page could not be shown. It's not something you did. If you were booking, paying or "
        "answering a request, check My Bookings before you try again: what you sent may have gone through.",
    ),
}


def _back_url(request) -> str:
    """The page the visitor came from, when it is one of ours (never a link to another site)."""
    referer = request.META.get("HTTP_REFERER", "")
    try:
        host = request.get_host()
    except Exception:  # DisallowedHost: no link back then
        return ""
    ours = url_has_allowed_host_and_scheme(referer, allowed_hosts={host}, require_https=request.is_secure())
    # After a refused form, the page it came from is the way on; after a GET it would only loop back here.
    same_page = request.method in ("GET", "HEAD") and referer == request.build_absolute_uri()
    return referer if referer and ours and not same_page else ""


def _plain_page(status: int) -> str:
    heading, text = PLAIN[status]
    support = escape(settings.SUPPORT_EMAIL)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{heading} · Mentorship</title></head>"
        "<body>"  # unstyled: the content policy allows no inline style, and the style sheet may be what failed
        f"<h1>{heading}</h1><p>{text}</p>"
        '<p><a href="/">Go to the home page</a> · <a href="/bookings/">My Bookings</a></p>'
        f'<p>Still stuck? Write to <a href="mailto:{support}">{support}</a>.</p></body></html>'
    )


def _page(request, template: str, status: int, *, with_request: bool = True, **context) -> HttpResponse:
    context = {
        "status": status,
        "support_email": settings.SUPPORT_EMAIL,
        "back_url": _back_url(request),
        "retry_url": request.get_full_path() if request.method in ("GET", "HEAD") else "",
        **context,
    }
    if with_request:
        try:
            return HttpResponse(loader.render_to_string(template, context, request), status=status)
        except Exception:
            log.exception("The %s page could not be drawn with the request's context; drawing it without", status)
    try:
        return HttpResponse(loader.render_to_string(template, context), status=status)
    except Exception:
        log.exception("The %s page could not be drawn; sending the plain one", status)
        return HttpResponse(_plain_page(status if status in PLAIN else 500), status=status)


def bad_request(request, exception=None):
    return _page(request, "400.html", 400)


def permission_denied(request, exception=None):
    return _page(request, "403.html", 403)


def page_not_found(request, exception=None):
    return _page(request, "404.html", 404)


def too_many_requests(request, retry_after_seconds: int):
    """A costly action tried too often (mentorship.rate_limits): nothing was done; say when to try again."""
    minutes = max(1, math.ceil(retry_after_seconds / 60))
    response = _page(request, "429.html", 429, minutes=minutes)
    response["Retry-After"] = str(retry_after_seconds)
    return response


def sign_in_limited(request, exception=None):
    """allauth's answer when a limit on signing in (or resetting, signing up) is reached: handler429."""
    return _page(request, "429_sign_in.html", 429)


def busy(request):
    """The database gave up waiting for a lock (or on a statement) rather than hang the worker: nothing of
    that transaction was done; the visitor tries again in a moment."""
    response = _page(request, "503.html", 503)
    response["Retry-After"] = "5"
    return response


def server_error(request):
    # The request's id (mentorship.log_context): quoted to support, it finds the error's log lines.
    return _page(request, "500.html", 500, with_request=False, reference=getattr(request, "request_id", ""))


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent without a valid security token (open too long, or cookies blocked)."""
    return _page(request, "403_csrf.html", 403)
