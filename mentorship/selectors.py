"""Reads on the people side."""

from itertools import groupby

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from . import hours, listing
from .models import ConnectedCalendar, MentorProfile


def upcoming_overrides(profile: MentorProfile) -> list[tuple]:
    """(date, "09:00–12:00" or "Day off") for the mentor's dates from today on, one row per date."""
    rows = profile.date_overrides.filter(date__gte=timezone.localdate()).order_by("date", "start_time")
    result = []
    for day, overrides in groupby(rows, key=lambda o: o.date):
        ranges = [(o.start_time, o.end_time) for o in overrides if not o.is_day_off]
        result.append((day, hours.format_ranges(ranges) if ranges else "Day off"))
    return result


def listed_mentors() -> QuerySet[MentorProfile]:
    """Mentors people can find: approved and bookable (an open session type and some hours), as stored
    by mentorship.listing, so the check is one indexed column however many mentors there are."""
    return MentorProfile.objects.filter(listing.listed_q()).select_related("user")


def setup_steps(profile: MentorProfile) -> list[tuple[str, bool, str]]:
    """(step, done, where to do it) for a newly approved mentor, in the order "How it works" gives."""
    return [
        ("Write your profile", bool(profile.headline and profile.bio), "mentor_profile_edit"),
        ("Offer a session type", profile.services.filter(is_active=True).exists(), "mentor_service_new"),
        (
            "Set your hours",
            profile.availability.exists()
            or profile.date_overrides.filter(date__gte=timezone.localdate(), start_time__isnull=False).exists(),
            "mentor_schedule",
        ),
    ]


def connected_calendars(profile: MentorProfile) -> QuerySet[ConnectedCalendar]:
    """The mentor's calendars, each with how many busy times ahead it brings (`busy_ahead`)."""
    return profile.calendars.annotate(busy_ahead=Count("busy", filter=Q(busy__end__gt=timezone.now()))).order_by(
        "created_at", "pk"
    )
