"""Make the local Stripe server misbehave for one test, as Stripe's test mode would (see tests/stripe_connect.py).

Faults are real HTTP answers from the server, so our code meets them through the real SDK.
"""

import json
import urllib.request
from contextlib import contextmanager

from django.test import override_settings

from .stripe_server import free_port


def fail_next(stripe_server, path: str, *, method: str = "POST", status: int = 400, times: int = 1, **options) -> None:
    """The next `times` requests to `path` get `status` (a Stripe error unless `body` is given).

    `after=True` carries the request out and loses only its answer (the caller never hears).
    """
    fault = {"method": method, "path": path, "status": status, "times": times, **options}
    request = urllib.request.Request(
        f"{stripe_server.base}/_config/faults",
        data=json.dumps(fault).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=5).close()


def forget_faults(stripe_server) -> None:
    request = urllib.request.Request(f"{stripe_server.base}/_config/faults", method="DELETE")
    urllib.request.urlopen(request, timeout=5).close()


@contextmanager
def stripe_unreachable():
    """Stripe cannot be reached at all: the SDK is pointed at a port where nothing listens."""
    with override_settings(STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}"):
        yield
