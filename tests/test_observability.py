"""What an operator sees when something goes wrong: log lines that say which request, person, booking and
payment they are about (JSON in production), a reference the person can quote, failed pages e-mailed to
ADMINS, and errors sent to Sentry without anything personal."""

import gzip
import io
import json
import logging
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client

from mentorship import error_tracking, log_context, outbox
from mentorship.log_context import ContextFilter, JsonFormatter
from mentorship.models import OutboxEntry

from .factories import UserFactory
from .test_secure_defaults import REQUIRED, a_production_environment, settings_in_a_new_process

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def json_lines():
    """The root logger's lines as production writes them (the ids filter and the JSON formatter of LOGGING)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
def test_a_failed_page_logs_its_request_person_and_booking_and_the_person_can_quote_its_reference(settings, json_lines):
    settings.DEBUG = False
    user = UserFactory()
    browser = Client(raise_request_exception=False)
    browser.force_login(user)

    response = browser.get("/test/broken/41/")

    reference = response["X-Request-ID"]
    assert response.status_code == 500 and len(reference) == 32
    assert f'quote reference <code class="reference">{reference}</code>' in response.content.decode()
    [error] = [line for line in json_lines() if line["level"] == "ERROR"]
    assert error["logger"] == "django.request" and "a bug in a view" in error["exception"]
    assert error["request_id"] == reference and error["user_id"] == user.pk and error["booking_id"] == 41
    assert log_context.current() == {}  # nothing of this request is left for the next one


@pytest.mark.django_db
def test_a_load_balancers_request_id_is_kept_and_a_hostile_one_replaced(client):
    assert client.get("/", HTTP_X_REQUEST_ID="lb-5f2c9a7e-01")["X-Request-ID"] == "lb-5f2c9a7e-01"
    for hostile in ('x"}\n{"level": "ERROR"', "a" * 500, "short"):
        replaced = client.get("/", HTTP_X_REQUEST_ID=hostile)["X-Request-ID"]
        assert replaced != hostile and len(replaced) == 32 and replaced.isalnum()


@pytest.mark.django_db
def test_a_jobs_lines_carry_its_name_and_the_booking_and_payment_it_works_on(json_lines):
    entry = OutboxEntry.objects.create(
        topic="booking.refund_due", handler="payments.gone_handler", payload={"booking_id": 7, "payment_id": 9}
    )

    outbox.run_outbox_entry.apply(args=[entry.pk])

    [failed] = [line for line in json_lines() if line["logger"] == "mentorship.outbox"]
    assert failed["level"] == "WARNING" and "No handler named payments.gone_handler" in failed["message"]
    assert failed["task"] == "mentorship.tasks.run_outbox_entry"
    assert (failed["booking_id"], failed["payment_id"]) == (7, 9)
    assert log_context.current() == {}


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
def test_a_failed_page_is_emailed_to_admins_without_the_persons_cookies(settings):
    settings.DEBUG = False
    settings.ADMINS = [("Ops", "ops@example.com")]
    browser = Client(raise_request_exception=False)
    browser.force_login(UserFactory())
    session_cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value

    browser.get("/test/broken/")

    [sent] = mail.outbox
    assert sent.to == ["ops@example.com"] and "Internal Server Error: /test/broken/" in sent.subject
    assert "a bug in a view" in sent.body and session_cookie not in sent.body


def test_production_logs_json_and_reads_admins_from_the_environment():
    env = a_production_environment(**REQUIRED, ADMINS="Ana Ops <ana@example.com>, oncall@example.com")
    done = settings_in_a_new_process(env, "settings.LOGGING['handlers']['console']['formatter'], settings.ADMINS")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "json [('Ana Ops', 'ana@example.com'), ('', 'oncall@example.com')]"

    refused = settings_in_a_new_process(a_production_environment(**REQUIRED, LOG_FORMAT="xml"), "settings.DEBUG")
    assert refused.returncode != 0 and "LOG_FORMAT must be json or text" in refused.stderr


class _SentryInbox(BaseHTTPRequestHandler):
    received: list[str]

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body.decode())
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


FAILING = """
import django, sentry_sdk
from wsgiref.util import setup_testing_defaults
from django.core.wsgi import get_wsgi_application
from django.test.utils import override_settings
from mentorship.celery import app

application = get_wsgi_application()  # as gunicorn calls it
request = {
    "PATH_INFO": "/test/broken/7/", "HTTP_HOST": "mentorship.example.com", "wsgi.url_scheme": "https",
    "HTTP_X_REQUEST_ID": "req-to-sentry-01", "HTTP_COOKIE": "csrftoken=cookie-secret-1",
    "HTTP_AUTHORIZATION": "Bearer token-secret-2", "REMOTE_ADDR": "203.0.113.77",
    "QUERY_STRING": "token=query-secret-3&page=2",
}
setup_testing_defaults(request)
statuses = []
with override_settings(ROOT_URLCONF="tests.error_urls"):
    b"".join(application(request, lambda status, headers, exc_info=None: statuses.append(status)))
print(statuses[0])

@app.task(name="tests.failing_job")
def failing_job():
    raise ValueError("a job that failed")

try:
    failing_job.apply()
except ValueError:
    pass
sentry_sdk.flush(timeout=10)
"""


def test_sentry_hears_of_a_failed_page_and_a_failed_job_and_of_nothing_personal(tmp_path):
    _SentryInbox.received = []
    inbox = ThreadingHTTPServer(("127.0.0.1", 0), _SentryInbox)
    threading.Thread(target=inbox.serve_forever, daemon=True).start()
    env = a_production_environment(
        **REQUIRED,
        SENTRY_DSN=f"http://publickey@127.0.0.1:{inbox.server_port}/42",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", FAILING], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        inbox.shutdown()
    assert done.returncode == 0 and done.stdout.strip().endswith("500 Internal Server Error"), done.stderr

    sent = "\n".join(_SentryInbox.received)
    assert "a bug in a view" in sent and "a job that failed" in sent
    page_event = next(
        json.loads(line) for line in sent.splitlines() if "a bug in a view" in line and '"exception"' in line
    )
    assert page_event["tags"]["request_id"] == "req-to-sentry-01" and page_event["tags"]["booking_id"] == "7"
    assert page_event["request"]["url"] == "https://mentorship.example.com/test/broken/7/"
    assert page_event["request"]["headers"]["X-Request-Id"] == "req-to-sentry-01"
    assert page_event["request"]["query_string"] == "token=[redacted]&page=2"  # secrets in addresses stay home
    for personal in (
        "cookie-secret-1",
        "token-secret-2",
        "query-secret-3",
        "words a person wrote",
        "203.0.113.77",
        "user_id",
    ):
        assert personal not in sent


@pytest.mark.parametrize(
    ("address", "sent"),
    [
        ("https://m.example.com/calendar/Zq81-feedtoken.ics", "https://m.example.com/calendar/[redacted].ics"),
        ("/accounts/confirm-email/MjQ:1tXk:abc/", "/accounts/confirm-email/[redacted]/"),
        ("/accounts/password/reset/key/1a-6f2-c0de/", "/accounts/password/reset/key/[redacted]/"),
        ("/mentors/?q=python&page=2", "/mentors/?q=python&page=2"),
    ],
)
def test_addresses_that_carry_a_secret_are_redacted_before_they_leave(address, sent):
    assert error_tracking.redact(address) == sent
