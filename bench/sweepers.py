"""What a beat minute costs with nothing due, and how fast the sweepers get through due work, at the large size.

Run: .venv/bin/python bench/sweepers.py [--bookings 100000] [--due 2000]
Uses a PostgreSQL database of its own (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_sweepers)
and a reachable Redis broker (REDIS_URL, default redis://127.0.0.1:6379/5): outbox rows are handed to it as in
production, and its queue is purged at the end (no worker consumes it). The bookings are built again on every run,
so no due row or outbox row is left from the last one. Prints a table; nothing is asserted (speed is measured here,
not in tests): each beat job of 10 minutes or less, as beat runs it, with nothing due (median ms), and the rate at
which the sweepers that move bookings get through due ones (the refunds and e-mails they decide are outbox rows;
sending them is a worker's job and not counted).
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_sweepers")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentorship.settings")


def ensure_database() -> None:
    import psycopg

    name = URL.rsplit("/", 1)[1]
    with psycopg.connect(URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


ensure_database()
import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bookings import directory, services  # noqa: E402
from bookings.models import Booking  # noqa: E402
from mentorship.celery import app  # noqa: E402


def build(total: int) -> None:
    """Mentors with bookings across two years: a fifth pending (none of them due), many confirmed coming up,
    the rest completed. Built again on every run (the last run's sweeps changed them)."""
    from mentorship.models import MentorProfile, User
    from tests.factories import UserFactory, bookable_mentor

    with connection.cursor() as cursor:  # what the last run left: bookings and all that hangs off them
        cursor.execute("TRUNCATE bookings_booking, mentorship_outboxentry CASCADE")
    now = timezone.now()
    UserFactory.reset_sequence(User.objects.count() + 1000)  # a run cut short left some people behind
    mentors = list(MentorProfile.objects.filter(services__isnull=False).distinct()[:100])
    mentors += [bookable_mentor() for _ in range(100 - len(mentors))]
    services_of = {mentor.pk: mentor.services.all()[0] for mentor in mentors}
    mentee = User.objects.exclude(mentor_profile__isnull=False).first() or UserFactory()
    S = Booking.Status
    rows = []
    for n in range(total):
        mentor = mentors[n % len(mentors)]
        kind = n % 5
        if kind == 0:  # pending, made just now: nothing due for a day
            start, status = now + timedelta(days=3, minutes=40 * n), S.PENDING
        elif kind in (1, 2):  # confirmed, days ahead and already reminded
            start, status = now + timedelta(days=2, minutes=40 * n), S.CONFIRMED
        else:
            start, status = now - timedelta(days=30, minutes=40 * n), S.COMPLETED
        rows.append(
            Booking(
                mentee=mentee,
                mentor=mentor,
                service=services_of[mentor.pk],
                start=start,
                end=start + timedelta(minutes=30),
                blocked_start=start,
                blocked_end=start + timedelta(minutes=30),
                status=status,
                price_cents=4000,
                currency="usd",
                nudge_due_at=now + timedelta(hours=24) if status == S.PENDING else None,
                confirmed_at=now - timedelta(days=1) if status == S.CONFIRMED else None,
                last_reminder_hours=24 if status == S.CONFIRMED and start < now + timedelta(days=1) else None,
                complete_reminder_sent=status == S.COMPLETED,
            )
        )
    Booking.objects.bulk_create(rows, batch_size=5000)
    directory.refresh_stale_next_free()  # the directory is up to date: nothing for the 10-minute refresh
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would have them after a bulk load
        cursor.execute("ANALYZE")


def beat_jobs(most_minutes: int) -> dict[str, tuple[int, object]]:
    """The beat schedule's jobs that run at least every `most_minutes`, as (minutes, task)."""
    app.loader.import_default_modules()
    jobs = {}
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        minutes = int(entry["schedule"].total_seconds() // 60)
        if minutes <= most_minutes:
            jobs[entry["task"]] = (minutes, app.tasks[entry["task"]])
    return dict(sorted(jobs.items(), key=lambda item: (item[1][0], item[0])))


def idle_minute(rounds: int = 7) -> dict[str, tuple[int, float]]:
    """Each job's body in this process, as a worker runs it (task.run), median of `rounds`."""
    times: dict[str, list[float]] = {}
    jobs = beat_jobs(10)
    for _ in range(rounds):
        for name, (_, task) in jobs.items():
            began = time.perf_counter()
            task.run()
            times.setdefault(name, []).append((time.perf_counter() - began) * 1000)
    return {name: (jobs[name][0], statistics.median(values)) for name, values in times.items()}


def make_due(kind: str, count: int) -> None:
    now = timezone.now()
    S = Booking.Status
    if kind == "expire":  # unanswered requests made longer ago than the timeout
        ids = Booking.objects.filter(status=S.PENDING).values_list("pk", flat=True)[:count]
        Booking.objects.filter(pk__in=list(ids)).update(created_at=now - timedelta(days=30))
    elif kind == "complete":  # sessions held a month ago that nobody marked complete
        ids = Booking.objects.filter(status=S.COMPLETED).values_list("pk", flat=True)[:count]
        Booking.objects.filter(pk__in=list(ids)).update(status=S.CONFIRMED)
    elif kind == "holds":  # holds whose checkout time ran out (taken from pending requests' times)
        ids = Booking.objects.filter(status=S.PENDING).values_list("pk", flat=True)[:count]
        Booking.objects.filter(pk__in=list(ids)).update(status=S.HELD, hold_expires_at=now - timedelta(minutes=1))


THROUGHPUT = {
    "bookings.tasks.expire_pending_bookings": ("expire", services.expire_pending_bookings),
    "bookings.tasks.complete_unmarked_sessions": ("complete", services.complete_unmarked_sessions),
    "bookings.tasks.release_expired_holds": ("holds", services.release_expired_holds),
}


def throughput(name: str, due: int) -> float:
    kind, job = THROUGHPUT[name]
    make_due(kind, due)
    began = time.perf_counter()
    done = job()
    seconds = time.perf_counter() - began
    assert done == due, (name, done, due)
    return done / seconds


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=2_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    build(args.bookings)
    print(f"built in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    pending = Booking.objects.filter(status="pending").count()
    print(f"{Booking.objects.count():,} bookings, {pending:,} pending; {args.due:,} due per sweeper for the rate")
    costs = idle_minute()
    rates = {name: throughput(name, args.due) for name in THROUGHPUT}
    print(f"| {'beat job':45s} | every | ms idle | due bookings/s |")
    print(f"|{'-' * 47}|------:|--------:|---------------:|")
    for name, (minutes, ms) in costs.items():
        rate = f"{rates[name]:,.0f}" if name in rates else ""
        print(f"| {name:45s} | {minutes:>3d} m | {ms:7.2f} | {rate:>14s} |")
    every_minute = sum(ms for minutes, ms in costs.values() if minutes == 1)
    print(f"| {'a beat minute (the 1-minute jobs)':45s} |       | {every_minute:7.2f} |                |")
    app.control.purge()  # the hand-offs of the rate runs: no worker here takes them
