"""The slot engine: wall-clock hours, overrides, vacations, buffers, notice, caps and DST."""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookings.slots import Interval, LocalSlot, Schedule, WeeklyRange, free_slots, group_by_local_day, range_in_utc

NEW_YORK = ZoneInfo("America/New_York")
EVERY_DAY_9_TO_17 = tuple(WeeklyRange(weekday, time(9), time(17)) for weekday in range(7))


def day_slots(schedule, day, *, duration=60, busy=(), earliest=None, **kwargs):
    start = datetime.combine(day, time(0), tzinfo=schedule.zone)
    return free_slots(
        schedule,
        duration=timedelta(minutes=duration),
        busy=busy,
        window_start=start,
        window_end=start + timedelta(days=1),
        earliest=earliest or start - timedelta(days=1),
        **kwargs,
    )


def local_times(result, zone=NEW_YORK):
    return [s.astimezone(zone).strftime("%H:%M") for s in result]


def test_a_range_across_the_spring_forward_gap_offers_only_times_that_exist():
    night = Schedule(NEW_YORK, weekly=(WeeklyRange(6, time(1), time(4)),))  # Sun 8 Mar 2026: 02:00–03:00 skipped
    result = day_slots(night, date(2026, 3, 8), duration=30)
    assert local_times(result) == ["01:00", "01:30", "03:00", "03:30"]


def test_the_repeated_fall_back_hour_is_offered_once_per_offset_and_labelled():
    night = Schedule(NEW_YORK, weekly=(WeeklyRange(6, time(0), time(3)),))  # Sun 1 Nov 2026: 01:00–02:00 twice
    result = day_slots(night, date(2026, 11, 1), duration=60)
    assert len(result) == 7  # 00:00 … 02:00 in real half hours: the wall clock shows 4 h of 3
    labels = [slot.label for _, slots in group_by_local_day(result, NEW_YORK) for slot in slots]
    assert labels == ["00:00", "00:30", "01:00 EDT", "01:30 EDT", "01:00 EST", "01:30 EST", "02:00"]


def test_a_range_edge_that_does_not_exist_or_happens_twice_keeps_the_range_short():
    # Ends at 01:30 on the fall-back day: the first 01:30, so the repeated hour is not offered.
    start, end = range_in_utc(date(2026, 11, 1), time(0), time(1, 30), NEW_YORK)
    assert end - start == timedelta(hours=1, minutes=30)
    # Starts at 02:30 on the spring-forward day, a time that does not exist: after the gap.
    start, _ = range_in_utc(date(2026, 3, 8), time(2, 30), time(5), NEW_YORK)
    assert start.astimezone(NEW_YORK).strftime("%H:%M") == "03:30"


def test_overrides_replace_weekly_hours_and_vacations_remove_days():
    monday = date(2026, 6, 8)
    schedule = Schedule(
        NEW_YORK,
        weekly=EVERY_DAY_9_TO_17,
        overrides={monday: ((time(13), time(15)),), monday + timedelta(days=1): ()},
        vacations=((monday + timedelta(days=2), monday + timedelta(days=3)),),
    )
    assert local_times(day_slots(schedule, monday)) == ["13:00", "13:30", "14:00"]
    assert day_slots(schedule, monday + timedelta(days=1)) == []  # day off
    assert day_slots(schedule, monday + timedelta(days=2)) == day_slots(schedule, monday + timedelta(days=3)) == []
    assert len(day_slots(schedule, monday + timedelta(days=4))) == 15


def test_buffers_keep_time_free_around_other_sessions():
    day = date(2026, 6, 10)
    schedule = Schedule(NEW_YORK, weekly=(WeeklyRange(2, time(9), time(13)),))
    other = datetime(2026, 6, 10, 11, tzinfo=NEW_YORK)
    ours = {"duration": 30, "buffer_before": timedelta(minutes=30), "buffer_after": timedelta(minutes=15)}
    # Another session 11:00–12:00; ours keeps 30 minutes before it and 15 after.
    busy = [Interval(other, other + timedelta(hours=1))]
    assert local_times(day_slots(schedule, day, busy=busy, **ours)) == ["09:00", "09:30", "10:00", "12:30"]
    # If the other session keeps 15 minutes after itself too, 12:30 is too close.
    busy = [Interval(other, other + timedelta(hours=1, minutes=15))]
    assert local_times(day_slots(schedule, day, busy=busy, **ours)) == ["09:00", "09:30", "10:00"]


def test_notice_and_the_daily_cap():
    day = date(2026, 6, 10)
    schedule = Schedule(NEW_YORK, weekly=(WeeklyRange(2, time(9), time(12)),), max_per_day=2)
    earliest = datetime(2026, 6, 10, 10, 30, tzinfo=NEW_YORK)
    assert local_times(day_slots(schedule, day, earliest=earliest)) == ["10:30", "11:00"]
    booked = [datetime(2026, 6, 10, 7, tzinfo=NEW_YORK), datetime(2026, 6, 10, 20, tzinfo=NEW_YORK)]
    assert day_slots(schedule, day, booked_starts=booked) == []
    assert len(day_slots(schedule, day, booked_starts=booked[:1])) == 5


def dst_changes(zone: ZoneInfo, year: int = 2026) -> list[date]:
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(365)]
    offset = [datetime.combine(d, time(12), tzinfo=zone).utcoffset() for d in days]
    return [days[n] for n in range(1, 365) if offset[n] != offset[n - 1]]


ZONE_PAIRS = [  # (mentor, viewer)
    ("America/New_York", "Europe/London"),  # both change, on different dates
    ("Europe/Berlin", "Asia/Kolkata"),  # half-hour viewer without DST
    ("Australia/Sydney", "America/Los_Angeles"),  # southern and northern hemispheres
    ("Asia/Kolkata", "America/New_York"),  # half-hour mentor, viewer with DST
    ("Europe/London", "Australia/Sydney"),
    ("Australia/Lord_Howe", "UTC"),  # a 30-minute DST change
    ("Australia/Adelaide", "Europe/Berlin"),  # half-hour offset with DST
]


@pytest.mark.parametrize(("mentor_zone", "viewer_zone"), ZONE_PAIRS)
def test_wall_clock_hours_hold_around_every_dst_change(mentor_zone, viewer_zone):
    mentor, viewer = ZoneInfo(mentor_zone), ZoneInfo(viewer_zone)
    schedule = Schedule(mentor, weekly=EVERY_DAY_9_TO_17)
    changes = dst_changes(mentor) + dst_changes(viewer)
    assert changes
    for change in changes:
        for day in (change - timedelta(days=1), change, change + timedelta(days=1)):
            result = day_slots(schedule, day)
            local = [s.astimezone(mentor) for s in result]
            # Every day, before and after the change: 09:00, 09:30 … 16:00 on the mentor's clock.
            assert [t.strftime("%H:%M") for t in local] == [
                f"{h:02d}:{m:02d}" for h in range(9, 16) for m in (0, 30)
            ] + ["16:00"], (mentor_zone, day)
            for slot in (s for _, slots in group_by_local_day(result, viewer) for s in slots):
                assert slot.local == slot.start.astimezone(viewer)
                assert slot.label.startswith(slot.local.strftime("%H:%M"))


ZONES = ["America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Sydney", "Australia/Lord_Howe", "UTC"]


@st.composite
def scenarios(draw):
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    weekly = []
    for weekday in range(7):
        cursor = draw(st.integers(0, 20)) * 30
        for _ in range(draw(st.integers(0, 2))):
            length = draw(st.integers(1, 16)) * 30
            if cursor + length > 24 * 60 - 1:
                break
            start, end = cursor, cursor + length
            weekly.append(WeeklyRange(weekday, time(start // 60, start % 60), time(end // 60, end % 60)))
            cursor = end + draw(st.integers(0, 8)) * 30
    window_start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=draw(st.integers(0, 24 * 364)))
    window_end = window_start + timedelta(days=draw(st.integers(1, 10)))
    busy = []
    for _ in range(draw(st.integers(0, 8))):
        start = window_start + timedelta(minutes=15 * draw(st.integers(-100, 1000)))
        busy.append(Interval(start, start + timedelta(minutes=15 * draw(st.integers(1, 12)))))
    return {
        "schedule": Schedule(
            zone,
            weekly=tuple(weekly),
            interval=timedelta(minutes=draw(st.sampled_from([15, 20, 30, 60]))),
            max_per_day=draw(st.none() | st.integers(1, 3)),
        ),
        "duration": timedelta(minutes=draw(st.sampled_from([15, 30, 45, 60, 90]))),
        "buffer_before": timedelta(minutes=draw(st.sampled_from([0, 10, 30]))),
        "buffer_after": timedelta(minutes=draw(st.sampled_from([0, 15, 60]))),
        "busy": busy,
        "booked_starts": [b.start for b in busy],
        "window_start": window_start,
        "window_end": window_end,
        "earliest": window_start + timedelta(hours=draw(st.integers(0, 48))),
    }


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_every_offered_slot_keeps_every_rule(scenario):
    result = free_slots(**scenario)
    schedule, duration = scenario["schedule"], scenario["duration"]
    assert result == sorted(set(result))
    per_day = Counter(s.astimezone(schedule.zone).date() for s in scenario["booked_starts"])
    for start in result:
        end = start + duration
        assert start >= scenario["earliest"]
        assert scenario["window_start"] <= start < scenario["window_end"]
        blocked = (start - scenario["buffer_before"], end + scenario["buffer_after"])
        assert not any(b.overlaps(*blocked) for b in scenario["busy"])
        day = start.astimezone(schedule.zone).date()
        inside = [
            range_in_utc(d, a, b, schedule.zone)
            for d in (day - timedelta(days=1), day)
            for a, b in schedule.hours_on(d)
        ]
        assert any(range_start <= start and end <= range_end for range_start, range_end in inside)
        if schedule.max_per_day is not None:
            assert per_day[day] < schedule.max_per_day


def test_local_slots_group_by_the_viewers_day():
    sydney = ZoneInfo("Australia/Sydney")
    result = day_slots(Schedule(NEW_YORK, weekly=(WeeklyRange(2, time(9), time(10)),)), date(2026, 6, 10), duration=30)
    ((day, slots),) = group_by_local_day(result, sydney)
    assert str(day) == "2026-06-10" and [s.label for s in slots] == ["23:00", "23:30"]
    assert isinstance(slots[0], LocalSlot) and slots[0].start == result[0]


def test_starts_stay_on_the_wall_clock_grid_when_dst_moves_30_minutes():
    lord_howe = ZoneInfo("Australia/Lord_Howe")  # 4 Oct 2026: 02:00 → 02:30
    schedule = Schedule(lord_howe, weekly=(WeeklyRange(6, time(0), time(6)),), interval=timedelta(hours=1))
    assert local_times(day_slots(schedule, date(2026, 10, 4), duration=30), lord_howe) == [
        "00:00",
        "01:00",
        "03:00",
        "04:00",
        "05:00",
    ]


def test_a_day_can_end_at_midnight_and_touching_ranges_join():
    schedule = Schedule(
        NEW_YORK,
        weekly=(
            WeeklyRange(2, time(22), time.max),
            WeeklyRange(3, time(9), time(12)),
            WeeklyRange(3, time(12), time(14)),
        ),
    )
    assert local_times(day_slots(schedule, date(2026, 6, 10))) == ["22:00", "22:30", "23:00"]
    assert "11:30" in local_times(day_slots(schedule, date(2026, 6, 11)))  # 11:30–12:30 spans the join
