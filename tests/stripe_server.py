"""The local Stripe server for development and tests: localstripe, in memory,
on 127.0.0.1 only, plus our own stand-in for Stripe Connect (tests/stripe_connect.py).

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
import urllib.parse
import urllib.request


def serve(port: int, webhook_url: str | None, webhook_secret: str | None) -> None:
    from aiohttp import web
    from localstripe import resources, server, webhooks

    from tests import stripe_connect

    # In memory: never read or write localstripe's pickle file in /tmp.
    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None
    if webhook_url:
        webhooks.register_webhook("mentorship", webhook_url, webhook_secret, None)
    stripe_connect.install(server.app)  # Connect: accounts, account links, transfers, balance, payouts
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

    def register_webhook(self, url: str, secret: str) -> None:
        data = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
        urllib.request.urlopen(f"{self.base}/_config/webhooks/mentorship", data=data, timeout=5).close()

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
