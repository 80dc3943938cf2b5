"""The slot engine: from a mentor's schedule and busy time to the free start times of a session.

Pure functions, no database. A schedule is wall-clock time in the mentor's zone:
weekly hours, replaced on some dates by overrides (other hours, or a day off),
and vacations with no hours at all. Everything returned is an aware UTC datetime.

Daylight saving: a wall-clock range is turned into the real interval it surely
covers. A range edge that does not exist (skipped by a spring-forward change) or
exists twice (repeated by a fall-back change) is taken at the instant that keeps
the range shortest, so we never offer a time outside the mentor's hours. Starts
sit on the wall-clock grid from the range start (09:00, 09:30 …), also in zones
whose DST change is 30 minutes; a grid time DST skips is not offered, and one it
repeats is offered once per offset, which `LocalSlot.label` then names.
"""

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mentorship.hours import END_OF_DAY


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


@dataclass(frozen=True)
class Schedule:
    zone: ZoneInfo
    weekly: tuple[WeeklyRange, ...] = ()
    # date -> ranges that replace the weekly hours on that date; an empty tuple is a day off.
    overrides: Mapping[date, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    vacations: tuple[tuple[date, date], ...] = ()  # inclusive date ranges
    interval: timedelta = timedelta(minutes=30)
    max_per_day: int | None = None

    def hours_on(self, day: date) -> list[tuple[time, time]]:
        """The day's ranges, sorted, with touching or overlapping ranges joined (09–12 and 12–17 is 09–17)."""
        if any(first <= day <= last for first, last in self.vacations):
            return []
        if day in self.overrides:
            ranges = sorted(self.overrides[day])
        else:
            ranges = sorted((r.start, r.end) for r in self.weekly if r.weekday == day.weekday())
        joined: list[tuple[time, time]] = []
        for start, end in ranges:
            if joined and start <= joined[-1][1]:
                joined[-1] = (joined[-1][0], max(joined[-1][1], end))
            else:
                joined.append((start, end))
        return joined


def _wall_clock(day: date, at: time) -> datetime:
    if at == END_OF_DAY:
        return datetime.combine(day + timedelta(days=1), time(0))
    return datetime.combine(day, at)


def _instants(local: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Both readings of a naive wall-clock time (equal unless DST skips or repeats it), in UTC."""
    return tuple(local.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))


def existing_instants(local: datetime, zone: ZoneInfo) -> set[datetime]:
    """The real instants a wall-clock time names: none if DST skips it, two if DST repeats it."""
    return {instant for instant in _instants(local, zone) if instant.astimezone(zone).replace(tzinfo=None) == local}


def range_in_utc(day: date, start: time, end: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The real interval a wall-clock range surely covers on `day` (shortest reading at DST edges)."""
    return max(_instants(_wall_clock(day, start), zone)), min(_instants(_wall_clock(day, end), zone))


def _merged(busy: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for interval in sorted(busy, key=lambda b: b.start):
        if merged and interval.start <= merged[-1].end:
            merged[-1] = Interval(merged[-1].start, max(merged[-1].end, interval.end))
        else:
            merged.append(interval)
    return merged


def free_slots(
    schedule: Schedule,
    *,
    duration: timedelta,
    busy: Iterable[Interval],
    window_start: datetime,
    window_end: datetime,
    earliest: datetime,
    buffer_before: timedelta = timedelta(0),
    buffer_after: timedelta = timedelta(0),
    booked_starts: Iterable[datetime] = (),
) -> list[datetime]:
    """Free start times (UTC, sorted) for a session of `duration`.

    A start is free when
    - the session lies inside one range of the mentor's hours for that local day,
    - it starts at or after `earliest` (now + minimum notice) and in [window_start, window_end)
      (the caller caps window_end at the booking horizon),
    - the session widened by its buffers overlaps no `busy` interval (other bookings,
      each already widened by its own buffers), and
    - the mentor's local day has fewer than `max_per_day` sessions in `booked_starts`.
    """
    busy = _merged(busy)
    busy_ends = [b.end for b in busy]
    per_day = Counter(start.astimezone(schedule.zone).date() for start in booked_starts)
    found: set[datetime] = set()
    day = window_start.astimezone(schedule.zone).date() - timedelta(days=1)
    last_day = window_end.astimezone(schedule.zone).date()
    while day <= last_day:
        if schedule.max_per_day is not None and per_day[day] >= schedule.max_per_day:
            day += timedelta(days=1)
            continue
        for range_start_time, range_end_time in schedule.hours_on(day):
            range_start, range_end = range_in_utc(day, range_start_time, range_end_time, schedule.zone)
            # Starts sit on the wall-clock grid (09:00, 09:30 …) whatever DST does that day.
            local, local_end = _wall_clock(day, range_start_time), _wall_clock(day, range_end_time)
            while local < local_end:
                for start in existing_instants(local, schedule.zone):
                    if not (range_start <= start and start + duration <= range_end):
                        continue
                    if start >= earliest and window_start <= start < window_end:
                        blocked_start, blocked_end = start - buffer_before, start + duration + buffer_after
                        # The first busy interval ending after blocked_start is the only one that can overlap.
                        index = bisect_right(busy_ends, blocked_start)
                        if index == len(busy) or busy[index].start >= blocked_end:
                            found.add(start)
                local += schedule.interval
        day += timedelta(days=1)
    return sorted(found)


@dataclass(frozen=True)
class LocalSlot:
    start: datetime  # UTC, the value a booking form sends
    local: datetime  # in the viewer's zone

    @property
    def label(self) -> str:
        """ "14:30", or "01:30 EDT" when that wall-clock time happens twice that day."""
        other = self.local.replace(fold=1 - self.local.fold)
        if other.utcoffset() != self.local.utcoffset():
            return f"{self.local:%H:%M} {self.local.tzname()}"
        return f"{self.local:%H:%M}"


def group_by_local_day(slots: Iterable[datetime], zone: ZoneInfo) -> list[tuple[date, list[LocalSlot]]]:
    """Slots grouped by the viewer's calendar day, in the viewer's zone."""
    days: dict[date, list[LocalSlot]] = {}
    for slot in slots:
        local = slot.astimezone(zone)
        days.setdefault(local.date(), []).append(LocalSlot(slot, local))
    return sorted(days.items())
