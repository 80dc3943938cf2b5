"""Reads about bookings and free time."""

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from mentorship.models import MentorProfile, Service

from .models import Booking
from .slots import Interval, WeeklyRange, free_slots


def blocking_bookings(mentor: MentorProfile, *, start: datetime, end: datetime, now: datetime) -> QuerySet[Booking]:
    """Bookings that take the mentor's time in [start, end): held (until the hold runs out), pending, confirmed."""
    return Booking.objects.filter(mentor=mentor, start__lt=end, end__gt=start).filter(
        Q(status__in=[Booking.Status.PENDING, Booking.Status.CONFIRMED])
        | Q(status=Booking.Status.HELD, hold_expires_at__gt=now)
    )


def open_slots(service: Service, *, start: datetime, end: datetime, now: datetime | None = None) -> list[datetime]:
    """Free start times (UTC) of `service` in [start, end): two queries whatever the bookings."""
    now = now or timezone.now()
    mentor = service.mentor
    horizon = now + timedelta(days=mentor.booking_horizon_days)
    end = min(end, horizon)
    if end <= start:
        return []
    ranges = [WeeklyRange(r.weekday, r.start_time, r.end_time) for r in mentor.availability.all()]
    busy = [
        Interval(b_start, b_end)
        for b_start, b_end in blocking_bookings(
            mentor, start=start - timedelta(days=1), end=end + timedelta(days=1), now=now
        ).values_list("start", "end")
    ]
    return free_slots(
        ranges=ranges,
        zone=mentor.user.zone,
        duration=service.duration,
        busy=busy,
        window_start=start,
        window_end=end,
        earliest=now + mentor.minimum_notice,
    )


def is_open(service: Service, start: datetime, *, now: datetime | None = None) -> bool:
    return start in open_slots(service, start=start, end=start + timedelta(seconds=1), now=now)


def bookings_for_mentee(user) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(mentee=user)
        .exclude(status=Booking.Status.ABANDONED)
        .select_related("service", "mentor__user")
        .order_by("-start")
    )


def bookings_for_mentor(mentor: MentorProfile) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(mentor=mentor)
        .exclude(status__in=[Booking.Status.HELD, Booking.Status.ABANDONED])
        .select_related("service", "mentee")
        .order_by("start")
    )


def booking_for_party(user, booking_id: int) -> Booking | None:
    """The booking if `user` is its mentee or mentor (or staff), else None: other people's ids show nothing."""
    booking = Booking.objects.select_related("service", "mentor__user", "mentee").filter(pk=booking_id).first()
    if booking is None or not (booking.is_party(user) or user.is_staff):
        return None
    return booking
