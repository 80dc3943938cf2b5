"""What every request costs before its view runs stays small and correct: the zone list read once, database
connections kept (and checked), sessions read from the cache but kept when the cache is down, the header's
counts only when a page shows them, and the benchmark's bare page only where it is switched on."""

import os
import subprocess
import sys
from zoneinfo import available_timezones

import pytest
from django.contrib.sessions.models import Session
from django.template import engines
from django.urls import reverse

from mentorship.middleware import BROWSER_ZONE_COOKIE
from mentorship.zones import is_known_zone, known_zones
from notifications.models import Notification

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_bench_page_is_a_404_unless_switched_on(client, settings):
    settings.BENCH_HELLO = False
    assert client.get(reverse("bench_hello")).status_code == 404
    settings.BENCH_HELLO = True
    response = client.get(reverse("bench_hello"))
    assert response.status_code == 200 and response.content == b"hello"
    # It passes the same middleware as every page.
    assert response["Permissions-Policy"] == settings.PERMISSIONS_POLICY
    assert "Content-Security-Policy" in response and response["X-Frame-Options"] == "DENY"


def test_the_zone_list_is_the_machines_and_read_once():
    assert known_zones() == available_timezones()
    assert known_zones() is known_zones()
    assert is_known_zone("Europe/Berlin") and not is_known_zone("Mars/Olympus") and not is_known_zone("")


@pytest.mark.parametrize(("cookie", "zone"), [("Asia%2FCalcutta", "Asia/Kolkata"), ("Mars%2FOlympus", "UTC")])
def test_a_visitors_zone_cookie_is_checked_against_the_zone_list(client, cookie, zone):
    client.cookies[BROWSER_ZONE_COOKIE] = cookie
    response = client.get(reverse("home"))
    assert response.wsgi_request.viewer_zone == zone
    assert response.wsgi_request.viewer_zone_known is (zone != "UTC")


def test_signed_in_pages_keep_working_with_the_cache_down(client, settings):
    """cached_db sessions: Redis unreachable reads as empty, so the session comes from the database."""
    down = {
        "BACKEND": "mentorship.cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
    settings.CACHES = {"default": down, "pages": {**down, "KEY_PREFIX": "pages"}}
    person = UserFactory(display_name="Cache Down Carla")
    client.force_login(person)
    assert Session.objects.count() == 1  # written to the database whatever the cache did
    page = client.get(reverse("my_bookings"))
    assert page.status_code == 200 and page.wsgi_request.user == person
    client.logout()
    assert Session.objects.count() == 0
    assert client.get(reverse("my_bookings")).status_code == 302  # signed out: to the sign-in page


def test_a_session_read_from_the_cache_costs_no_query(client, django_assert_num_queries):
    person = UserFactory()
    client.force_login(person)
    with django_assert_num_queries(0):
        assert client.session.get("_auth_user_id") == str(person.pk)


def test_the_header_counts_are_counted_only_when_a_template_shows_them(rf, django_assert_num_queries):
    person = UserFactory()
    Notification.objects.create(user=person, kind="note", key="k1", subject="Hi", body="Hi")
    request = rf.get("/")
    request.user = person
    engine = engines["django"]
    with django_assert_num_queries(0):
        assert engine.from_string("{{ viewer_zone }}").render({}, request) == "UTC"
    with django_assert_num_queries(1):
        assert engine.from_string("{{ unread_notifications }}").render({}, request) == "1"
    with django_assert_num_queries(1):
        assert engine.from_string("{% if mentor_profile %}mentor{% else %}mentee{% endif %}").render({}, request) == (
            "mentee"
        )


def _settings_in_a_fresh_process(**env) -> str:
    code = (
        "import django; django.setup(); from django.db import connection as c; "
        "print(c.settings_dict['CONN_MAX_AGE'], c.settings_dict['CONN_HEALTH_CHECKS'])"
    )
    environment = {k: v for k, v in os.environ.items() if k != "CONN_MAX_AGE"}
    environment.update(DJANGO_SETTINGS_MODULE="mentorship.settings", DEBUG="true", **env)
    done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DATABASE_URL": "postgres://bench@127.0.0.1:5432/nowhere"}, "60 True"),
        ({"DATABASE_URL": "postgres://bench@127.0.0.1:5432/nowhere", "CONN_MAX_AGE": "5"}, "5 True"),
        ({"DATABASE_URL": "sqlite:////tmp/cheap-requests.sqlite3"}, "0 True"),
    ],
)
def test_postgresql_connections_are_kept_and_checked_before_reuse(env, expected):
    assert _settings_in_a_fresh_process(**env) == expected
