"""Demo data for `make run`. Safe to run again: it updates what exists."""

from datetime import time

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from bookings import directory, packages
from mentorship import listing
from mentorship.models import AvailabilityRule, MentorProfile, Service, User

PASSWORD = "demo-password"
WEEKDAYS = range(5)

MENTORS = [
    {
        "email": "mentor@example.com",
        "name": "Maya Mentor",
        "zone": "America/New_York",
        "headline": "Staff engineer · Django, system design and growing into senior roles",
        "bio": (
            "Twelve years building web products. I help engineers design systems, review code and plan their next step."
        ),
        "expertise": "Django, Python, system design, career growth",
        "hours": (time(9), time(17)),
        "services": [("30-min intro", 30, 4000), ("60-min deep dive", 60, 7500)],
    },
    {
        "email": "lena@example.com",
        "name": "Lena Schmidt",
        "zone": "Europe/Berlin",
        "headline": "Engineering manager · hiring, leading teams, first-time managers",
        "bio": "I led teams of 5 to 40 people. Let's talk about your first management role, hiring or team health.",
        "expertise": "Leadership, hiring, engineering management",
        "hours": (time(8), time(14)),
        "services": [
            ("45-min leadership session", 45, 6000),
            (
                "In-person coffee chat",
                45,
                5000,
                {
                    "format": Service.Format.IN_PERSON,
                    "address": "Rosenthaler Str. 72a, 10119 Berlin",
                    "access_notes": "Ground floor, step-free entrance. I sit at the long table at the back.",
                },
            ),
        ],
    },
    {
        "email": "arjun@example.com",
        "name": "Arjun Rao",
        "zone": "Asia/Kolkata",
        "headline": "Data engineer · pipelines, SQL and analytics careers",
        "bio": "From analyst to data platform lead. I review pipelines and help you prepare for data interviews.",
        "expertise": "SQL, data engineering, interviews",
        "hours": (time(18), time(22)),
        "services": [("30-min SQL review", 30, 3000), ("60-min interview practice", 60, 5500)],
    },
    {
        "email": "chloe@example.com",
        "name": "Chloe Nguyen",
        "zone": "Australia/Sydney",
        "headline": "Product designer · portfolios, UX research and design systems",
        "bio": "Ten years in product design. Bring your portfolio or a design problem.",
        "expertise": "UX, product design, portfolios",
        "hours": (time(7), time(11)),
        "services": [
            ("60-min portfolio review", 60, 6500),
            ("15-min intro call", 15, 0, {"free_sessions_per_mentee": 1}),  # free, once per mentee
        ],
    },
]


def _user(email: str, name: str, zone: str, **extra) -> User:
    user, _ = User.objects.update_or_create(email=email, defaults={"display_name": name, "time_zone": zone, **extra})
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


class Command(BaseCommand):
    help = "Create (or refresh) the demo mentee, mentors and staff user. Password for all: demo-password."

    @transaction.atomic
    def handle(self, *args, **options):
        _user("mentee@example.com", "Sam Mentee", "Europe/London")
        _user("staff@example.com", "Staff Person", "UTC", is_staff=True, is_superuser=True)
        for spec in MENTORS:
            user = _user(spec["email"], spec["name"], spec["zone"])
            profile, _ = MentorProfile.objects.update_or_create(
                user=user,
                defaults={
                    "headline": spec["headline"],
                    "bio": spec["bio"],
                    "expertise": spec["expertise"],
                    "status": MentorProfile.Status.APPROVED,
                },
            )
            for title, minutes, price, *extra in spec["services"]:
                Service.objects.update_or_create(
                    mentor=profile,
                    title=title,
                    defaults={
                        "duration_minutes": minutes,
                        "price_cents": price,
                        "is_active": True,
                        **(extra or [{}])[0],
                    },
                )
            if not profile.availability.exists():
                start, end = spec["hours"]
                AvailabilityRule.objects.bulk_create(
                    AvailabilityRule(mentor=profile, weekday=day, start_time=start, end_time=end) for day in WEEKDAYS
                )
        maya = MentorProfile.objects.get(user__email="mentor@example.com")
        intro = maya.services.get(title="30-min intro")
        if not maya.packages.exists():
            packages.package_save(maya, service=intro, sessions=5, price_cents=17000, valid_days=90)
        listing.refresh()  # the hours above were bulk-created, which skips the signals that keep the listing
        # The directory's "next free time" (normally kept by bookings and a periodic job).
        transaction.on_commit(directory.refresh_all_next_free)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data ready. Log in as mentee@example.com, mentor@example.com or staff@example.com "
                f"with password {PASSWORD}."
            )
        )
