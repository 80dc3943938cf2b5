"""The README's screenshots, made from the demo data: `make screenshots` (or `.venv/bin/python docs/screenshots.py`).

A throwaway copy of the app (its own SQLite file, cache and media under a temporary folder, tasks run in
the request, the local Stripe server on a free port) is seeded with `seed_demo`; Chromium then books and
pays as the demo mentee, the demo mentor confirms, and each page is saved at phone and desktop width
into docs/screenshots/. Nothing of the developer's own `var/` is touched.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import chromium  # noqa: E402
from tests.stripe_server import LocalStripe, free_port  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "demo-password"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


def app_environment(folder: Path, stripe: LocalStripe, port: int) -> dict:
    return {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "REDIS_URL": "",
        "CACHE_URL": f"filecache://{folder / 'cache'}",
        "MEDIA_ROOT": str(folder / "media"),
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "EMAIL_URL": "consolemail://",
        "STRIPE_API_BASE": stripe.base,
        "STRIPE_JS_URL": f"{stripe.base}/js.stripe.com/v3/",
        "SITE_URL": f"http://127.0.0.1:{port}",
    }


def start_app(environment: dict, port: int) -> subprocess.Popen:
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run(manage + command, env=environment, check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "mentorship.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("The app did not answer within 30 s")


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("^(Log in|Sign In)$")).click()
    page.wait_for_load_state()


def shoot(page, name: str) -> None:
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(OUT / f"{name}-{size}.png"), full_page=size == "desktop")


def take(browser, base_url: str) -> None:
    mentee = browser.new_context(base_url=base_url, timezone_id="Europe/London", viewport=SIZES["desktop"])
    page = mentee.new_page()
    log_in(page, "mentee@example.com")
    page.goto("/")
    page.get_by_role("link", name="Maya Mentor").first.click()
    page.wait_for_load_state()
    shoot(page, "booking-page")
    page.set_viewport_size(SIZES["desktop"])
    # A day a few free days on, so the session page shows a session still free to cancel.
    free_days = page.get_by_role("gridcell", name=re.compile(", free times"))
    free_days.nth(min(3, free_days.count() - 1)).click()
    page.locator("label.slot:visible").first.click()
    message = page.get_by_role("textbox", name=re.compile("^Message to the mentor"))
    message.fill("I'd like feedback on my first system design interview.")
    page.get_by_role("button", name="Book session").click()
    page.get_by_role("heading", name="Checkout").wait_for()
    shoot(page, "checkout")
    page.set_viewport_size(SIZES["desktop"])
    page.get_by_placeholder("number").fill("4242424242424242")
    page.get_by_placeholder("exp_month").fill("12")
    page.get_by_placeholder("exp_year").fill("34")
    page.get_by_placeholder("cvc").fill("123")
    page.get_by_placeholder("postal_code").fill("10001")
    page.get_by_role("button", name=re.compile("^Pay ")).click()
    page.get_by_role("status").filter(has_text="Payment received").wait_for()
    session_url = page.url

    mentor = browser.new_context(base_url=base_url, timezone_id="America/New_York", viewport=SIZES["desktop"])
    mentor_page = mentor.new_page()
    log_in(mentor_page, "mentor@example.com")
    mentor_page.goto("/mentor/bookings/")
    shoot(mentor_page, "mentor-bookings")  # the request waiting for Confirm or Decline
    mentor_page.set_viewport_size(SIZES["desktop"])
    mentor_page.get_by_role("button", name="Confirm").first.click()
    mentor_page.wait_for_load_state()

    page.goto(session_url)
    shoot(page, "session-page")
    mentee.close()
    mentor.close()


def main() -> None:
    from playwright.sync_api import sync_playwright

    executable = chromium.executable()
    if not executable:
        sys.exit("No Chromium found: install Debian's `chromium` package.")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mentorship-shots-") as folder:
        port = free_port()
        stripe = LocalStripe().start()
        stripe.register_webhook(f"http://127.0.0.1:{port}/payments/stripe/webhook/", "whsec_localstripe")
        server = None
        try:
            server = start_app(app_environment(Path(folder), stripe, port), port)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, headless=True, args=chromium.ARGS)
                try:
                    take(browser, f"http://127.0.0.1:{port}")
                finally:
                    browser.close()
        finally:
            if server:
                server.terminate()
                server.wait(timeout=10)
            stripe.stop()
    print(f"Screenshots written to {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
