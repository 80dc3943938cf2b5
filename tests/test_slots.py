"""The slot engine: weekly wall-clock hours, busy time, notice and DST."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookings.slots import Interval, WeeklyRange, free_slots, group_by_local_day

NEW_YORK = ZoneInfo("America/New_York")


def slots(ranges, *, zone=NEW_YORK, day, busy=(), duration=60, earliest=None):
    start = datetime.combine(day, time(0), tzinfo=zone)
    return free_slots(
        ranges=ranges,
        zone=zone,
        duration=timedelta(minutes=duration),
        busy=busy,
        window_start=start,
        window_end=start + timedelta(days=1),
        earliest=earliest or start - timedelta(days=1),
    )


def local_times(result, zone=NEW_YORK):
    return [s.astimezone(zone).strftime("%H:%M") for s in result]


def test_hours_are_wall_clock_in_the_mentor_zone_on_both_sides_of_dst():
    nine_to_eleven = [WeeklyRange(weekday, time(9), time(11)) for weekday in range(7)]
    before = slots(nine_to_eleven, day=datetime(2026, 3, 7).date())  # EST, UTC-5
    after = slots(nine_to_eleven, day=datetime(2026, 3, 9).date())  # EDT, UTC-4
    assert local_times(before) == local_times(after) == ["09:00", "09:30", "10:00"]
    assert before[0].hour == 14 and after[0].hour == 13  # the same wall clock, a different UTC hour


def test_a_range_across_the_spring_forward_gap_offers_only_times_that_exist():
    night = [WeeklyRange(6, time(1), time(4))]  # Sunday 8 March 2026: 02:00–03:00 does not exist
    result = slots(night, day=datetime(2026, 3, 8).date(), duration=30)
    assert local_times(result) == ["01:00", "01:30", "03:00", "03:30"]
    assert all(b - a >= timedelta(minutes=30) for a, b in zip(result, result[1:], strict=False))


def test_busy_time_and_notice_remove_slots():
    day = datetime(2026, 6, 10).date()
    ranges = [WeeklyRange(2, time(9), time(12))]
    busy = [Interval(datetime(2026, 6, 10, 14, 0, tzinfo=UTC), datetime(2026, 6, 10, 15, 0, tzinfo=UTC))]  # 10–11 NY
    earliest = datetime(2026, 6, 10, 9, 30, tzinfo=NEW_YORK)
    assert local_times(slots(ranges, day=day, busy=busy, earliest=earliest)) == ["11:00"]


def test_slots_group_by_the_viewers_day():
    sydney = ZoneInfo("Australia/Sydney")
    result = slots([WeeklyRange(2, time(9), time(10))], day=datetime(2026, 6, 10).date(), duration=30)
    ((day, times),) = group_by_local_day(result, sydney)
    assert str(day) == "2026-06-10" and [t.strftime("%H:%M") for t in times] == ["23:00", "23:30"]
