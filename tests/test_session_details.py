"""What the mentor must know before a session: accessibility needs; and where in-person sessions happen."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from bookings import selectors, services
from bookings.models import Booking
from mentorship.models import Service

from .factories import ServiceFactory, UserFactory, bookable_mentor
from .test_payments import pay

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]


def _first_slot(service):
    now = timezone.now()
    return selectors.open_slots(service, start=now + timedelta(days=3), end=now + timedelta(days=5))[0]


def test_needs_saved_in_settings_are_offered_at_booking_and_the_mentor_sees_them_on_the_request(client, stripe_server):
    mentor = bookable_mentor()
    mentee = UserFactory()
    client.force_login(mentee)
    client.post(
        reverse("account_settings"),
        {"display_name": "Ana", "time_zone": "Europe/Madrid", "accessibility_needs": "Captions, please"},
    )
    mentee.refresh_from_db()
    assert mentee.accessibility_needs == "Captions, please"
    profile = client.get(reverse("mentor_profile", args=[mentor.pk])).content.decode()
    assert "Captions, please</textarea>" in profile  # offered again at booking
    service = mentor.services.get(duration_minutes=30)
    response = client.post(
        reverse("book", args=[mentor.pk]),
        {
            "service": service.pk,
            "start": _first_slot(service).isoformat(),
            "accessibility_needs": "Captions, and a slower pace",  # changed for this booking
        },
    )
    booking = Booking.objects.get()
    assert response.url == reverse("checkout", args=[booking.pk])
    assert booking.accessibility_needs == "Captions, and a slower pace"
    pay(stripe_server, booking)
    request_mail = next(m for m in mail.outbox if m.to == [mentor.user.email])
    assert "Accessibility needs: Captions, and a slower pace" in request_mail.body
    client.force_login(mentor.user)
    assert "Captions, and a slower pace" in client.get(reverse("mentor_bookings")).content.decode()
    assert "Captions, and a slower pace" in client.get(reverse("booking_detail", args=[booking.pk])).content.decode()


def test_a_booking_message_with_a_card_number_is_refused(client):
    mentor = bookable_mentor()
    client.force_login(UserFactory())
    service = mentor.services.get(duration_minutes=30)
    response = client.post(
        reverse("book", args=[mentor.pk]),
        {"service": service.pk, "start": _first_slot(service).isoformat(), "message": "card 4242424242424242"},
        follow=True,
    )
    assert "looks like it contains a card number" in response.content.decode()
    assert not Booking.objects.exists()


def test_an_in_person_service_needs_an_address(client):
    mentor = bookable_mentor()
    client.force_login(mentor.user)
    form = {"title": "Walk and talk", "format": "in_person", "duration_minutes": 60, "price": "90", "is_active": "on"}
    response = client.post(reverse("mentor_service_new"), form)
    assert "Give the address where in-person sessions take place." in response.content.decode()
    assert not Service.objects.filter(title="Walk and talk").exists()
    form |= {"address": "Torstraße 1, 10119 Berlin", "access_notes": "Ring 'Studio', 2nd floor, lift"}
    assert client.post(reverse("mentor_service_new"), form).status_code == 302
    service = Service.objects.get(title="Walk and talk")
    assert (service.format, service.address) == ("in_person", "Torstraße 1, 10119 Berlin")


def test_an_in_person_session_shows_the_address_and_access_notes_instead_of_a_meeting_link(client, stripe_server):
    mentor = bookable_mentor()
    service = ServiceFactory(
        mentor=mentor,
        title="Coffee chat",
        format="in_person",
        address="Torstraße 1, 10119 Berlin",
        access_notes="Ring 'Studio', 2nd floor, lift",
    )
    mentee = UserFactory()
    booking = services.booking_hold(mentee=mentee, service=service, start=_first_slot(service))
    pay(stripe_server, booking)
    mail.outbox.clear()
    services.booking_confirm(booking.pk, actor=mentor.user)
    booking.refresh_from_db()
    assert booking.meeting_link == ""  # no video room for a meeting in a café
    confirmation = next(m for m in mail.outbox if m.to == [mentee.email])
    assert "Where: Torstraße 1, 10119 Berlin (in person)" in confirmation.body
    assert "Access notes: Ring 'Studio', 2nd floor, lift" in confirmation.body
    (event,) = Calendar.from_ical(confirmation.attachments[0][1]).walk("VEVENT")
    assert str(event["location"]) == "Torstraße 1, 10119 Berlin"
    client.force_login(mentee)
    page = client.get(reverse("booking_detail", args=[booking.pk])).content.decode()
    assert "Torstraße 1, 10119 Berlin" in page and "2nd floor, lift" in page
    assert ">Join<" not in page
    profile = client.get(reverse("mentor_profile", args=[mentor.pk]) + f"?service={service.pk}").content.decode()
    assert "In person:</strong> Torstraße 1, 10119 Berlin" in profile


def test_a_mentor_orders_session_types_and_the_profile_follows(client):
    mentor = bookable_mentor()  # 30-min intro, then 60-min deep dive
    deep_dive = mentor.services.get(duration_minutes=60)
    client.force_login(mentor.user)
    client.post(reverse("mentor_service_move", args=[deep_dive.pk]), {"direction": "up"})
    profile = client.get(reverse("mentor_profile", args=[mentor.pk])).content.decode()
    assert profile.index("60-min deep dive") < profile.index("30-min intro")
    someone_else = bookable_mentor().services.first()
    response = client.post(reverse("mentor_service_move", args=[someone_else.pk]), {"direction": "up"})
    assert response.status_code == 404


def test_a_session_types_own_terms_are_shown_before_paying_and_kept_on_the_booking(client):
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    intro.policy = "Send your CV a day ahead; more than 10 minutes late counts as a no-show."
    intro.save()
    mentee = UserFactory()
    booking = services.booking_hold(mentee=mentee, service=intro, start=_first_slot(intro))
    intro.policy = "Changed later"
    intro.save()
    booking.refresh_from_db()
    assert booking.service_policy == "Send your CV a day ahead; more than 10 minutes late counts as a no-show."
    client.force_login(mentee)
    page = client.get(reverse("checkout", args=[booking.pk])).content.decode()
    assert "30-min intro: Send your CV a day ahead" in page
