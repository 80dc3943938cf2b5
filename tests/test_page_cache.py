"""Public pages kept for visitors with nothing of their own (mentorship.page_cache): served again without
drawing them, with this response's own nonce and CSRF token, and never past a change that shows on them."""

import json
import re
from datetime import UTC, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings import selectors, services
from mentorship import services as mentor_services

from .factories import UserFactory, bookable_mentor

pytestmark = pytest.mark.django_db(transaction=True)


def nonce_of(response) -> str:
    return re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)


def profile_url(mentor, on) -> str:
    service = mentor.services.get(duration_minutes=30)
    day = on.astimezone(UTC).date().isoformat()
    return reverse("mentor_profile", args=[mentor.pk]) + f"?service={service.pk}&day={day}&tz=UTC"


def offered(response) -> set[str]:
    """The start times the profile's calendar offers on the day it shows."""
    data = re.search(r'<script id="picker-data" type="application/json">(.*?)</script>', response.content.decode())
    return {entry[0] for entry in json.loads(data.group(1))["times"]}


def test_a_visitor_with_nothing_of_their_own_gets_the_kept_page_with_their_own_nonce(
    client, django_assert_max_num_queries
):
    bookable_mentor(headline="Kept headline")
    first = client.get(reverse("home"))
    with django_assert_max_num_queries(0):
        again = Client().get(reverse("home"))
    assert again.status_code == 200
    assert "Kept headline" in again.content.decode()
    assert again.content.decode().count(f'nonce="{nonce_of(again)}"') >= 1  # the page's scripts may run
    assert nonce_of(again) != nonce_of(first)
    assert nonce_of(first) not in again.content.decode()


def test_the_kept_profile_carries_a_csrf_token_that_books(django_assert_max_num_queries):
    mentor = bookable_mentor()
    service = mentor.services.get(duration_minutes=30)
    start = selectors.open_slots(service, start=timezone.now(), end=timezone.now() + timedelta(days=7))[-1]
    url = profile_url(mentor, start)
    Client().get(url)  # drawn and kept
    visitor = Client(enforce_csrf_checks=True)
    with django_assert_max_num_queries(0):  # the versions are read with the page, from the cache
        page = visitor.get(url)
    assert start.isoformat() in offered(page)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert "csrftoken" in page.cookies  # set, as drawing the form would
    booked = visitor.post(
        reverse("book", args=[mentor.pk]),
        {"csrfmiddlewaretoken": token, "service": service.pk, "start": start.isoformat(), "message": "Hello"},
    )
    assert booked.status_code == 302  # to log in, with the choice kept; not a CSRF refusal
    assert booked.url.startswith(reverse("account_login"))


def test_a_held_time_and_a_profile_edit_show_on_the_kept_profile_at_once():
    mentor = bookable_mentor(headline="Before")
    service = mentor.services.get(duration_minutes=30)
    start = selectors.open_slots(service, start=timezone.now(), end=timezone.now() + timedelta(days=7))[-1]
    assert start.isoformat() in offered(Client().get(profile_url(mentor, start)))
    services.booking_hold(mentee=UserFactory(), service=service, start=start)
    assert start.isoformat() not in offered(Client().get(profile_url(mentor, start)))

    mentor_services.mentor_profile_update(mentor, headline="After", bio="", expertise="Django")
    assert "After" in Client().get(profile_url(mentor, start)).content.decode()
    assert "After" in Client().get(reverse("home")).content.decode()


def test_signed_in_people_and_visitors_with_a_session_or_message_get_their_own_page(client):
    bookable_mentor()
    client.get(reverse("home"))  # kept for visitors with nothing of their own
    member = UserFactory(display_name="Signed In Sam")
    client.force_login(member)
    assert "Log out" in client.get(reverse("home")).content.decode()

    with_session = Client()
    with_session.cookies["sessionid"] = "anything"
    assert with_session.get(reverse("home")).context is not None  # drawn for them, not served from the cache
    with_message = Client()
    with_message.cookies["messages"] = "anything"
    assert with_message.get(reverse("home")).context is not None
    assert Client().get(reverse("home")).context is None  # the kept page


def test_each_zone_gets_its_own_kept_page():
    mentor = bookable_mentor()
    url = reverse("mentor_profile", args=[mentor.pk])
    tokyo, lima = Client(), Client()
    tokyo.cookies["tz"], lima.cookies["tz"] = "Asia/Tokyo", "America/Lima"
    for _ in range(2):
        assert "Tokyo" in tokyo.get(url).content.decode()
        assert "Lima" in lima.get(url).content.decode()


def test_made_up_query_parameters_are_drawn_each_time_not_kept():
    bookable_mentor()
    Client().get(reverse("home") + "?utm_source=x")
    assert Client().get(reverse("home") + "?utm_source=x").context is not None  # drawn again
    Client().get(reverse("home") + "?q=django")
    assert Client().get(reverse("home") + "?q=django").context is None  # the page's own parameter: kept
