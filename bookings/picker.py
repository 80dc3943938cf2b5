"""The month calendar on a mentor's profile: which days of the next few months have free time, and one day's times.

The page carries the free days as a short list of dates and the times of the day it shows; static/js/calendar.js
draws the month grid from them and asks `mentor_times` (JSON) for another day's times when one is picked. Without
JavaScript the page shows the same month as a grid of links (`?day=`), each loading that day's times
(bookings/_picker_month.html).
"""

import calendar
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from mentorship.zones import zone_choices, zone_label

from .slots import LocalSlot

# How far ahead the month grid reaches (capped by the mentor's booking horizon): about three months.
PICKER_DAYS = 92


def picker_end(today: datetime, horizon_days: int) -> datetime:
    """The end of the grid's time: today (local midnight) plus the horizon, at most PICKER_DAYS."""
    return today + timedelta(days=min(horizon_days + 1, PICKER_DAYS))


def free_days(slots: list[datetime], *, zone: ZoneInfo, last: date) -> list[date]:
    """The viewer's days, up to `last`, on which at least one of `slots` starts (sorted, no repeats)."""
    days: list[date] = []
    for start in slots:
        day = start.astimezone(zone).date()
        if day > last:
            break
        if not days or days[-1] != day:
            days.append(day)
    return days


def day_slots(slots: list[datetime], *, zone: ZoneInfo, day: date) -> list[LocalSlot]:
    """The slots that start on the viewer's `day`."""
    shown = (LocalSlot(start, start.astimezone(zone)) for start in slots)
    return [slot for slot in shown if slot.local.date() == day]


def day_times(slots: list[LocalSlot], *, mentor_zone: ZoneInfo, duration: timedelta) -> list[list[str]]:
    """One day's times as the calendar script reads them:

    [[start ISO, "14:30", "15:00", zone label, mentor's "09:30", "10:00", mentor's day when it differs, label], ...]

    The mentor's part is left out when their clock shows the same time. Labels are told at each slot's moment, so
    a day with a DST change names both offsets.
    """
    labels: dict[tuple, str] = {}

    def _label(moment: datetime) -> str:
        key = (moment.tzinfo.key, moment.tzname(), moment.utcoffset())
        if key not in labels:
            labels[key] = zone_label(moment.tzinfo.key, moment)
        return labels[key]

    times = []
    for slot in slots:
        local, end = slot.local, slot.start + duration
        entry = [slot.start.isoformat(), slot.label, f"{end.astimezone(local.tzinfo):%H:%M}", _label(local)]
        theirs = slot.start.astimezone(mentor_zone)
        if theirs.utcoffset() != local.utcoffset():
            other_day = "" if theirs.date() == local.date() else f"{theirs:%A} {theirs.day} {theirs:%B}"
            entry += [f"{theirs:%H:%M}", f"{end.astimezone(mentor_zone):%H:%M}", other_day, _label(theirs)]
        times.append(entry)
    return times


def month_weeks(month: date, *, free: set[date], picked: date, today: date, last: date) -> list[list[dict | None]]:
    """The month of `month` as weeks from Monday, for the grid shown without JavaScript: a cell per day of the
    month ({"n", "iso", "name", "free", "picked"}), None for the days of the neighbouring months. Told here,
    not by template filters: this grid is on every profile view."""
    weeks = calendar.Calendar().monthdatescalendar(month.year, month.month)
    return [
        [
            {
                "n": day.day,
                "iso": day.isoformat(),
                "name": f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}",
                "free": day in free and today <= day <= last,
                "picked": day == picked,
            }
            if day.month == month.month
            else None
            for day in week
        ]
        for week in weeks
    ]


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = tuple(calendar.month_name[1:])


def month_steps(month: date, *, free: list[date], today: date, last: date) -> tuple[date | None, date | None]:
    """The day the "earlier" and "later" month links open: the first free day of that month (its first day, or
    today, when none is free), None past either end of the calendar."""

    def target(first: date) -> date:
        return next((day for day in free if (day.year, day.month) == (first.year, first.month)), max(first, today))

    previous = (month.replace(day=1) - timedelta(days=1)).replace(day=1)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    earlier = target(previous) if previous >= today.replace(day=1) else None
    later = target(following) if following <= last else None
    return earlier, later


def zone_options(selected: str, *, leave_out: set[str]) -> SafeString:
    """The <option>s of the zone select's "Another zone" group, `selected` marked unless it is one of the zones
    offered above the group (`leave_out`). The ~600 options are rendered once an hour, not by each page."""
    html = _zone_options_html(datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    if selected and selected not in leave_out:
        mark = f'<option value="{escape(selected)}">'
        html = html.replace(mark, f'<option value="{escape(selected)}" selected>', 1)
    return mark_safe(html)  # noqa: S308 -- built from escaped zone names and labels only


@lru_cache(maxsize=2)
def _zone_options_html(at: datetime) -> str:
    return "".join(f'<option value="{escape(value)}">{escape(label)}</option>' for value, label in zone_choices(at))
