"""The month calendar on a mentor's profile: free days and times for the next few months, from one slot query.

The page sends this as JSON to static/js/calendar.js, which draws the month grid; without JavaScript the page
shows the server-rendered week of times instead (bookings/_slot_picker.html).
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from mentorship.zones import zone_label

from .slots import LocalSlot

# How far ahead the month grid reaches (capped by the mentor's booking horizon): about three months.
PICKER_DAYS = 92


def picker_end(today: datetime, horizon_days: int) -> datetime:
    """The end of the grid's time: today (local midnight) plus the horizon, at most PICKER_DAYS."""
    return today + timedelta(days=min(horizon_days + 1, PICKER_DAYS))


def month_picker(
    slots: list[datetime], *, zone: ZoneInfo, mentor_zone: ZoneInfo, duration: timedelta, today: date, last: date
) -> dict:
    """Free times by the viewer's day, as the calendar script reads them.

    {"today", "last": ISO dates the grid may show, "labels": zone labels,
     "days": {"2026-12-03": [[start ISO, "14:30", "15:00", label index, mentor's "09:30", "10:00",
                              mentor's day when it differs, label index], ...]}}
    The mentor's part is left empty when their clock shows the same time. Labels are told at each slot's
    moment, so a calendar across a DST change names both offsets.
    """
    labels: list[str] = []
    index: dict[tuple, int] = {}

    def label(local: datetime) -> int:
        key = (local.tzinfo.key, local.tzname(), local.utcoffset())
        if key not in index:
            index[key] = len(labels)
            labels.append(zone_label(local.tzinfo.key, local))
        return index[key]

    days: dict[str, list] = {}
    for start in slots:
        local = start.astimezone(zone)
        if local.date() > last:
            break
        end = start + duration
        entry = [start.isoformat(), LocalSlot(start, local).label, f"{end.astimezone(zone):%H:%M}", label(local)]
        theirs = start.astimezone(mentor_zone)
        if theirs.utcoffset() != local.utcoffset():
            other_day = "" if theirs.date() == local.date() else f"{theirs:%A} {theirs.day} {theirs:%B}"
            entry += [f"{theirs:%H:%M}", f"{end.astimezone(mentor_zone):%H:%M}", other_day, label(theirs)]
        days.setdefault(local.date().isoformat(), []).append(entry)
    return {"today": today.isoformat(), "last": last.isoformat(), "labels": labels, "days": days}
