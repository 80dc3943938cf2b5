"""What the Content-Security-Policy adds, page by page, for Stripe (the site-wide policy is in settings).

Only the checkout pages may run Stripe.js, and only the Earnings page may send a mentor on to Stripe's
Connect onboarding. Origins come from the settings at request time: tests run Stripe on a port of their own.
"""

from functools import wraps
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.conf import settings

STRIPE_JS_ORIGIN = "https://js.stripe.com"
# Stripe's documented sources for Stripe.js: its scripts, its card and 3-D Secure frames, its API.
STRIPE_JS_SOURCES = {
    "script-src": [STRIPE_JS_ORIGIN, "https://*.js.stripe.com"],
    "frame-src": [STRIPE_JS_ORIGIN, "https://*.js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}
STRIPE_CONNECT_ORIGIN = "https://connect.stripe.com"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def stripe_js_sources() -> dict[str, list[str]]:
    js = _origin(settings.STRIPE_JS_URL)
    if js == STRIPE_JS_ORIGIN:
        return STRIPE_JS_SOURCES
    # The local stand-in: one origin serves the script and answers its API calls; no frames.
    return {"script-src": [js], "connect-src": sorted({js, _origin(settings.STRIPE_API_BASE)})}


def stripe_connect_sources() -> dict[str, list[str]]:
    """The onboarding a mentor is redirected to after pressing "Connect Stripe" (form-action covers redirects)."""
    api = _origin(settings.STRIPE_API_BASE)
    return {"form-action": [STRIPE_CONNECT_ORIGIN if api == "https://api.stripe.com" else api]}


def _updated_by(sources):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            return csp_update(sources())(view)(request, *args, **kwargs)

        return wrapper

    return decorator


with_stripe_js = _updated_by(stripe_js_sources)
with_stripe_connect = _updated_by(stripe_connect_sources)
