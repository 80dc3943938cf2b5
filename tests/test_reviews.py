"""Reviews: asked for at completion, one per session, editable for 14 days, one public reply, hidden by staff."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings import reviews, services
from bookings.models import Review

from .factories import UserFactory, bookable_mentor
from .test_lifecycle import booked

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]


def completed(mentor, stripe_server, **kwargs):
    booking = booked(mentor, stripe_server, **kwargs)
    services.booking_complete(booking.pk, actor=mentor.user, now=booking.end + timedelta(minutes=5))
    booking.refresh_from_db()
    return booking


def test_completion_asks_for_a_review_which_then_shows_on_the_profile(client, stripe_server):
    mentor = bookable_mentor(user__display_name="Maya Mentor")
    booking = booked(mentor, stripe_server)
    mail.outbox.clear()
    services.booking_complete(booking.pk, actor=mentor.user, now=booking.end + timedelta(minutes=5))
    (ask,) = mail.outbox
    assert ask.to == [booking.mentee.email] and ask.subject == "How was your session with Maya Mentor? Leave a review"
    review_url = reverse("booking_review", args=[booking.pk])
    assert review_url in ask.body
    client.force_login(booking.mentee)
    response = client.post(review_url, {"rating": "5", "text": "Clear, kind and practical."})
    assert response.url == reverse("booking_detail", args=[booking.pk])
    client.post(review_url, {"rating": "4", "text": "Clear, kind and practical!"})  # an edit, not a second review
    review = Review.objects.get()
    assert (review.rating, review.text) == (4, "Clear, kind and practical!")
    profile = client.get(reverse("mentor_profile", args=[mentor.pk])).content.decode()
    assert "<strong>4.0</strong>" in profile and "1 review<" in profile
    assert "Clear, kind and practical!" in profile and 'aria-label="4 out of 5 stars"' in profile


def test_a_review_needs_a_completed_session_of_ones_own_and_stars(client, stripe_server):
    mentor = bookable_mentor()
    upcoming = booked(mentor, stripe_server)
    with pytest.raises(services.BookingError, match="once it is complete"):
        reviews.review_save(upcoming.pk, mentee=upcoming.mentee, rating=5, text="")
    done = completed(mentor, stripe_server, days_ahead=6)
    client.force_login(UserFactory())
    assert client.post(reverse("booking_review", args=[done.pk]), {"rating": "5"}).status_code == 404
    client.force_login(done.mentee)
    response = client.post(reverse("booking_review", args=[done.pk]), {"rating": "9"})
    assert response.status_code == 400 and not Review.objects.exists()


def test_reviews_can_be_changed_for_14_days(stripe_server):
    mentor = bookable_mentor()
    booking = completed(mentor, stripe_server)
    review = reviews.review_save(booking.pk, mentee=booking.mentee, rating=3, text="Okay")
    with time_machine.travel(review.created_at + timedelta(days=13)):
        reviews.review_save(booking.pk, mentee=booking.mentee, rating=4, text="Better on reflection")
    with time_machine.travel(review.created_at + timedelta(days=15)), pytest.raises(services.BookingError):
        reviews.review_save(booking.pk, mentee=booking.mentee, rating=1, text="Changed my mind")
    review.refresh_from_db()
    assert (review.rating, review.text) == (4, "Better on reflection")


def test_the_mentor_replies_publicly_once(client, stripe_server):
    mentor = bookable_mentor()
    booking = completed(mentor, stripe_server)
    reviews.review_save(booking.pk, mentee=booking.mentee, rating=2, text="Started late")
    client.force_login(booking.mentee)  # the mentee can't answer in the mentor's name
    client.post(reverse("review_reply", args=[booking.pk]), {"reply": "Mine"})
    assert Review.objects.get().reply == ""
    client.force_login(mentor.user)
    client.post(reverse("review_reply", args=[booking.pk]), {"reply": "Sorry about that: a train delay."})
    client.post(reverse("review_reply", args=[booking.pk]), {"reply": "Second thoughts"})
    assert Review.objects.get().reply == "Sorry about that: a train delay."
    profile = client.get(reverse("mentor_profile", args=[mentor.pk])).content.decode()
    assert "Sorry about that: a train delay." in profile


def test_staff_hide_a_review_with_a_reason_and_it_leaves_the_profile_and_the_average(admin_client, stripe_server):
    mentor = bookable_mentor()
    kept = completed(mentor, stripe_server)
    rude = completed(mentor, stripe_server, days_ahead=6)
    reviews.review_save(kept.pk, mentee=kept.mentee, rating=5, text="Great")
    bad = reviews.review_save(rude.pk, mentee=rude.mentee, rating=1, text="Insulting words")
    change = reverse("admin:bookings_review_change", args=[bad.pk])
    response = admin_client.post(change, {"hide": "on", "hidden_reason": ""})
    assert "Say why the review is hidden." in response.content.decode()
    admin_client.post(change, {"hide": "on", "hidden_reason": "Personal insults break our guidelines"})
    bad.refresh_from_db()
    assert bad.hidden_at is not None and bad.hidden_reason == "Personal insults break our guidelines"
    profile = admin_client.get(reverse("mentor_profile", args=[mentor.pk])).content.decode()
    assert "Insulting words" not in profile and "<strong>5.0</strong>" in profile and "1 review<" in profile


def test_the_profile_costs_the_same_queries_with_one_review_and_with_many(
    client, stripe_server, django_assert_max_num_queries
):
    mentor = bookable_mentor()
    first = completed(mentor, stripe_server)
    reviews.review_save(first.pk, mentee=first.mentee, rating=5, text="Great")
    url = reverse("mentor_profile", args=[mentor.pk])
    client.force_login(UserFactory())
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for days in (6, 9, 12):
        booking = completed(mentor, stripe_server, days_ahead=days)
        reviews.review_save(booking.pk, mentee=booking.mentee, rating=4, text="Good")
    with django_assert_max_num_queries(len(one)):
        client.get(url)


def test_my_bookings_asks_for_a_review_then_shows_the_one_given(client, stripe_server):
    mentor = bookable_mentor()
    booking = completed(mentor, stripe_server)
    client.force_login(booking.mentee)
    page = client.get(reverse("my_bookings")).content.decode()
    assert f'href="{reverse("booking_review", args=[booking.pk])}">Leave a review' in page
    reviews.review_save(booking.pk, mentee=booking.mentee, rating=4, text="Good")
    page = client.get(reverse("my_bookings")).content.decode()
    assert 'Your review: <span class="stars" aria-label="4 out of 5 stars" role="img">' in page


def test_my_bookings_lists_the_reviews_given_and_links_my_packages(client, stripe_server):
    mentor = bookable_mentor(user__display_name="Maya Mentor")
    booking = completed(mentor, stripe_server)
    reviews.review_save(booking.pk, mentee=booking.mentee, rating=5, text="Sharp and kind")
    client.force_login(booking.mentee)
    page = client.get(reverse("my_bookings")).content.decode()
    assert "Reviews you gave" in page and "Sharp and kind" in page and "For Maya Mentor" in page
    assert reverse("my_packages") in page
