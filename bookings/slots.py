"""The slot engine: from a mentor's weekly hours and busy time to free start times.

Pure functions, no database. Weekly hours are wall-clock times in the mentor's
zone; everything returned is an aware UTC datetime. Within a range, starts are
stepped in absolute time from the range's start, so a range that crosses a
daylight-saving change yields only times that exist, each once.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class WeeklyRange:
    weekday: int  # Monday is 0
    start: time
    end: time


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return start < self.end and self.start < end


def wall_clock_to_utc(day: date, at: time, zone: ZoneInfo, *, fold: int = 0) -> datetime:
    """The UTC instant of a wall-clock time; a time skipped by DST maps forward."""
    return datetime.combine(day, at, tzinfo=zone).replace(fold=fold).astimezone(UTC)


def free_slots(
    *,
    ranges: Iterable[WeeklyRange],
    zone: ZoneInfo,
    duration: timedelta,
    busy: Iterable[Interval],
    window_start: datetime,
    window_end: datetime,
    earliest: datetime,
    interval: timedelta = timedelta(minutes=30),
) -> list[datetime]:
    """Free start times (UTC, sorted) for a session of `duration`.

    A start is free when the whole session lies inside one weekly range on that
    local day, starts at or after `earliest` (now + minimum notice) and inside
    [window_start, window_end), and overlaps no busy interval.
    """
    ranges = list(ranges)
    busy = sorted(busy, key=lambda b: b.start)
    first_day = window_start.astimezone(zone).date() - timedelta(days=1)
    last_day = window_end.astimezone(zone).date()
    found: set[datetime] = set()
    day = first_day
    while day <= last_day:
        for weekly in ranges:
            if weekly.weekday != day.weekday():
                continue
            range_start = wall_clock_to_utc(day, weekly.start, zone)
            range_end = wall_clock_to_utc(day, weekly.end, zone, fold=1)
            start = range_start
            while start + duration <= range_end:
                end = start + duration
                if (
                    start >= earliest
                    and window_start <= start < window_end
                    and not any(b.overlaps(start, end) for b in busy if b.start < end)
                ):
                    found.add(start)
                start += interval
        day += timedelta(days=1)
    return sorted(found)


def group_by_local_day(slots: Iterable[datetime], zone: ZoneInfo) -> list[tuple[date, list[datetime]]]:
    """Slots grouped by the viewer's calendar day, each converted to the viewer's zone."""
    days: dict[date, list[datetime]] = {}
    for slot in slots:
        local = slot.astimezone(zone)
        days.setdefault(local.date(), []).append(local)
    return sorted(days.items())
