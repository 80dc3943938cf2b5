"""/healthz and /readyz, for load balancers, orchestrators and uptime checks.

Answered by the first middleware, before anything else runs: no host check (a load balancer asks by IP),
no HTTPS redirect, no session, no login. JSON, cheap, never cached.

- /healthz: the process answers (liveness: restart it if not).
- /readyz: it can do its work (readiness: send it traffic only if so): the database, the cache, the broker,
  the media storage, and beat having ticked within the last few minutes. 503 with the failing checks named.
"""

import json
import logging
import secrets

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpResponse

from . import beat
from .celery import app as celery_app


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    probe = secrets.token_hex(8)
    cache.set("readyz:probe", probe, 30)
    if cache.get("readyz:probe") != probe:  # our cache answers an unreachable Redis with nothing
        raise RuntimeError("the cache did not keep a value")


def _broker() -> None:
    with celery_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=0)  # one try, within the transport's socket timeouts


def _media() -> None:
    default_storage.exists("readyz-probe")


def _beat() -> None:
    seen = beat.status()
    if not seen["alive"]:
        ago = seen["seconds_since_tick"]
        raise RuntimeError("beat has never ticked" if ago is None else f"beat last ticked {ago} s ago")


log = logging.getLogger(__name__)

CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "media": _media, "beat": _beat}


def readiness() -> dict[str, str]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # any failure is the answer, not an error page
            log.warning("Not ready: %s: %s", name, error)  # the details (hosts, say) go to the log only
            results[name] = f"failing ({type(error).__name__})"
        else:
            results[name] = "ok"
    return results


def _json(status: int, body: dict) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """First in MIDDLEWARE: answers the two paths itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path.rstrip("/")
        if path == "/healthz":
            return _json(200, {"status": "ok"})
        if path == "/readyz":
            checks = readiness()
            ready = all(result == "ok" for result in checks.values())
            return _json(200 if ready else 503, {"status": "ok" if ready else "unavailable", "checks": checks})
        return self.get_response(request)
