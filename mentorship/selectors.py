"""Reads on the people side."""

from itertools import groupby

from django.utils import timezone

from . import hours
from .models import MentorProfile


def upcoming_overrides(profile: MentorProfile) -> list[tuple]:
    """(date, "09:00–12:00" or "Day off") for the mentor's dates from today on, one row per date."""
    rows = profile.date_overrides.filter(date__gte=timezone.localdate()).order_by("date", "start_time")
    result = []
    for day, overrides in groupby(rows, key=lambda o: o.date):
        ranges = [(o.start_time, o.end_time) for o in overrides if not o.is_day_off]
        result.append((day, hours.format_ranges(ranges) if ranges else "Day off"))
    return result
