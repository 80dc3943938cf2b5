"""The local Stripe server for development and tests: localstripe, in memory,
on 127.0.0.1 only, plus our own stand-in for Stripe Connect (tests/stripe_connect.py)
and a shim that makes it behave like Stripe where money depends on it: idempotency keys,
refund limits, refund and dispute events (tests/stripe_shim.py).

localstripe is GPL software, so the application never imports it; it runs as a
separate process: `python -m tests.stripe_server --port 8420`, optionally
registering our webhook endpoint so payment events reach the app as they would
from Stripe.
"""

import argparse
import json
import logging
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def serve(port: int, webhook_url: str | None, webhook_secret: str | None) -> None:
    from aiohttp import web
    from localstripe import resources, server, webhooks

    from tests import stripe_connect, stripe_shim

    # In memory: never read or write localstripe's pickle file in /tmp.
    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None
    if webhook_url:
        webhooks.register_webhook("mentorship", webhook_url, webhook_secret, None)
    stripe_connect.install(server.app)  # Connect: accounts, account links, transfers, balance, payouts
    stripe_shim.install(server.app)  # outermost: idempotency for all of it, refund limits, events
    logging.basicConfig(level=logging.INFO, format="stripe | %(message)s")
    web.run_app(server.app, host="127.0.0.1", port=port, print=lambda *args: None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalStripe:
    """A localstripe process for the length of a test session."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "LocalStripe":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.stripe_server", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/js.stripe.com/v3/", timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("localstripe exited during start-up") from None
                time.sleep(0.1)
        raise RuntimeError("localstripe did not start within 20 s")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)

    def register_webhook(self, url: str, secret: str, endpoint: str = "mentorship") -> None:
        data = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
        urllib.request.urlopen(f"{self.base}/_config/webhooks/{endpoint}", data=data, timeout=5).close()

    def unregister_webhook(self, endpoint: str = "mentorship") -> None:
        request = urllib.request.Request(f"{self.base}/_config/webhooks/{endpoint}", method="DELETE")
        urllib.request.urlopen(request, timeout=5).close()

    def _config(self, path: str, **fields) -> dict:
        data = urllib.parse.urlencode({k: v for k, v in fields.items() if v is not None}).encode()
        with urllib.request.urlopen(f"{self.base}/_config/{path}", data=data, timeout=5) as response:
            return json.load(response)

    def create_dispute(
        self,
        *,
        payment_intent: str | None = None,
        charge: str | None = None,
        amount: int | None = None,
        reason: str = "fraudulent",
    ) -> dict:
        """What a chargeback looks like on Stripe; sends `charge.dispute.created`."""
        return self._config("disputes", payment_intent=payment_intent, charge=charge, amount=amount, reason=reason)

    def close_dispute(self, dispute_id: str, status: str) -> dict:
        """The bank decides (`won` or `lost`); sends `charge.dispute.closed`."""
        return self._config(f"disputes/{dispute_id}/close", status=status)

    def set_refund_status(self, refund_id: str, status: str, failure_reason: str | None = None) -> dict:
        """A refund changes on Stripe's side (e.g. fails days later); sends `refund.updated` (and `refund.failed`)."""
        return self._config(f"refunds/{refund_id}", status=status, failure_reason=failure_reason)

    def confirm_card_setup(self, client_secret: str, number: str = "4242424242424242") -> str:
        """Do what Stripe.js's confirmCardSetup does in the page; returns the payment method id."""
        setup_intent = client_secret.split("_secret_")[0]
        body = {
            "key": "pk_test_localstripe",
            "client_secret": client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
            },
        }
        request = urllib.request.Request(
            f"{self.base}/v1/setup_intents/{setup_intent}/confirm", data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)["payment_method"]

    def post(self, path: str, fields: dict, idempotency_key: str | None = None) -> tuple[int, dict, dict]:
        """A raw API call as the SDK makes it: (HTTP status, body, headers), errors included."""
        headers = {"Authorization": "Bearer sk_test_localstripe"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(f"{self.base}{path}", data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.load(response), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error), dict(error.headers)

    def get(self, path: str) -> dict:
        request = urllib.request.Request(f"{self.base}{path}", headers={"Authorization": "Bearer sk_test_localstripe"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-secret")
    args = parser.parse_args()
    serve(args.port, args.webhook_url, args.webhook_secret)
