"""Errors to Sentry (or anything that speaks its protocol: GlitchTip, a self-hosted Sentry) when SENTRY_DSN
is set: a page that failed, a job that failed, a line logged at ERROR.

Nothing personal leaves: no user, IP address, cookies or Authorization header (send_default_pii off), no
request bodies (forms hold messages and names), no local variables of the failing code. Each event carries
the ids the log lines carry (request, booking, payment), not the person's. Events are sent by the SDK's own
background thread, so a slow or unreachable Sentry never slows a page.
"""

from .log_context import current

PERSONAL = {"user_id"}


def _with_ids(event: dict, hint: dict) -> dict:
    tags = event.setdefault("tags", {})
    for name, value in current().items():
        if name not in PERSONAL:
            tags.setdefault(name, str(value))
    return event


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
        shutdown_timeout=2,  # a stopping process waits this long at most for events still queued
    )
