"""Limits on costly actions, per person: paying, messages, support tickets, refunds, photo uploads.

Each action may be done `settings.RATE_LIMITS[action]` = (attempts, seconds) times per window. Counts live in
the shared cache (Redis in production), so every web process sees the same count. Windows are fixed stretches
of time whose number is part of the key: a new window starts from zero whatever the cache still holds. When the
cache is down, every attempt is let through (mentorship.cache): the limit protects, it never locks people out.
"""

import math
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache

from . import error_pages


def attempt(action: str, user_id: int) -> int:
    """Count one attempt at `action`: 0 when it may go ahead, else the seconds until the window ends."""
    allowed, seconds = settings.RATE_LIMITS[action]
    now = time.time()
    window = int(now // seconds)
    left = seconds - (now - window * seconds)
    key = f"rate-limit:{action}:{user_id}:{window}"
    timeout = math.ceil(left) + 1  # gone soon after its window; the key changes with the window anyway
    if cache.add(key, 1, timeout):
        count = 1
    else:
        try:
            count = cache.incr(key)
            cache.touch(key, timeout)  # the file cache's incr writes the value back with its default lifetime
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout)
            count = 1
    return 0 if count <= allowed else math.ceil(left)


def rate_limited(action: str, *, when=None):
    """A view decorator: each POST (for which `when(request)` holds, if given) spends one attempt at `action`.

    Over the limit, the view does not run: the person gets a 429 page saying when to try again.
    Put it below @login_required.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST" and (when is None or when(request)):
                wait = attempt(action, request.user.pk)
                if wait:
                    return error_pages.too_many_requests(request, wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
