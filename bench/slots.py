"""How long the slot engine takes for a month of a busy mentor's calendar.

Run: .venv/bin/python bench/slots.py
Prints the median of several runs; nothing is asserted (speed is measured here, not in tests).
"""

import statistics
import sys
import timeit
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bookings.slots import Interval, Schedule, WeeklyRange, free_slots  # noqa: E402


def scenario(bookings: int) -> dict:
    zone = ZoneInfo("America/New_York")
    weekly = tuple(
        WeeklyRange(day, start, end)
        for day in range(7)
        for start, end in ((time(7), time(11)), (time(12), time(17)), (time(18), time(22)))
    )
    start = datetime(2026, 10, 15, tzinfo=UTC)
    busy = [
        Interval(start + timedelta(hours=3 * n), start + timedelta(hours=3 * n, minutes=45)) for n in range(bookings)
    ]
    return {
        "schedule": Schedule(zone, weekly=weekly, interval=timedelta(minutes=15), max_per_day=20),
        "duration": timedelta(minutes=60),
        "busy": busy,
        "booked_starts": [b.start for b in busy],
        "buffer_before": timedelta(minutes=10),
        "buffer_after": timedelta(minutes=10),
        "window_start": start,
        "window_end": start + timedelta(days=31),  # crosses the 1 November DST change
        "earliest": start,
    }


if __name__ == "__main__":
    for bookings in (0, 500):
        kwargs = scenario(bookings)
        runs = timeit.repeat(lambda kwargs=kwargs: free_slots(**kwargs), number=10, repeat=5)
        found = len(free_slots(**kwargs))
        print(
            f"a month of slots, {bookings:3d} bookings: {statistics.median(runs) / 10 * 1000:6.2f} ms ({found} slots)"
        )
