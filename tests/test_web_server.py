"""The `web` process as production runs it: gunicorn with gunicorn.conf.py, timeouts above every call a page
makes to another service, one JSON line per request in the access log."""

import json
import runpy
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings

from notifications.meetings import ZoomProvider

from .stripe_server import free_port
from .test_secure_defaults import REQUIRED, a_production_environment

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "gunicorn.conf.py"


def test_a_page_gives_up_on_another_service_before_gunicorn_gives_up_on_the_page():
    config = runpy.run_path(str(CONFIG))
    slowest_call = max(
        9,  # STRIPE_TIMEOUT_SECONDS may be set up to 9 (settings refuse more)
        settings.EMAIL_TIMEOUT,
        ZoomProvider.TIMEOUT,
        settings.DATABASES["default"]["OPTIONS"].get("timeout", 0),  # SQLite's wait for the write lock
    )
    assert config["timeout"] > slowest_call
    assert config["graceful_timeout"] >= 10 and config["max_requests"] > 0 and config["max_requests_jitter"] > 0
    assert "--config gunicorn.conf.py" in (ROOT / "Procfile").read_text()


def test_production_access_log_is_one_json_object_per_request_whatever_the_request_holds(tmp_path):
    port = free_port()
    env = a_production_environment(
        **REQUIRED,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
    )
    web = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "mentorship.wsgi", "--config", str(CONFIG)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        hostile = 'curl/8 "quoted" \\ {"not": "json"}'
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz?x=%22", headers={"User-Agent": hostile, "X-Request-ID": "req-42"}
        )
        deadline = time.monotonic() + 30
        while True:  # waiting for another process to listen
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    assert json.loads(answer.read()) == {"status": "ok"}
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        web.terminate()
        output, _ = web.communicate(timeout=30)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert lines, output
    logged = lines[-1]
    assert logged["path"] == "/healthz" and logged["status"] == 200 and logged["query"] == "x=%22"
    assert logged["user_agent"] == hostile and logged["request_id"] == "req-42"
    assert isinstance(logged["ms"], float)
