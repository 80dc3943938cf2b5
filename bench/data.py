"""The benchmark's data sets, built with bulk inserts into whatever database Django is set up with.

    from bench.data import SIZES, build
    made = build(SIZES["large"])   # an empty, migrated database
    made.busy_mentor_id, made.session_booking_id, ...

The large set is the one issue 14 measures: 10,000 listed mentors with two services and weekly hours each;
a mentor with 5,000 bookings, 5,000 ledger entries and 1,000 notifications (the "busy" mentor: Bookings,
Earnings, Notifications, the profile with slots); a mentor with 1,000 sessions (the calendar feed); a mentee
with 500 bookings (My Bookings); 100,000 bookings in all, most of them past and completed, some reviewed.
Rows are written with bulk_create, not through the services: the point is the size of what pages read, and
the services' side effects (e-mails, Stripe) would make a large set take hours.

Times lie on a lattice per mentor (3 hours apart, none overlapping), so PostgreSQL's exclusion constraint on
a mentor's blocking bookings holds. The same seed gives the same data.
"""

import random
import secrets
from dataclasses import dataclass
from datetime import time, timedelta
from decimal import ROUND_DOWN, Decimal

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from bookings.models import Booking, Review
from bookings.reviews import RATING_PLACES
from mentorship import listing
from mentorship.models import AvailabilityRule, MentorProfile, Service, User
from notifications.models import CalendarFeed, Notification
from payments.models import LedgerEntry

PASSWORD = "bench-password"
BATCH = 2000
SPACING = timedelta(hours=3)
TOPICS = ["Django", "Python", "careers", "React", "system design", "data science", "leadership", "Go", "SQL"]
LANGUAGES = ["English", "Spanish", "German", "French", "Portuguese", "Hindi"]
ZONES = ["America/New_York", "Europe/London", "Europe/Berlin", "Asia/Kolkata", "America/Los_Angeles"]


@dataclass(frozen=True)
class Size:
    mentors: int  # listed (approved) mentors
    mentees: int
    busy_bookings: int  # the busy mentor's bookings, and as many ledger entries
    feed_bookings: int  # the calendar-feed mentor's sessions
    mentee_bookings: int  # the busy mentee's bookings (My Bookings)
    total_bookings: int
    notifications: int  # the busy mentor's; the busy mentee gets half as many


SIZES = {
    "tiny": Size(
        mentors=30,
        mentees=10,
        busy_bookings=40,
        feed_bookings=20,
        mentee_bookings=10,
        total_bookings=200,
        notifications=20,
    ),  # fmt: skip
    "small": Size(
        mentors=100,
        mentees=50,
        busy_bookings=50,
        feed_bookings=20,
        mentee_bookings=10,
        total_bookings=1_000,
        notifications=20,
    ),  # fmt: skip
    "large": Size(
        mentors=10_000,
        mentees=2_000,
        busy_bookings=5_000,
        feed_bookings=1_000,
        mentee_bookings=500,
        total_bookings=100_000,
        notifications=1_000,
    ),  # fmt: skip
}


@dataclass(frozen=True)
class Made:
    """The ids the benchmark's pages need."""

    busy_mentor_id: int  # MentorProfile
    busy_mentor_user_id: int
    feed_mentor_user_id: int
    mentee_id: int  # the busy mentee (User)
    staff_id: int
    session_booking_id: int  # confirmed, upcoming, between the busy mentor and the busy mentee
    held_booking_id: int  # the busy mentee's checkout
    feed_token: str
    bookings: int


def _bulk(model, rows):
    made = []
    rows = list(rows)
    for at in range(0, len(rows), BATCH):
        made.extend(model.objects.bulk_create(rows[at : at + BATCH]))
    return made


class _Lattice:
    """Free times per mentor: past ones going back from now, future ones going forward from tomorrow."""

    def __init__(self, now):
        self.now = now.replace(minute=0, second=0, microsecond=0)
        self.past: dict[int, int] = {}
        self.future: dict[int, int] = {}

    def take(self, mentor_id: int, *, past: bool):
        counters = self.past if past else self.future
        n = counters.get(mentor_id, 0)
        counters[mentor_id] = n + 1
        if past:
            return self.now - (n + 1) * SPACING - timedelta(days=1)
        return self.now + timedelta(days=1) + n * SPACING


def _booking(rng, lattice, service, mentee_id, *, past: bool, status: str | None = None) -> Booking:
    start = lattice.take(service.mentor_id, past=past)
    if status is None:
        if past:
            status = rng.choices(["completed", "cancelled", "declined"], weights=[85, 10, 5])[0]
        else:
            status = rng.choices(["confirmed", "pending", "cancelled"], weights=[70, 20, 10])[0]
    end = start + timedelta(minutes=service.duration_minutes)
    return Booking(
        mentee_id=mentee_id,
        mentor_id=service.mentor_id,
        service=service,
        start=start,
        end=end,
        blocked_start=start,
        blocked_end=end,
        status=status,
        message="Would like to talk about my next role.",
        price_cents=service.price_cents,
        currency="usd",
        confirmed_at=start - timedelta(days=2) if status in ("confirmed", "completed") else None,
    )


def build(size: Size, *, seed: int = 14, tag: str = "") -> Made:
    """Write the data set into the (empty, migrated) database and return the ids the pages need.

    A `tag` in the e-mail addresses lets a second set go into the same database (the query-count tests).
    """
    rng = random.Random(seed)
    now = timezone.now()
    password = make_password(PASSWORD)

    mentor_users = _bulk(
        User,
        (
            User(
                email=f"mentor{i}{tag}@bench.example",
                display_name=f"Mentor {i:05d} {rng.choice(['Ana', 'Bo', 'Chen', 'Dara', 'Eli'])}",
                time_zone=rng.choice(ZONES),
                password=password,
            )
            for i in range(size.mentors)
        ),
    )
    mentee_users = _bulk(
        User,
        (
            User(email=f"mentee{i}{tag}@bench.example", display_name=f"Mentee {i:05d}", password=password)
            for i in range(size.mentees)
        ),
    )
    staff = User.objects.create(
        email=f"staff{tag}@bench.example",
        display_name="Bench Staff",
        password=password,
        is_staff=True,
        is_superuser=True,
    )
    mentors = _bulk(
        MentorProfile,
        (
            MentorProfile(
                user=user,
                headline=f"{rng.choice(TOPICS)} mentor with {rng.randint(3, 20)} years of practice",
                bio="I help engineers grow, one session at a time.",
                bio_html="<p>I help engineers grow, one session at a time.</p>",
                expertise=", ".join(rng.sample(TOPICS, 3)),
                languages=", ".join(rng.sample(LANGUAGES, 2)),
                status=MentorProfile.Status.APPROVED,
                next_free_at=now + timedelta(hours=rng.randint(2, 24 * 20)),
            )
            for user in mentor_users
        ),
    )
    services = _bulk(
        Service,
        (
            Service(mentor=mentor, title=title, duration_minutes=minutes, price_cents=rng.randint(20, 200) * 100)
            for mentor in mentors
            for title, minutes in (("30-min intro", 30), ("60-min deep dive", 60))
        ),
    )
    _bulk(
        AvailabilityRule,
        (
            AvailabilityRule(mentor=mentor, weekday=day, start_time=time(9), end_time=time(17))
            for mentor in mentors
            for day in range(7)
        ),
    )
    intro = {service.mentor_id: service for service in services if service.duration_minutes == 30}

    busy, feed = mentors[0], mentors[1]
    mentee = mentee_users[0]
    others = mentors[2:]
    lattice = _Lattice(now)
    rows: list[Booking] = []

    def mentee_of_crowd() -> int:
        return mentee_users[rng.randrange(1, len(mentee_users))].pk

    # The busy mentor: mostly history. The first upcoming one is the session page's.
    session = _booking(rng, lattice, intro[busy.pk], mentee.pk, past=False, status="confirmed")
    rows.append(session)
    for n in range(size.busy_bookings - 1):
        rows.append(_booking(rng, lattice, intro[busy.pk], mentee_of_crowd(), past=n % 5 != 0))
    for n in range(size.feed_bookings):
        rows.append(_booking(rng, lattice, intro[feed.pk], mentee_of_crowd(), past=n % 3 != 0))
    # The busy mentee's bookings, spread over a few mentors; one held for checkout.
    pool = others[: max(1, size.mentee_bookings // 20)]
    for n in range(size.mentee_bookings - 1):
        rows.append(_booking(rng, lattice, intro[pool[n % len(pool)].pk], mentee.pk, past=n % 4 != 0))
    held = _booking(rng, lattice, intro[others[-1].pk], mentee.pk, past=False, status="held")
    held.hold_expires_at = now + timedelta(days=30)  # no sweeper runs during the benchmark
    rows.append(held)
    # Everyone else's, to make up the total.
    for n in range(max(0, size.total_bookings - len(rows))):
        mentor = others[n % len(others)]
        rows.append(_booking(rng, lattice, intro[mentor.pk], mentee_of_crowd(), past=rng.random() < 0.8))
    rows = _bulk(Booking, rows)

    reviews = (
        Review(booking=b, mentor_id=b.mentor_id, mentee_id=b.mentee_id, rating=rng.choice([3, 4, 4, 5, 5, 5]))
        for b in rows
        if b.status == "completed" and rng.random() < 0.3
    )
    reviews = _bulk(Review, reviews)
    # The directory reads stored columns the services keep; bulk inserts skip the services, so fill them here.
    listing.refresh(*(mentor.pk for mentor in mentors))
    ratings: dict[int, list[int]] = {}
    for review in reviews:
        ratings.setdefault(review.mentor_id, []).append(review.rating)
    rated = MentorProfile.objects.in_bulk(list(ratings))
    for mentor_id, given in ratings.items():
        rated[mentor_id].rating_count = len(given)
        rated[mentor_id].rating_average = (Decimal(sum(given)) / len(given)).quantize(RATING_PLACES, ROUND_DOWN)
    MentorProfile.objects.bulk_update(rated.values(), ["rating_count", "rating_average"], batch_size=BATCH)

    busy_rows = [b for b in rows if b.mentor_id == busy.pk]
    _bulk(
        LedgerEntry,
        (
            LedgerEntry(
                mentor=busy,
                kind=LedgerEntry.Kind.SESSION_SHARE,
                amount_cents=b.price_cents * 85 // 100,
                source=f"bench-share-{b.pk}",
                booking=b,
            )
            if b.status == "completed"
            else LedgerEntry(
                mentor=busy, kind=LedgerEntry.Kind.PAYOUT, amount_cents=-1000, source=f"bench-payout-{b.pk}"
            )
            for b in busy_rows[: size.busy_bookings]
        ),
    )

    def notices(user, bookings, count):
        for n, b in enumerate(bookings[:count]):
            yield Notification(
                user=user,
                booking=b,
                kind="booking_confirmed",
                key=f"bench-{user.pk}-{b.pk}",
                subject=f"Session on {b.start:%d %b} confirmed",
                body="Your session is confirmed.",
                link=f"/bookings/{b.pk}/",
                email_status=Notification.Email.SENT,
                read_at=None if n % 10 == 0 else now,
            )

    _bulk(Notification, notices(busy.user, busy_rows, size.notifications))
    _bulk(Notification, notices(mentee, [b for b in rows if b.mentee_id == mentee.pk], size.notifications // 2))
    feed_token = secrets.token_urlsafe(32)
    CalendarFeed.objects.create(user=feed.user, token=feed_token)

    return Made(
        busy_mentor_id=busy.pk,
        busy_mentor_user_id=busy.user_id,
        feed_mentor_user_id=feed.user_id,
        mentee_id=mentee.pk,
        staff_id=staff.pk,
        session_booking_id=session.pk,
        held_booking_id=held.pk,
        feed_token=feed_token,
        bookings=len(rows),
    )


def session_cookie(user_id: int) -> str:
    """A signed-in session for the user, written where the app reads sessions: its key is the cookie's value."""
    from importlib import import_module

    from django.conf import settings

    user = User.objects.get(pk=user_id)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def pages(made: Made) -> list[tuple[str, str, int | None]]:
    """(name, path, signed-in user id or None) for every page the benchmark measures."""
    return [
        ("hello", "/bench/hello/", None),
        ("home", "/", None),
        ("home (signed in)", "/", made.mentee_id),
        ("directory sorted by price", "/?sort=price", None),
        ("directory search", "/?q=django", None),
        ("directory filters", "/?expertise=Python&format=online&max_price=150&free_within=14", None),
        (
            "directory filters (signed in)",
            "/?expertise=Python&format=online&max_price=150&free_within=14",
            made.mentee_id,
        ),
        ("mentor profile with slots", f"/mentors/{made.busy_mentor_id}/", None),
        ("mentor profile with slots (signed in)", f"/mentors/{made.busy_mentor_id}/", made.mentee_id),
        ("checkout", f"/checkout/{made.held_booking_id}/", made.mentee_id),
        ("session page (mentor)", f"/bookings/{made.session_booking_id}/", made.busy_mentor_user_id),
        ("session page (mentee)", f"/bookings/{made.session_booking_id}/", made.mentee_id),
        ("mentor's Bookings", "/mentor/bookings/", made.busy_mentor_user_id),
        ("My Bookings", "/bookings/", made.mentee_id),
        ("Earnings", "/mentor/earnings/", made.busy_mentor_user_id),
        ("Notifications", "/notifications/", made.busy_mentor_user_id),
        ("calendar feed", f"/calendar/{made.feed_token}.ics", None),
        ("admin bookings list", "/admin/bookings/booking/", made.staff_id),
    ]
