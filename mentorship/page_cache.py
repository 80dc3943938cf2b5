"""Whole pages kept a short while: public ones for visitors with nothing of their own on them, and each
signed-in person's own pages for them alone.

A visitor who is not signed in and has no session (no booking choice kept, no message waiting) sees the
same home, directory or mentor profile as every other such visitor in the same zone: it is drawn once and
kept under the versions that say when it changed (the directory's, the mentor's availability). What is
per response is put back on the way out: the CSP nonce of this response and, where the page has a form
that posts, a fresh CSRF token (which also sets the visitor's CSRF cookie, as drawing the form would).

Anyone signed in, or carrying a session or a message, gets the page drawn for them, except where a view
keeps its page per person (`viewer_page`): kept for that person, that session's contents, that minute, and
only while no table the page read has been written since it was drawn (mentorship.table_versions). A message
waiting (a cookie) means the page is drawn: it shows and consumes it.
"""

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.middleware.csrf import get_token

from . import table_versions

NONCE = "@@page-cache-nonce@@"
CSRF = "@@page-cache-csrf@@"
_CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def anonymous_page(
    ttl: int, *, params: Iterable[str], versions: Callable[..., Iterable[str]] = lambda *args, **kwargs: ()
):
    """Keep the view's page for `ttl` seconds for visitors with nothing of their own, keyed by the URL and the
    viewer's zone, and served while the named versions `versions(request, **view_kwargs)` (whatever changes
    what the page shows; mentorship.table_versions) are as they were: read with the page, one round trip.

    Only URLs whose query names are among `params` (the ones the page reads) are kept, so made-up
    parameters cannot fill the cache with copies of one page.
    """
    params = frozenset(params)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not (_shared_visitor(request) and set(request.GET) <= params):
                return view(request, *args, **kwargs)
            key = _key(request, ())
            stored, now = table_versions.lookup(key, versions(request, *args, **kwargs))
            if stored is not None and stored[0] == now:
                _, content_type, html = stored
                return _answer(request, [("Content-Type", content_type)], html)
            response = view(request, *args, **kwargs)
            if _storable(request, response):
                html = _without_per_response_values(request, response)
                table_versions.store().set(key, (now, response["Content-Type"], html), ttl)
            return response

        return wrapper

    return decorator


def viewer_page(
    ttl: int = 60,
    *,
    params: Iterable[str] | None = (),
    versions: Callable[..., Iterable[str]] = lambda *args, **kwargs: (),
):
    """Keep the view's page for the signed-in person it was drawn for: at most `ttl` seconds and within the
    same minute (pages say "in 5 minutes", open Join at a time), keyed by the URL, their session's contents
    and their zone, and served only while every table the page read and the named versions
    `versions(request, **view_kwargs)` (what the page reads from the cache rather than the database) are
    unchanged.

    Only URLs whose query names are among `params` are kept (None: any, for staff's filtered admin lists).
    """
    params = None if params is None else frozenset(params)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not (_own_visitor(request) and (params is None or set(request.GET) <= params)):
                return view(request, *args, **kwargs)
            drawn = None

            def draw():
                nonlocal drawn
                drawn = view(request, *args, **kwargs)
                if hasattr(drawn, "render") and not drawn.is_rendered:
                    drawn.render()  # a TemplateResponse (the admin's) reads while it draws
                if not _storable(request, drawn):
                    return None
                headers = [(name, value) for name, value in drawn.items() if name != "Content-Length"]
                return headers, _without_per_response_values(request, drawn)

            kept = table_versions.kept(
                _key(request, _viewer_parts(request)),
                ttl,
                draw,
                keep=lambda value: value is not None,
                # The session's user, read before drawing began, and what the view reads from the cache.
                also_read=[request.user._meta.db_table, *versions(request, *args, **kwargs)],
            )
            if drawn is not None:
                return drawn
            return _answer(request, *kept)

        return wrapper

    return decorator


def _own_visitor(request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and CookieStorage.cookie_name not in request.COOKIES
        and request.user.is_authenticated
    )


def _viewer_parts(request) -> list[str]:
    session = json.dumps(dict(request.session.items()), sort_keys=True, default=str)
    return [
        f"user:{request.user.pk}",
        hashlib.sha256(session.encode()).hexdigest(),
        f"minute:{int(time.time() // 60)}",
    ]


def _shared_visitor(request) -> bool:
    cookies = request.COOKIES
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in cookies
        and CookieStorage.cookie_name not in cookies
        and not request.user.is_authenticated
    )


def _key(request, viewer: Iterable[str]) -> str:
    parts = [
        request.get_host(),
        request.scheme,
        request.get_full_path(),
        request.viewer_zone,
        str(request.viewer_zone_known),
        *viewer,
    ]
    return "page:" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _storable(request, response) -> bool:
    """Only a plain page: nothing set for this visitor but the CSRF cookie, the session left alone."""
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not response.streaming
        and response["Content-Type"].startswith("text/html")
        and set(response.cookies) <= {settings.CSRF_COOKIE_NAME}
        and not (session is not None and session.modified)
    )


def _without_per_response_values(request, response) -> str:
    html = response.content.decode()
    nonce = getattr(request, "_csp_nonce", None)
    if nonce:
        html = html.replace(nonce, NONCE)
    return _CSRF_VALUE.sub(rf"\g<1>{CSRF}\g<2>", html)


def _answer(request, headers: list[tuple[str, str]], html: str) -> HttpResponse:
    if NONCE in html:
        html = html.replace(NONCE, str(request.csp_nonce))
    if CSRF in html:
        html = html.replace(CSRF, get_token(request))
    response = HttpResponse(html)
    for name, value in headers:
        response[name] = value
    return response
