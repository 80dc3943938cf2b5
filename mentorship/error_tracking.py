"""Errors to Sentry (or anything that speaks its protocol: GlitchTip, a self-hosted Sentry) when SENTRY_DSN
is set: a page that failed, a job that failed, a line logged at ERROR.

Nothing personal leaves: no user, IP address, cookies or Authorization header (send_default_pii off), no
request bodies (forms hold messages and names), no local variables of the failing code. Each event carries
the ids the log lines carry (request, booking, payment), not the person's. Events are sent by the SDK's own
background thread, so a slow or unreachable Sentry never slows a page.
"""

import re
from urllib.parse import urlsplit

from .log_context import current

PERSONAL = {"user_id"}
# Addresses that carry a secret: a calendar feed's token, allauth's e-mail confirmation and password reset keys.
_SECRET_IN_PATH = re.compile(r"(/calendar/|/confirm-email/|/password/reset/key/)[^/?#]+?(\.ics)?(?=[/?#]|$)")
_SECRET_IN_QUERY = re.compile(r"(?i)\b(token|key|code|secret|signature|X-Amz-Signature)=[^&#]*")


def redact(url: str) -> str:
    """An address with its secrets replaced, for what leaves the site (error reports)."""
    url = _SECRET_IN_PATH.sub(lambda m: f"{m.group(1)}[redacted]{m.group(2) or ''}", url)
    return _SECRET_IN_QUERY.sub(lambda m: f"{m.group(1)}=[redacted]", url)


def _with_ids(event: dict, hint: dict) -> dict:
    tags = event.setdefault("tags", {})
    for name, value in current().items():
        if name not in PERSONAL:
            tags.setdefault(name, str(value))
    request = event.get("request") or {}
    for field in ("url", "query_string"):
        if isinstance(request.get(field), str):
            request[field] = redact(request[field])
    return event


def without_addresses(crumb: dict, hint: dict) -> dict:
    """Breadcrumbs of outgoing requests keep only the host: a mentor's calendar address is a key to their
    calendar (Google's secret iCal address), and CalDAV paths name the person."""
    if crumb.get("category") == "httplib":
        data = crumb.setdefault("data", {})
        url = data.get("url")
        if isinstance(url, str):
            parts = urlsplit(url)
            data["url"] = f"{parts.scheme}://{parts.hostname or ''}/[redacted]"
        for field in ("http.query", "http.fragment"):
            data.pop(field, None)
    return crumb


def start(dsn: str, *, environment: str, release: str, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        before_send=_with_ids,
        before_breadcrumb=without_addresses,
        shutdown_timeout=2,  # a stopping process waits this long at most for events still queued
    )
