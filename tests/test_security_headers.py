"""Every page carries a strict Content-Security-Policy and a Permissions-Policy; Stripe.js is allowed only on
the checkout; pages drawn for a signed-in person are never stored in a cache."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings import packages, selectors
from bookings import services as booking_services
from notifications import services as notification_services
from payments import content_policy

from .factories import UserFactory, bookable_mentor
from .test_payments import pay

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.error_urls")]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def stripe_origin(stripe_server) -> str:
    return stripe_server.base  # the local stand-in serves Stripe.js and its API from one origin


@pytest.fixture
def site(stripe_server):
    """A mentee with a paid booking, a held one at checkout and a package awaiting payment; a mentor; staff."""
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    mentee = UserFactory()
    now = timezone.now()
    starts = selectors.open_slots(intro, start=now + timedelta(days=2), end=now + timedelta(days=9))
    paid = booking_services.booking_hold(mentee=mentee, service=intro, start=starts[0])
    payment = pay(stripe_server, paid)
    held = booking_services.booking_hold(mentee=mentee, service=intro, start=starts[3])
    offer = packages.package_save(mentor, service=intro, sessions=5, price_cents=17000, valid_days=90)
    purchase = packages.purchase_start(mentee=mentee, package_id=offer.pk)
    staff = UserFactory(is_staff=True, is_superuser=True)
    return {"mentor": mentor, "mentee": mentee, "paid": paid, "payment": payment, "held": held,
            "purchase": purchase, "staff": staff}  # fmt: skip


def pages(site):
    """(who, url, expected status, runs Stripe.js) for a walk over the site."""
    mentor, paid = site["mentor"], site["paid"]
    return [
        (None, "/", 200, False),
        (None, reverse("mentor_profile", args=[mentor.pk]), 200, False),
        (None, reverse("account_login"), 200, False),
        (None, reverse("account_signup"), 200, False),
        (None, reverse("how_it_works_mentors"), 200, False),
        (None, "/no-such-page/", 404, False),
        (None, "/test/suspicious/", 400, False),
        (None, "/test/forbidden/", 403, False),
        (None, "/test/broken/", 500, False),
        ("mentee", reverse("my_bookings"), 200, False),
        ("mentee", reverse("booking_detail", args=[paid.pk]), 200, False),
        ("mentee", reverse("receipt", args=[site["payment"].pk]), 200, False),
        ("mentee", reverse("account_settings"), 200, False),
        ("mentee", reverse("notifications"), 200, False),
        ("mentee", reverse("conversations"), 200, False),
        ("mentee", reverse("my_packages"), 200, False),
        ("mentee", reverse("checkout", args=[site["held"].pk]), 200, True),
        ("mentee", reverse("package_checkout", args=[site["purchase"].pk]), 200, True),
        ("mentee", "/no-such-page/", 404, False),
        ("mentor", reverse("earnings"), 200, False),
        ("staff", "/admin/", 200, False),
        ("staff", "/admin/bookings/booking/", 200, False),
        ("staff", f"/admin/bookings/booking/{paid.pk}/change/", 200, False),
    ]


def client_for(site, who) -> Client:
    client = Client(raise_request_exception=False)
    if who:
        client.force_login(site["mentor"].user if who == "mentor" else site[who])
    return client


def test_every_page_has_a_strict_content_security_policy_and_stripe_only_at_checkout(site, stripe_server):
    stripe = stripe_origin(stripe_server)
    for who, url, status, runs_stripe in pages(site):
        response = client_for(site, who).get(url)
        assert response.status_code == status, url
        directives = policy(response)
        assert directives["default-src"] == ["'self'"], url
        assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'none'"], url
        assert directives["frame-ancestors"] == ["'none'"] and directives["form-action"][0] == "'self'", url
        assert directives["style-src"] == ["'self'"], url
        script = directives["script-src"]
        assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script and "*" not in script, url
        assert (stripe in script) == runs_stripe, url
        assert (stripe in directives["connect-src"]) == runs_stripe, url
        page = response.content.decode()
        assert not re.search(r"<[^>]+\son[a-z]+=", page), f"an inline event handler in {url}"
        assert not re.search(r"<[^>]+\sstyle=", page) and "<style" not in page, f"an inline style in {url}"
        # Each script tag of ours carries this response's nonce (none is needed today; it keeps them working
        # should one ever be inline).
        for nonce in re.findall(r"<script[^>]*\snonce=\"([^\"]*)\"", page):
            assert f"'nonce-{nonce}'" in script, url
        assert "camera=()" in response["Permissions-Policy"], url


def test_only_the_earnings_page_may_send_a_mentor_on_to_stripe_connect(site, stripe_server):
    mentor = client_for(site, "mentor")
    assert stripe_server.base in policy(mentor.get(reverse("earnings")))["form-action"]
    assert policy(mentor.get(reverse("account_settings")))["form-action"] == ["'self'"]


def test_in_production_stripe_gets_its_documented_sources(settings):
    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    settings.STRIPE_API_BASE = "https://api.stripe.com"
    sources = content_policy.stripe_js_sources()
    assert sources["script-src"] == ["https://js.stripe.com", "https://*.js.stripe.com"]
    assert sources["frame-src"] == ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"]
    assert sources["connect-src"] == ["https://api.stripe.com"]
    assert content_policy.stripe_connect_sources() == {"form-action": ["https://connect.stripe.com"]}


def test_permissions_policy_refuses_camera_microphone_location_and_payment_to_every_page(client):
    for url in ("/", reverse("account_login"), "/no-such-page/"):
        features = dict(
            part.strip().split("=") for part in client.get(url)["Permissions-Policy"].split(",")
        )  # fmt: skip
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert features[feature] == "()", (url, feature)


def test_signed_in_pages_are_never_stored_and_public_ones_may_be(site, client):
    assert "no-store" not in client.get("/").get("Cache-Control", "")
    assert "no-store" not in client.get(reverse("mentor_profile", args=[site["mentor"].pk])).get("Cache-Control", "")
    client.force_login(site["mentee"])
    for url in ("/", reverse("booking_detail", args=[site["paid"].pk]), reverse("receipt", args=[site["payment"].pk])):
        assert client.get(url)["Cache-Control"] == "private, no-store", url
    assert client.get("/no-such-page/")["Cache-Control"] == "private, no-store"
    # A response that sets its own caching keeps it: the calendar feed, fetched by calendar apps.
    token = notification_services.calendar_feed_token(site["mentee"])
    assert client.get(reverse("calendar_feed", args=[token]))["Cache-Control"] == "private, max-age=300"
