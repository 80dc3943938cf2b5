"""Costly actions are limited per person (settings.RATE_LIMITS): over the limit nothing is done, the person is
told when to try again (429), and a new window starts from zero. Time moves with time-machine."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from bookings import selectors
from bookings import services as booking_services
from bookings.models import Booking, SupportTicket
from mentorship.rate_limits import attempt
from notifications.models import Message
from payments import services
from payments.models import Payment, Refund

from .factories import UserFactory, bookable_mentor
from .test_profile import _image, _profile_form
from .test_refund_form import confirmed_booking  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def hold(mentee, *, nth=0, mentor=None):
    mentor = mentor or bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(intro, start=now + timedelta(days=2), end=now + timedelta(days=9))[nth]
    return booking_services.booking_hold(mentee=mentee, service=intro, start=start)


def limited(response) -> bool:
    text = response.content.decode()
    return response.status_code == 429 and "Too many attempts" in text and "try again in" in text


def test_the_count_is_per_person_and_action_and_starts_again_in_the_next_window(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "message": (2, 600), "support": (2, 600)}
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert [attempt("message", 1) for _ in range(3)] == [0, 0, 9 * 60]  # the window ends at :10
        assert attempt("message", 2) == 0 and attempt("support", 1) == 0
    with time_machine.travel(start + timedelta(minutes=9, seconds=30), tick=False):
        assert attempt("message", 1) == 30
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert attempt("message", 1) == 0


def test_messages_over_the_limit_are_not_sent(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "message": (2, 600)}
    mentor, mentee = bookable_mentor(), UserFactory()
    client.force_login(mentee)
    url = reverse("message_mentor", args=[mentor.pk])
    for text in ("One", "Two"):
        assert client.post(url, {"body": text}).status_code == 302
    conversation_url = reverse("conversation", args=[Message.objects.get(body="One").conversation_id])
    response = client.post(conversation_url, {"body": "Three"})
    minutes = -(-int(response["Retry-After"]) // 60)  # what is left of the 10-minute window, rounded up
    assert limited(response) and f"try again in {minutes} minute" in response.content.decode() and minutes <= 10
    assert list(Message.objects.values_list("body", flat=True)) == ["One", "Two"]
    assert client.get(conversation_url).status_code == 200  # reading is not limited
    client.force_login(mentor.user)  # the limit is the sender's own
    assert client.post(conversation_url, {"body": "Hello"}).status_code == 302
    client.force_login(mentee)
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert client.post(conversation_url, {"body": "Three"}).status_code == 302
    assert Message.objects.filter(body="Three").exists()


def test_support_tickets_and_no_show_reports_over_the_limit_are_not_opened(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "support": (1, 3600)}
    mentee = UserFactory()
    first, second = hold(mentee), hold(mentee)
    client.force_login(mentee)
    client.post(reverse("booking_support", args=[first.pk]), {"note": "Help"})
    assert SupportTicket.objects.filter(booking=first).exists()
    assert limited(client.post(reverse("booking_support", args=[second.pk]), {"note": "Help again"}))
    assert limited(client.post(reverse("booking_no_show", args=[second.pk]), {"note": "Nobody came"}))
    assert not SupportTicket.objects.filter(booking=second).exists()
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        client.post(reverse("booking_support", args=[second.pk]), {"note": "Help again"})
    assert SupportTicket.objects.filter(booking=second).exists()


@pytest.mark.stripe
def test_pay_attempts_over_the_limit_do_not_reach_stripe(client, stripe_server, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "pay": (1, 600)}
    booking = hold(UserFactory())
    client.force_login(booking.mentee)
    card = stripe_server.confirm_card_setup(services.checkout_setup(booking_id=booking.pk, mentee=booking.mentee))
    url = reverse("checkout_pay", args=[booking.pk])
    client.post(url, {"payment_method": "pm_typedbyhand"})  # an attempt: refused, no card of theirs
    response = client.post(url, {"payment_method": card})
    assert limited(response)
    assert not Payment.objects.exists()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        client.post(url, {"payment_method": card})
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING


@pytest.mark.stripe
def test_refunds_over_the_limit_are_not_granted(client, confirmed_booking, settings):  # noqa: F811
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "refund": (1, 3600)}
    client.force_login(confirmed_booking.mentor.user)
    url = reverse("grant_refund", args=[confirmed_booking.pk])
    client.post(url, {"amount": "5.00"})
    assert limited(client.post(url, {"amount": "5.00"}))
    assert [r.amount_cents for r in Refund.objects.all()] == [500]
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        client.post(url, {"amount": "5.00"})
    assert [r.amount_cents for r in Refund.objects.order_by("pk")] == [500, 500]


def test_photo_uploads_over_the_limit_are_not_processed(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "photo": (1, 3600)}
    mentor = bookable_mentor()
    client.force_login(mentor.user)
    url = reverse("mentor_profile_edit")

    def upload(**extra):
        photo = SimpleUploadedFile("me.png", _image(), content_type="image/png")
        return client.post(url, _profile_form(mentor, photo=photo, **extra))

    assert upload().status_code == 302
    mentor.refresh_from_db()
    first_photo = mentor.photo.name
    assert limited(upload(headline="Changed with a photo"))
    mentor.refresh_from_db()
    assert mentor.photo.name == first_photo and mentor.headline != "Changed with a photo"
    # Saving the profile without a new photo is not limited.
    assert client.post(url, _profile_form(mentor, headline="Changed")).status_code == 302
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert upload().status_code == 302
    mentor.refresh_from_db()
    assert mentor.photo.name != first_photo
