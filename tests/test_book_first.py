"""Book first, sign in after: a signed-out visitor's choice is kept in the session, sign-in or sign-up leads on
to the resume step, which holds the time once and opens checkout (or says the time was taken)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from bookings import services
from bookings.models import Booking
from mentorship import booking_draft
from mentorship.models import User

from .factories import PASSWORD, UserFactory, bookable_mentor
from .test_bookings import first_open_slot

pytestmark = pytest.mark.django_db

KEPT = "Log in or sign up to book this time. We&#x27;ve kept your choice."
TAKEN = "Sorry, that time was taken while you signed in. Please pick another."


@pytest.fixture
def mentor():
    return bookable_mentor(user__display_name="Ada Mentor")


@pytest.fixture
def intro(mentor):
    return mentor.services.get(duration_minutes=30)


def choose(client, mentor, intro, start, message="Help with my CV", **extra):
    return client.post(
        reverse("book", args=[mentor.pk]),
        {"service": intro.pk, "start": start.isoformat(), "message": message, **extra},
    )


def page_token(client, url_name: str) -> dict:
    """The kept choice's hidden field as the page renders it: signing in from this page takes the choice on."""
    found = re.search(r'name="booking_draft" value="([^"]+)"', client.get(reverse(url_name)).content.decode())
    return {"booking_draft": found.group(1)} if found else {}


def log_in(client, email, *, from_the_page=True):
    token = page_token(client, "account_login") if from_the_page else {}
    return client.post(reverse("account_login"), {"login": email, "password": PASSWORD, **token})


def test_a_signed_out_choice_is_kept_and_logging_in_holds_it_and_opens_checkout(client, mentor, intro, stripe_server):
    start = first_open_slot(intro)
    response = choose(client, mentor, intro, start, week="1", tz="Asia/Tokyo")
    assert response.status_code == 302 and response.url == reverse("account_login")
    assert not Booking.objects.exists()
    kept = client.session[booking_draft.SESSION_KEY]
    assert (kept["mentor"], kept["service"], kept["start"], kept["week"], kept["tz"]) == (
        mentor.pk,
        intro.pk,
        start.isoformat(),
        1,
        "Asia/Tokyo",
    )

    page = client.get(reverse("account_login")).content.decode()
    assert KEPT in page
    when = timezone.localtime(start, timezone.get_fixed_timezone(0))
    assert f"30-min intro with Ada Mentor, {when:%a} {when.day} {when:%b %H:%M}" in page
    assert "You're booking:" in page

    member = UserFactory()
    response = log_in(client, member.email)
    assert response.url == reverse("book_resume")
    response = client.get(response.url)
    booking = Booking.objects.get()
    assert response.url == reverse("checkout", args=[booking.pk])
    assert (booking.mentee, booking.service, booking.start, booking.message) == (
        member,
        intro,
        start,
        "Help with my CV",
    )
    checkout = client.get(response.url)
    assert checkout.status_code == 200
    checkout = checkout.content.decode()
    assert "Help with my CV" in checkout and "30-min intro" in checkout


def test_the_draft_is_used_once(client, mentor, intro):
    choose(client, mentor, intro, first_open_slot(intro))
    log_in(client, UserFactory().email)
    first = client.get(reverse("book_resume"))
    again = client.get(reverse("book_resume"))
    assert first.url.startswith("/checkout/")
    assert again.url == reverse("my_bookings")
    assert Booking.objects.count() == 1
    assert booking_draft.SESSION_KEY not in client.session
    # With the draft used, the next sign-in goes where it always did.
    client.logout()
    assert log_in(client, UserFactory().email).url == reverse("home")


def test_signing_up_and_confirming_the_e_mail_leads_to_checkout(client, mentor, intro):
    start = first_open_slot(intro)
    choose(client, mentor, intro, start, message="Interview practice")
    page = client.get(reverse("account_signup")).content.decode()
    assert "You're booking:" in page and "30-min intro with Ada Mentor" in page
    response = client.post(
        reverse("account_signup"),
        {
            "display_name": "New Mentee",
            "email": "new@example.com",
            "password1": "a-long-unique-passphrase",
            "password2": "a-long-unique-passphrase",
            "time_zone": "Europe/Berlin",
            **page_token(client, "account_signup"),
        },
    )
    assert response.url == reverse("account_email_verification_sent")
    assert "30-min intro with Ada Mentor" in client.get(response.url).content.decode()
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body).group(1)
    response = client.post(link)
    assert response.url == reverse("book_resume")
    response = client.get(response.url)
    booking = Booking.objects.get()
    assert response.url == reverse("checkout", args=[booking.pk])
    assert booking.mentee == User.objects.get(email="new@example.com")
    assert (booking.start, booking.message) == (start, "Interview practice")


def test_a_time_taken_meanwhile_goes_back_to_the_profile_with_the_message_kept(client, mentor, intro):
    start = first_open_slot(intro)
    choose(client, mentor, intro, start, message="Talk about my <b>portfolio</b>", week="0", tz="Europe/Paris")
    services.booking_hold(mentee=UserFactory(), service=intro, start=start)  # another mentee, in between
    log_in(client, UserFactory().email)
    response = client.get(reverse("book_resume"))
    assert response.url == f"{reverse('mentor_profile', args=[mentor.pk])}?service={intro.pk}&tz=Europe%2FParis"
    page = client.get(response.url).content.decode()
    assert TAKEN in page
    assert "Talk about my &lt;b&gt;portfolio&lt;/b&gt;</textarea>" in page  # back in the form, escaped
    assert Booking.objects.count() == 1
    # Once: the next visit shows an empty form.
    assert "portfolio" not in client.get(response.url).content.decode()


def test_a_time_no_longer_bookable_after_a_long_sign_up_is_refused_the_same_way(client, mentor, intro):
    start = first_open_slot(intro)
    choose(client, mentor, intro, start)
    intro.is_active = False
    intro.save(update_fields=["is_active"])
    log_in(client, UserFactory().email)
    response = client.get(reverse("book_resume"), follow=True)
    assert TAKEN in response.content.decode()
    assert not Booking.objects.exists()


def test_an_old_draft_is_forgotten(client, mentor, intro):
    choose(client, mentor, intro, first_open_slot(intro))
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert "You're booking" not in client.get(reverse("account_login")).content.decode()
        assert log_in(client, UserFactory().email).url == reverse("home")
        assert client.get(reverse("book_resume")).url == reverse("my_bookings")
    assert not Booking.objects.exists()


def test_a_signed_out_choice_with_a_bad_time_is_refused_before_sign_in(client, mentor, intro):
    response = client.post(reverse("book", args=[mentor.pk]), {"service": intro.pk, "start": "tomorrow"}, follow=True)
    assert "Pick a time from the calendar." in response.content.decode()
    assert booking_draft.SESSION_KEY not in client.session


def test_a_signed_in_post_books_as_before_and_replaces_a_draft_left_behind(client, mentor, intro):
    choose(client, mentor, intro, first_open_slot(intro) + timedelta(hours=1))  # then logs in by another way
    member = UserFactory()
    client.force_login(member)
    response = choose(client, mentor, intro, first_open_slot(intro))
    booking = Booking.objects.get()
    assert response.url == reverse("checkout", args=[booking.pk]) and booking.mentee == member
    assert booking_draft.SESSION_KEY not in client.session


def _fresh() -> str:
    return timezone.now().isoformat()


HOSTILE_DRAFTS = [
    None,
    "a string",
    12,
    [1, 2, 3],
    {},
    {"mentor": 1},
    {"mentor": "1", "service": "1", "start": "x", "message": "", "accessibility_needs": "", "tz": "", "week": 0},
    {"__class__": "x"},
]


def _drafts(mentor, intro, start):
    good = {
        "mentor": mentor.pk,
        "service": intro.pk,
        "start": start.isoformat(),
        "message": "",
        "accessibility_needs": "",
        "tz": "",
        "week": 0,
        "kept_at": _fresh(),
    }
    yield from HOSTILE_DRAFTS
    for name, value in [
        ("mentor", 2**40),
        ("mentor", -1),
        ("mentor", True),
        ("mentor", 1.5),
        ("service", 0),
        ("service", 2**31),
        ("start", "not a time"),
        ("start", "2026-12-01T10:00"),  # no offset
        ("start", "9999-12-31T23:59:59+14:00"),
        ("start", "0001-01-01T00:00:00-12:00"),
        ("start", "9999-12-31T23:00:00+00:00"),  # fine in UTC, past the year 9999 in Kiritimati
        ("start", "0001-01-01T01:00:00+00:00"),  # before the year 1 at GMT-12
        ("start", "x" * 10_000),
        ("message", "\x00\x1b[31m"),
        ("message", "x" * 100_000),
        ("message", ["list"]),
        ("tz", "../../etc/passwd"),
        ("tz", "Not/AZone"),
        ("week", 10**9),
        ("week", "1"),
        ("kept_at", "yesterday"),
        ("kept_at", "2026-01-01T00:00"),  # no offset
        ("kept_at", (timezone.now() + timedelta(days=400)).isoformat()),  # from the future
    ]:
        yield {**good, name: value}
    yield {**good, "extra": "key"}
    yield {**good, "mentor": UserFactory().pk + 10_000}  # no such mentor


def test_hostile_or_garbled_drafts_never_500_and_book_nothing_else(client, mentor, intro):
    start = first_open_slot(intro)
    member = UserFactory()
    for draft in _drafts(mentor, intro, start):
        cache.clear()  # the login limits: many logins from one address here
        client.logout()
        session = client.session
        session[booking_draft.SESSION_KEY] = draft
        session.save()
        for zone in ("UTC", "Pacific/Kiritimati", "Etc/GMT+12"):  # times at the calendar's edge overflow there
            client.cookies["tz"] = zone
            for url in (reverse("account_login"), reverse("account_signup")):
                assert client.get(url).status_code == 200, (draft, zone)
        response = log_in(client, member.email)
        assert response.status_code == 302, draft
        response = client.get(reverse("book_resume"))
        assert response.status_code == 302, draft
        if not response.url.startswith("/checkout/"):
            assert client.get(response.url).status_code == 200, draft
        assert booking_draft.SESSION_KEY not in client.session
    # A draft whose only oddity is the calendar's zone books the time it names, and nothing else ever is.
    assert {(b.mentee, b.service, b.start) for b in Booking.objects.all()} <= {(member, intro, start)}


def test_a_hostile_leftover_never_500s_the_profile(client, mentor):
    for leftover in (None, "x", [1], {"mentor": mentor.pk, "message": 5}, {"mentor": mentor.pk, "message": "x" * 5000}):
        session = client.session
        session[booking_draft.LEFTOVER_KEY] = leftover
        session.save()
        assert client.get(reverse("mentor_profile", args=[mentor.pk])).status_code == 200


def test_a_choice_left_on_a_shared_browser_is_not_booked_or_shown_for_the_next_person(client, mentor, intro):
    """A visitor picks a time, types private needs and walks away; the next person logs in on that browser
    some other way (a bookmark, the header's Log in after a reload that showed no choice)."""
    choose(client, mentor, intro, first_open_slot(intro), message="My CV", accessibility_needs="Captions, I am deaf")
    response = log_in(client, UserFactory().email, from_the_page=False)
    assert response.url == "/"
    assert booking_draft.SESSION_KEY not in client.session
    assert client.get(reverse("book_resume")).url == reverse("my_bookings")
    assert not Booking.objects.exists()


def test_not_your_choice_forgets_it(client, mentor, intro):
    choose(client, mentor, intro, first_open_slot(intro))
    assert "Not your choice? Forget it" in client.get(reverse("account_login")).content.decode()
    response = client.post(reverse("book_forget"), follow=True)
    assert "That choice is forgotten" in response.content.decode()
    assert "You're booking:" not in response.content.decode()
    assert log_in(client, UserFactory().email).url == "/"


def test_a_sign_in_headed_elsewhere_forgets_the_choice_so_it_cannot_ambush_a_later_redirect(client, mentor, intro):
    choose(client, mentor, intro, first_open_slot(intro))
    member = UserFactory()
    token = page_token(client, "account_login")
    response = client.post(
        reverse("account_login"), {"login": member.email, "password": PASSWORD, "next": "/bookings/", **token}
    )
    assert response.url == "/bookings/"
    assert booking_draft.SESSION_KEY not in client.session
    assert client.get(reverse("account_login")).url != reverse("book_resume")
    assert not Booking.objects.exists()
