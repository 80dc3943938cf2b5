"""Reads about bookings and free time."""

import math
from datetime import date, datetime, timedelta

from django.db.models import Avg, Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from mentorship.models import MentorProfile, Service

from .models import Booking, BookingEvent, Review
from .slots import Interval, Schedule, WeeklyRange, free_slots


def blocking_bookings(mentor: MentorProfile, *, start: datetime, end: datetime, now: datetime) -> QuerySet[Booking]:
    """Bookings whose blocked time (session plus buffers) meets [start, end): held until the
    hold runs out, pending and confirmed."""
    return Booking.objects.filter(mentor=mentor, blocked_start__lt=end, blocked_end__gt=start).filter(
        Q(status__in=[Booking.Status.PENDING, Booking.Status.CONFIRMED])
        | Q(status=Booking.Status.HELD, hold_expires_at__gt=now)
    )


def mentor_schedule(mentor: MentorProfile, *, first_day: date, last_day: date) -> Schedule:
    """The mentor's rules for the dates [first_day, last_day]: three queries."""
    overrides: dict[date, list[tuple]] = {}
    for override in mentor.date_overrides.filter(date__range=(first_day, last_day)):
        ranges = overrides.setdefault(override.date, [])
        if not override.is_day_off:
            ranges.append((override.start_time, override.end_time))
    return Schedule(
        zone=mentor.user.zone,
        weekly=tuple(WeeklyRange(r.weekday, r.start_time, r.end_time) for r in mentor.availability.all()),
        overrides={day: tuple(ranges) for day, ranges in overrides.items()},
        vacations=tuple(
            mentor.vacations.filter(start_date__lte=last_day, end_date__gte=first_day).values_list(
                "start_date", "end_date"
            )
        ),
        interval=timedelta(minutes=mentor.slot_interval_minutes),
        max_per_day=mentor.max_sessions_per_day,
    )


def open_slots(
    service: Service, *, start: datetime, end: datetime, now: datetime | None = None, ignoring: int | None = None
) -> list[datetime]:
    """Free start times (UTC) of `service` in [start, end). A fixed number of queries, whatever the bookings.

    `ignoring` leaves one booking out of the busy time (a late payment re-checking its own time).
    """
    now = now or timezone.now()
    mentor = service.mentor
    end = min(end, now + timedelta(days=mentor.booking_horizon_days))
    if end <= start:
        return []
    zone = mentor.user.zone
    # Whole local days around the window (a day can last 25 hours), so the daily cap counts every session.
    margin = timedelta(days=2)
    schedule = mentor_schedule(
        mentor, first_day=(start - margin).astimezone(zone).date(), last_day=(end + margin).astimezone(zone).date()
    )
    taken = (
        blocking_bookings(mentor, start=start - margin, end=end + margin, now=now)
        .exclude(pk=ignoring)
        .values_list("start", "blocked_start", "blocked_end")
    )
    return free_slots(
        schedule,
        duration=service.duration,
        buffer_before=service.buffer_before,
        buffer_after=service.buffer_after,
        busy=[Interval(blocked_start, blocked_end) for _, blocked_start, blocked_end in taken],
        booked_starts=[session_start for session_start, _, _ in taken],
        window_start=start,
        window_end=end,
        earliest=now + mentor.minimum_notice,
    )


def is_open(service: Service, start: datetime, *, now: datetime | None = None, ignoring: int | None = None) -> bool:
    return start in open_slots(service, start=start, end=start + timedelta(seconds=1), now=now, ignoring=ignoring)


def bookings_for_mentee(user) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(mentee=user)
        .exclude(status=Booking.Status.ABANDONED)
        .select_related("service", "mentor__user", "review")
        .prefetch_related("payments")  # for receipt links
        .order_by("-start")
    )


def bookings_for_mentor(mentor: MentorProfile) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(mentor=mentor)
        .exclude(status__in=[Booking.Status.HELD, Booking.Status.ABANDONED])
        .select_related("service", "mentee")
        .order_by("start")
    )


def mentee_booking_sections(user, *, now: datetime) -> dict[str, QuerySet[Booking]]:
    """My Bookings, one query per section so each is counted and paged in the database: what is coming
    (soonest first), what has passed, and what was called off (newest first)."""
    S = Booking.Status
    mine = bookings_for_mentee(user)
    coming = Q(status__in=[S.PENDING, S.CONFIRMED, S.HELD], end__gt=now)
    return {
        "upcoming": mine.filter(coming).order_by("start", "pk"),
        "past": mine.filter(status__in=[S.COMPLETED, S.CONFIRMED, S.PENDING]).exclude(coming).order_by("-start", "-pk"),
        "cancelled": mine.filter(status__in=[S.DECLINED, S.EXPIRED, S.CANCELLED, S.NO_SHOW]).order_by("-start", "-pk"),
    }


def reviews_by_mentee(user) -> QuerySet[Review]:
    """The reviews a mentee gave, newest first, for My Bookings."""
    return (
        Review.objects.filter(mentee=user)
        .select_related("mentee", "booking__service", "booking__mentor__user")
        .order_by("-created_at", "-pk")
    )


def mentor_booking_sections(mentor: MentorProfile, *, now: datetime) -> dict[str, QuerySet[Booking]]:
    """The mentor's Bookings page, one query per section: requests to answer and sessions to mark complete
    (oldest first), confirmed sessions coming up (soonest first), completed and called-off ones (newest first)."""
    S = Booking.Status
    theirs = bookings_for_mentor(mentor)
    return {
        "pending": theirs.filter(status=S.PENDING).order_by("start", "pk"),
        "to_complete": theirs.filter(status=S.CONFIRMED, end__lte=now).order_by("start", "pk"),
        "upcoming": theirs.filter(status=S.CONFIRMED, end__gt=now).order_by("start", "pk"),
        "past": theirs.filter(status=S.COMPLETED).order_by("-start", "-pk"),
        "cancelled": theirs.filter(status__in=[S.DECLINED, S.EXPIRED, S.CANCELLED, S.NO_SHOW]).order_by(
            "-start", "-pk"
        ),
    }


def booking_for_party(user, booking_id: int) -> Booking | None:
    """The booking if `user` is its mentee or mentor (or staff), else None: other people's ids show nothing."""
    booking = Booking.objects.select_related("service", "mentor__user", "mentee").filter(pk=booking_id).first()
    if booking is None or not (booking.is_party(user) or user.is_staff):
        return None
    return booking


def calendar_bookings(user) -> QuerySet[Booking]:
    """A person's sessions for their calendar feed: as mentee or mentor, from 30 days ago on."""
    since = timezone.now() - timedelta(days=30)
    return (
        Booking.objects.filter(Q(mentee=user) | Q(mentor__user=user), start__gte=since)
        .exclude(status__in=[Booking.Status.HELD, Booking.Status.ABANDONED])
        .select_related("service", "mentor__user", "mentee")
        .order_by("start")
    )


def rating_summary(mentor) -> dict:
    """{"average": 4.6 or None, "count": 12} over the mentor's visible reviews."""
    summary = Review.objects.filter(mentor=mentor, hidden_at__isnull=True).aggregate(
        average=Avg("rating"), count=Count("pk")
    )
    if summary["average"] is not None:
        summary["average"] = round(summary["average"], 1)
    return summary


def visible_reviews(mentor, limit: int = 20):
    return Review.objects.filter(mentor=mentor, hidden_at__isnull=True).select_related(
        "mentee", "booking__service", "booking__mentor__user"
    )[:limit]


def typical_response(mentor, *, sample: int = 20, minimum: int = 3) -> timedelta | None:
    """The median time from payment to the mentor's confirmation over their latest confirmations."""
    paid_at = (
        BookingEvent.objects.filter(booking=OuterRef("pk"), to_status=Booking.Status.PENDING)
        .order_by("created_at")
        .values("created_at")[:1]
    )
    rows = (
        Booking.objects.filter(mentor=mentor, confirmed_at__isnull=False)
        .annotate(paid_at=Subquery(paid_at))
        .order_by("-confirmed_at")
        .values_list("paid_at", "confirmed_at")[:sample]
    )
    waits = sorted(confirmed - paid for paid, confirmed in rows if paid is not None and confirmed >= paid)
    if len(waits) < minimum:
        return None
    return waits[len(waits) // 2]


def response_phrase(wait: timedelta | None) -> str:
    """'usually confirms within 2 hours', from a typical wait; empty without enough history."""
    if wait is None:
        return ""
    hours = wait.total_seconds() / 3600
    if hours <= 1:
        return "usually confirms within an hour"
    if hours < 24:
        whole = math.ceil(hours)
        return f"usually confirms within {whole} hours"
    days = math.ceil(hours / 24)
    return f"usually confirms within {days} day{'s' if days != 1 else ''}"
