"""Finding mentors: who is listed, and the page that tells mentors how it works."""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mentorship.models import DateOverride, MentorProfile

from .factories import MentorProfileFactory, ServiceFactory, bookable_mentor

pytestmark = pytest.mark.django_db


def test_only_approved_and_bookable_mentors_are_listed(client):
    listed = bookable_mentor(user__display_name="Listed Lena")
    bookable_mentor(user__display_name="Applied Arjun", status=MentorProfile.Status.APPLIED)
    ServiceFactory(mentor=MentorProfileFactory(user__display_name="No Hours Nora"))  # a service, no hours
    closed = bookable_mentor(user__display_name="Closed Chloe")
    closed.services.update(is_active=False)
    dated = MentorProfileFactory(user__display_name="Dated Dan")  # no weekly hours, one open date
    ServiceFactory(mentor=dated)
    DateOverride.objects.create(
        mentor=dated, date=timezone.localdate() + timedelta(days=3), start_time=time(9), end_time=time(12)
    )
    page = client.get(reverse("home")).content.decode()
    assert listed.user.display_name in page and "Dated Dan" in page
    for hidden in ("Applied Arjun", "No Hours Nora", "Closed Chloe"):
        assert hidden not in page


def test_how_it_works_for_mentors_walks_through_the_steps_with_our_real_terms(client, settings):
    settings.PLATFORM_FEE_PERCENT, settings.PAYOUT_MINIMUM_CENTS = 15, 1000
    page = client.get(reverse("how_it_works_mentors")).content.decode()
    for step in ("Apply", "Add session types and prices", "Set your hours", "Connect Stripe", "Get paid"):
        assert step in page
    assert "platform fee of 15%" in page and "reaches $10.00" in page
    assert reverse("become_mentor") in page
