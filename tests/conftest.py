"""Test infrastructure: the local Stripe server, Chromium through Playwright, and data factories."""

import os
import uuid

import pytest
from django.core.cache import cache, caches

from bookings import directory
from mentorship.celery import app as celery_app

from . import chromium
from .stripe_server import LocalStripe

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from
# the test body are still synchronous, so allow them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IN_CI = os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str):
    """A missing service or browser skips a test on a newcomer's machine and fails it in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required here)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _fresh_cache():
    """The cache outlives a run (a file cache under var/, or Redis): start without the last run's login limits."""
    cache.clear()
    caches["pages"].clear()


@pytest.fixture(autouse=True)
def _fast_and_eager(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    directory.forget_topics()  # one test's mentors don't leak into the next one's filter lists
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _fresh_cache():
    """No counts from an earlier test (rate limits, login attempts), no page kept by one: row ids repeat."""
    cache.clear()
    caches["pages"].clear()


@pytest.fixture(scope="session")
def _stripe_process():
    server = LocalStripe().start()
    yield server
    server.stop()


@pytest.fixture
def stripe_server(_stripe_process, settings):
    """localstripe over HTTP, with our settings pointing at it."""
    settings.STRIPE_SECRET_KEY = "sk_test_localstripe"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
    settings.STRIPE_API_BASE = _stripe_process.base
    settings.STRIPE_JS_URL = f"{_stripe_process.base}/js.stripe.com/v3/"
    # The server lives for the whole session and honours idempotency keys, while row ids restart
    # between tests: each test is its own "environment", as on a shared Stripe account.
    settings.STRIPE_IDEMPOTENCY_PREFIX = f"test-{uuid.uuid4().hex[:12]}-"
    return _stripe_process


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    executable = chromium.executable()
    if not executable:
        skip_or_fail("No Chromium found: install Debian's `chromium` package to run browser tests")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=executable, headless=True, args=chromium.ARGS)
    yield browser
    browser.close()
    playwright.stop()


# Every page the browser tests open reports what the Content-Security-Policy blocked (new_page fails the test).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.reportCspViolation(location.pathname + ": " + e.effectiveDirective + " blocked " + (e.blockedURI || "inline")
    + (e.sourceFile ? " (" + e.sourceFile + ":" + e.lineNumber + ")" : ""));
});
"""


@pytest.fixture
def new_page(browser, live_server, request):
    """Open a page in a fresh browser context (its own cookies), e.g. one for the mentee, one for the mentor.

    Anything the page's Content-Security-Policy blocks fails the test: the policy must allow all we need.
    """
    contexts = []
    csp_violations = []

    def open_page(time_zone: str = "UTC"):
        context = browser.new_context(
            base_url=live_server.url, timezone_id=time_zone, viewport={"width": 1200, "height": 900}
        )
        context.expose_binding("reportCspViolation", lambda source, text: csp_violations.append(text))
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        # Generous limits: CI machines have two cores shared by the server, the browser and the tests.
        context.set_default_timeout(20_000)
        context.set_default_navigation_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for index, context in enumerate(contexts):
        if failed:  # keep what each browser showed, for the person reading the failure
            os.makedirs("test-artifacts", exist_ok=True)
            for page_index, page in enumerate(context.pages):
                page.screenshot(path=f"test-artifacts/{request.node.name}-{index}-{page_index}.png", full_page=True)
        context.close()
    if csp_violations and not failed:
        pytest.fail("The Content-Security-Policy blocked:\n" + "\n".join(dict.fromkeys(csp_violations)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
