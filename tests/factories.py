"""Test data. Bookings and payments are made through the real services, not factories."""

from datetime import time

import factory
from allauth.account.models import EmailAddress

from mentorship.models import AvailabilityRule, MentorProfile, Service, User

PASSWORD = "a-good-test-password"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Faker("name")
    time_zone = "Europe/London"

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class MentorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MentorProfile

    user = factory.SubFactory(UserFactory, time_zone="America/New_York")
    headline = "Staff engineer who loves teaching"
    bio = "I help engineers grow."
    expertise = "Django, careers"
    status = MentorProfile.Status.APPROVED


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    mentor = factory.SubFactory(MentorProfileFactory)
    title = "30-min intro"
    duration_minutes = 30
    price_cents = 4000


def weekly_hours(mentor: MentorProfile, start=time(9), end=time(17), days=range(7)) -> None:
    for day in days:  # saved one by one, so the mentor's stored listing follows (mentorship.listing)
        AvailabilityRule.objects.create(mentor=mentor, weekday=day, start_time=start, end_time=end)


def bookable_mentor(**kwargs) -> MentorProfile:
    """An approved mentor with a 30- and a 60-minute service, open 09:00–17:00 every day in New York."""
    mentor = MentorProfileFactory(**kwargs)
    ServiceFactory(mentor=mentor, title="30-min intro", duration_minutes=30, price_cents=4000)
    ServiceFactory(mentor=mentor, title="60-min deep dive", duration_minutes=60, price_cents=7500)
    weekly_hours(mentor)
    return mentor
