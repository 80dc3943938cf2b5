"""What a beat minute costs with nothing due, and how fast the sweepers get through due work, at the large size.

Run: .venv/bin/python bench/sweepers.py [--bookings 100000] [--due 2000]
Uses a PostgreSQL database of its own (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/bench_sweepers),
built once and reused. Prints a table; nothing is asserted (speed is measured here, not in tests).
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

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from bookings import reminders, services  # noqa: E402
from bookings.models import Booking  # noqa: E402
from mentorship import outbox  # noqa: E402
from notifications import services as notification_services  # noqa: E402
from payments import stuck  # noqa: E402


def build(total: int) -> None:
    """Mentors with bookings across two years: a fifth pending (none of them due), many confirmed coming up."""
    from tests.factories import UserFactory, bookable_mentor

    if Booking.objects.count() >= total:
        return
    Booking.objects.all().delete()
    now = timezone.now()
    from mentorship.models import MentorProfile, User

    UserFactory.reset_sequence(User.objects.count() + 1000)  # a run cut short left some people behind
    mentors = list(MentorProfile.objects.filter(services__isnull=False).distinct()[:100])
    mentors += [bookable_mentor() for _ in range(100 - len(mentors))]
    mentee = User.objects.exclude(mentor_profile__isnull=False).first() or UserFactory()
    S = Booking.Status
    rows = []
    for n in range(total):
        mentor = mentors[n % len(mentors)]
        service = mentor.services.all()[0] if n < len(mentors) else rows[n - len(mentors)].service
        kind = n % 5
        if kind == 0:  # pending, made minutes ago: nothing due for a day
            start, status = now + timedelta(days=3, minutes=40 * n), S.PENDING
        elif kind in (1, 2):  # confirmed, days ahead and already reminded, or in the past awaiting nothing
            start, status = now + timedelta(days=2, minutes=40 * n), S.CONFIRMED
        else:
            start, status = now - timedelta(days=30, minutes=40 * n), S.COMPLETED
        rows.append(
            Booking(
                mentee=mentee,
                mentor=mentor,
                service=service,
                start=start,
                end=start + timedelta(minutes=30),
                blocked_start=start,
                blocked_end=start + timedelta(minutes=30),
                status=status,
                price_cents=4000,
                currency="usd",
                nudge_due_at=now + timedelta(hours=24) if status == S.PENDING else None,
                confirmed_at=now - timedelta(days=1) if status == S.CONFIRMED else None,
            )
        )
    Booking.objects.bulk_create(rows, batch_size=5000)


MINUTE = {
    "sweep_outbox": outbox.sweep,
    "release_expired_holds": services.release_expired_holds,
    "expire_pending_bookings": services.expire_pending_bookings,
    "send_reminders": reminders.run_all,
    "resolve_stuck_payments": stuck.stuck_payments_resolve,
    "retry_failed_emails (5 min)": notification_services.retry_failed_emails,
}


def idle_minute(rounds: int = 5) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in MINUTE}
    for _ in range(rounds):
        for name, job in MINUTE.items():
            began = time.perf_counter()
            job()
            times[name].append((time.perf_counter() - began) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def due_throughput(due: int) -> tuple[str, float, int]:
    """Make `due` pending requests overdue and time the expiry sweeper taking them (refunds go to the outbox)."""
    ids = list(Booking.objects.filter(status=Booking.Status.PENDING).values_list("pk", flat=True)[:due])
    Booking.objects.filter(pk__in=ids).update(created_at=timezone.now() - timedelta(days=30))
    began = time.perf_counter()
    done = services.expire_pending_bookings()
    seconds = time.perf_counter() - began
    return "expire_pending_bookings", done / seconds if seconds else 0.0, done


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=2_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    build(args.bookings)
    from django.db import connection

    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would have them after a bulk load
        cursor.execute("ANALYZE")
    print(f"{Booking.objects.count():,} bookings, {Booking.objects.filter(status='pending').count():,} pending")
    print(f"{'beat minute, nothing due':32s} {'ms (median)':>12s}")
    costs = idle_minute()
    for name, ms in costs.items():
        print(f"  {name:30s} {ms:12.2f}")
    print(f"  {'total':30s} {sum(costs.values()):12.2f}")
    name, rate, done = due_throughput(args.due)
    print(f"{name}: {done} due bookings at {rate:,.0f} per second")
