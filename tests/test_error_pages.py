"""Our own error pages: what happened in plain words and a way on, in the site's design, never a bare
"Server Error (500)" — also when the database, the session or the page's own template is what failed."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from django.urls import get_resolver, reverse

from .factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.error_urls")]

DESIGNED = 'class="topbar"'  # drawn in base.html, with the site's stylesheet
SUPPORT = 'href="mailto:support@mentorship.localhost"'


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False
    settings.SUPPORT_EMAIL = "support@mentorship.localhost"


@pytest.fixture
def visitor():
    return Client(raise_request_exception=False)


@pytest.fixture
def member(visitor):
    user = UserFactory()
    visitor.force_login(user)
    return visitor


def _page(response) -> str:
    return response.content.decode()


def test_a_missing_page_says_so_and_offers_a_way_on(visitor):
    response = visitor.get("/no-such-page/", HTTP_REFERER="http://testserver/mentors/1/")
    page = _page(response)
    assert response.status_code == 404
    assert "We can't find that page" in page and DESIGNED in page and SUPPORT in page
    assert 'href="/"' in page  # home
    assert 'href="http://testserver/mentors/1/">Go back' in page  # the page they came from, one of ours
    assert "Log in" in page  # drawn with the visitor's own menu


def test_a_missing_page_never_links_back_to_another_site(visitor):
    page = _page(visitor.get("/no-such-page/", HTTP_REFERER="https://evil.example/phish"))
    assert "evil.example" not in page and "Go back" not in page


def test_a_booking_that_does_not_exist_is_our_404_with_the_members_menu(member):
    response = member.get(reverse("booking_detail", args=[999999]))
    page = _page(response)
    assert response.status_code == 404
    assert "We can't find that page" in page and "My Bookings" in page and "Log out" in page


def test_a_forbidden_page_says_so(member):
    response = member.get("/test/forbidden/")
    page = _page(response)
    assert response.status_code == 403
    assert "You can't open this page" in page and DESIGNED in page and SUPPORT in page
    assert "staff only" not in page  # the developer's reason is not for the visitor


def test_a_request_we_refuse_says_so(visitor):
    response = visitor.get("/test/suspicious/")
    assert response.status_code == 400
    assert "We couldn't handle that request" in _page(response) and DESIGNED in _page(response)


def test_a_bug_shows_our_500_page_not_a_bare_server_error(member):
    response = member.get("/test/broken/")
    page = _page(response)
    assert response.status_code == 500
    assert "Server Error (500)" not in page
    assert "Something went wrong on our side" in page and DESIGNED in page and SUPPORT in page
    assert 'href="/test/broken/">Try again' in page and 'href="/bookings/">My Bookings' in page
    assert "a bug in a view" not in page


def test_a_failed_post_asks_to_check_before_trying_again(member):
    page = _page(member.post("/test/broken/"))
    assert "Something went wrong on our side" in page
    assert "Try again" not in page  # sending the same form again could do it twice
    assert "check My Bookings before you try again" in page


def test_the_500_page_shows_when_the_database_is_down(member):
    """Every query fails (the session read first): the page still comes, drawn in full, with no query of its own."""
    attempts = []

    def database_down(execute, sql, params, many, context):
        attempts.append(sql)
        raise OperationalError("could not connect to server")

    with connection.execute_wrapper(database_down):
        response = member.get(reverse("my_bookings"))
    page = _page(response)
    assert attempts, "the request never reached the database"
    assert response.status_code == 500 and "Something went wrong on our side" in page and DESIGNED in page


def test_drawing_the_500_page_reads_no_session_user_or_database(django_assert_num_queries):
    request = RequestFactory().get("/bookings/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    handler = get_resolver().resolve_error_handler(500)
    with django_assert_num_queries(0):
        response = handler(request)
    assert response.status_code == 500 and "Something went wrong on our side" in _page(response)
    assert not request.session.accessed  # a broken session store can't stop it either


def test_the_500_page_shows_even_when_its_own_template_fails(visitor, settings, tmp_path):
    """Production static files without their manifest: every template using {% static %} fails to draw."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    response = visitor.get("/test/broken/")
    page = _page(response)
    assert response.status_code == 500
    assert "Something went wrong on our side" in page and 'href="/"' in page and SUPPORT in page
    response = visitor.get("/no-such-page/")
    assert response.status_code == 404 and "We can't find that page" in _page(response)


def test_a_form_sent_without_its_security_token_says_what_to_do(settings):
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    response = browser.post(
        reverse("account_login"),
        {"login": "a@example.com", "password": "x"},
        HTTP_REFERER="http://testserver/accounts/login/",
    )
    page = _page(response)
    assert response.status_code == 403
    assert "This form has expired" in page and DESIGNED in page and SUPPORT in page
    assert "Nothing was saved" in page and 'href="http://testserver/accounts/login/">Go back' in page
    assert "CSRF" not in page  # words for people, not for developers
