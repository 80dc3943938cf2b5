"""Reads about bookings and free time."""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.core.cache import cache
from django.db.models import Avg, Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from mentorship.models import BusyInterval, MentorProfile, Service

from . import policies
from .models import Booking, BookingEvent, Review
from .slots import Interval, Schedule, WeeklyRange, free_slots


def blocking_bookings(mentor: MentorProfile, *, start: datetime, end: datetime, now: datetime) -> QuerySet[Booking]:
    """Bookings whose blocked time (session plus buffers) meets [start, end): held until the
    hold runs out, pending and confirmed."""
    return Booking.objects.filter(mentor=mentor, blocked_start__lt=end, blocked_end__gt=start).filter(
        Q(status__in=[Booking.Status.PENDING, Booking.Status.CONFIRMED])
        | Q(status=Booking.Status.HELD, hold_expires_at__gt=now)
    )


def counted_booking_ids(mentor_id: int) -> set[int]:
    """The mentor's bookings the slot engine counts as busy already (a copy of one in their own calendar is not
    a second meeting): held, pending and confirmed."""
    statuses = [Booking.Status.HELD, Booking.Status.PENDING, Booking.Status.CONFIRMED]
    return set(Booking.objects.filter(mentor_id=mentor_id, status__in=statuses).values_list("pk", flat=True))


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
    """Free start times (UTC) of `service` in [start, end), for showing: from the slot cache when the mentor's
    free time has not changed since it was computed. A fixed number of queries, whatever the bookings.

    Booking never relies on this list: holds, payments and moves check the database under the mentor's lock
    (is_open). `ignoring` leaves one booking out of the busy time (a late payment re-checking its own time,
    a move) and always computes afresh.
    """
    now = now or timezone.now()
    mentor = service.mentor
    end = min(end, now + timedelta(days=mentor.booking_horizon_days))
    if end <= start:
        return []
    if ignoring is not None:
        return _compute_open_slots(service, start=start, end=end, now=now, ignoring=ignoring)
    # Whole UTC days, so every visitor's window (and each minute's `now`) shares one computed list, read
    # through the filters that depend on the moment: notice, horizon and the window asked for.
    day_start = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day_end = end.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    version = MentorProfile.objects.filter(pk=mentor.pk).values_list("availability_version", flat=True).first()
    key = f"slots:{service.pk}:{version}:{day_start:%Y%m%d}:{day_end:%Y%m%d}"
    entry = cache.get(key)
    # Holds keep time busy until they run out: a list is good from when it was computed until the first
    # hold it counted runs out (by then the release sweeper has bumped the version anyway).
    if entry is None or not entry["from"] <= now < entry["until"]:
        slots, until = _compute_open_slots(service, start=day_start, end=day_end, now=now, earliest=day_start)
        entry = {"from": now, "until": until or now + SLOT_CACHE_TTL, "slots": slots}
        cache.set(key, entry, SLOT_CACHE_TTL.total_seconds())
    earliest = max(start, now + mentor.minimum_notice)
    return [slot for slot in entry["slots"] if earliest <= slot < end]


# A cached slot list is keyed by the mentor's availability version, so it never outlives a change made
# through the services; the time limit bounds anything changed behind their back (a shell, the database).
SLOT_CACHE_TTL = timedelta(minutes=10)


def _compute_open_slots(
    service: Service,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    ignoring: int | None = None,
    earliest: datetime | None = None,
):
    """Free start times from the database. With `earliest` given (a cached list, filtered for notice when
    read) returns (slots, the first moment a hold counted as busy runs out or None)."""
    mentor = service.mentor
    zone = mentor.user.zone
    # Whole local days around the window (a day can last 25 hours), so the daily cap counts every session.
    margin = timedelta(days=2)
    schedule = mentor_schedule(
        mentor, first_day=(start - margin).astimezone(zone).date(), last_day=(end + margin).astimezone(zone).date()
    )
    taken = list(
        blocking_bookings(mentor, start=start - margin, end=end + margin, now=now)
        .exclude(pk=ignoring)
        .values_list("start", "blocked_start", "blocked_end", "hold_expires_at")
    )
    # Busy time from the mentor's own calendars counts like a booking (the session's buffers keep clear of it).
    imported = BusyInterval.objects.filter(mentor=mentor, start__lt=end + margin, end__gt=start - margin)
    slots = free_slots(
        schedule,
        duration=service.duration,
        buffer_before=service.buffer_before,
        buffer_after=service.buffer_after,
        busy=[Interval(blocked_start, blocked_end) for _, blocked_start, blocked_end, _ in taken]
        + [Interval(busy_start, busy_end) for busy_start, busy_end in imported.values_list("start", "end")],
        booked_starts=[session_start for session_start, _, _, _ in taken],
        window_start=start,
        window_end=end,
        earliest=now + mentor.minimum_notice if earliest is None else earliest,
    )
    if earliest is None:
        return slots
    return slots, min((expires for *_, expires in taken if expires is not None), default=None)


def is_open(service: Service, start: datetime, *, now: datetime | None = None, ignoring: int | None = None) -> bool:
    """Whether `start` can be booked now, from the database (never the slot cache): what holds and moves ask,
    under the mentor's lock."""
    now = now or timezone.now()
    end = min(start + timedelta(seconds=1), now + timedelta(days=service.mentor.booking_horizon_days))
    if end <= start:
        return False
    return start in _compute_open_slots(service, start=start, end=end, now=now, ignoring=ignoring)


# What other apps show of theirs with a booking, registered in their AppConfig.ready() so that bookings names none
# of them: what the booking lists prefetch (payments: receipts and refunds) and named facts about a booking
# (payments: "card_last4", the card its refunds go back to).
LIST_PREFETCHES: list[str] = []
FACTS: dict[str, Callable[[Booking], str]] = {}


def booking_fact(booking: Booking, name: str) -> str:
    """A fact another app registered (FACTS); empty when no app tells it."""
    reader = FACTS.get(name)
    return reader(booking) if reader else ""


def bookings_for_mentee(user) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(mentee=user)
        .exclude(status=Booking.Status.ABANDONED)
        .select_related("service", "mentor__user", "review")
        .prefetch_related(*LIST_PREFETCHES)  # receipt links and what was refunded
        .order_by("-start")
    )


def bookings_for_mentor(mentor: MentorProfile) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(mentor=mentor)
        .exclude(status__in=[Booking.Status.HELD, Booking.Status.ABANDONED])
        .select_related("service", "mentee")
        .order_by("start")
    )


# A list page's sections: each one's rows, ready to page in the database, and every section's size.
Sections = tuple[dict[str, QuerySet[Booking]], dict[str, int]]


def _sections(rows: QuerySet[Booking], parts: dict[str, tuple[Q, tuple[str, ...]]]) -> Sections:
    """Split `rows` into sections by (filter, order), all counted in one aggregate query."""
    counts = rows.order_by().aggregate(**{name: Count("pk", filter=where) for name, (where, _) in parts.items()})
    return {name: rows.filter(where).order_by(*order) for name, (where, order) in parts.items()}, counts


def mentee_booking_sections(user, *, now: datetime) -> Sections:
    """My Bookings: what is coming (soonest first), what has passed, and what was called off (newest first)."""
    S = Booking.Status
    coming = Q(status__in=[S.PENDING, S.CONFIRMED, S.HELD], end__gt=now)
    return _sections(
        bookings_for_mentee(user),
        {
            "upcoming": (coming, ("start", "pk")),
            "past": (Q(status__in=[S.COMPLETED, S.CONFIRMED, S.PENDING]) & ~coming, ("-start", "-pk")),
            "cancelled": (Q(status__in=[S.DECLINED, S.EXPIRED, S.CANCELLED, S.NO_SHOW]), ("-start", "-pk")),
        },
    )


def reviews_by_mentee(user) -> QuerySet[Review]:
    """The reviews a mentee gave, newest first, for My Bookings."""
    return (
        Review.objects.filter(mentee=user)
        .select_related("mentee", "booking__service", "booking__mentor__user")
        .order_by("-created_at", "-pk")
    )


def mentor_booking_sections(mentor: MentorProfile, *, now: datetime) -> Sections:
    """The mentor's Bookings page: requests to answer and sessions to mark complete (oldest first), confirmed
    sessions coming up (soonest first), completed and called-off ones (newest first)."""
    S = Booking.Status
    return _sections(
        bookings_for_mentor(mentor),
        {
            "pending": (Q(status=S.PENDING), ("start", "pk")),
            "to_complete": (Q(status=S.CONFIRMED, end__lte=now), ("start", "pk")),
            "upcoming": (Q(status=S.CONFIRMED, end__gt=now), ("start", "pk")),
            "past": (Q(status=S.COMPLETED), ("-start", "-pk")),
            "cancelled": (Q(status__in=[S.DECLINED, S.EXPIRED, S.CANCELLED, S.NO_SHOW]), ("-start", "-pk")),
        },
    )


def booking_for_party(user, booking_id: int) -> Booking | None:
    """The booking if `user` is its mentee or mentor (or staff), else None: other people's ids show nothing."""
    booking = Booking.objects.select_related("service", "mentor__user", "mentee").filter(pk=booking_id).first()
    if booking is None or not (booking.is_party(user) or user.is_staff):
        return None
    return booking


# How far back a calendar feed goes; forward it has every session booked (the booking horizon bounds them).
FEED_PAST = timedelta(days=90)


def _feed_rows(user, *, now: datetime) -> QuerySet[Booking]:
    # The two sides as two index lookups (mentee; the user's mentor profile, a scalar subquery), not one scan
    # of every booking.
    as_mentor = Subquery(MentorProfile.objects.filter(user=user).order_by().values("pk")[:1])
    return Booking.objects.filter(Q(mentee=user) | Q(mentor=as_mentor), start__gte=now - FEED_PAST).exclude(
        status__in=[Booking.Status.HELD, Booking.Status.ABANDONED]
    )


def calendar_bookings(user, *, now: datetime) -> QuerySet[Booking]:
    """A person's sessions for their calendar feed: as mentee or mentor, from FEED_PAST ago on."""
    return _feed_rows(user, now=now).select_related("service", "mentor__user", "mentee").order_by("start")


def calendar_version(user, *, now: datetime) -> tuple[int, datetime | None]:
    """How many sessions the feed lists and when the latest of them changed, in one aggregate query: every
    change a feed shows (a new booking, a move, a cancellation, a link) saves the booking's updated_at,
    and one leaving the window changes the count."""
    version = _feed_rows(user, now=now).aggregate(count=Count("pk"), changed=Max("updated_at"))
    return version["count"], version["changed"]


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


def decline_reason(booking: Booking) -> str:
    """What the mentor wrote when declining (the audit row keeps it); shown to the mentee."""
    if booking.status != Booking.Status.DECLINED:
        return ""
    event = booking.events.filter(to_status=Booking.Status.DECLINED).exclude(from_status=Booking.Status.DECLINED)
    return event.values_list("note", flat=True).last() or ""


def time_until_phrase(span: timedelta) -> str:
    """How far off a start is, in its largest unit: "in 2 days", "in 5 hours", "in 8 minutes", "now"."""
    minutes = math.ceil(span.total_seconds() / 60)  # 4 min 59 s away reads "in 5 minutes"
    if minutes < 1:
        return "now"
    for size, unit in ((24 * 60, "day"), (60, "hour"), (1, "minute")):
        if minutes >= size:
            count = minutes // size
            return f"in {count} {unit}{'s' if count != 1 else ''}"
    return "now"


@dataclass(frozen=True)
class Banner:
    """The top of a session page: what is happening and what this person should do next."""

    tone: str  # "wait", "ok", "act", "over": how the banner looks
    title: str
    lines: tuple[str, ...] = ()
    reason: str = ""  # the mentor's decline reason, quoted


# Statuses in which the booking's policy (cancelling, moving, no-shows) can still come into play.
POLICY_STATUSES = frozenset({Booking.Status.HELD, Booking.Status.PENDING, Booking.Status.CONFIRMED})


def _when(moment: datetime) -> str:
    """A moment as the banner says it, in the zone the page shows: "Tue 3 Dec, 10:00"."""
    return f"{timezone.localtime(moment):%a %-d %b, %H:%M}"


def _cancel_late(booking: Booking) -> bool:
    """A mentee's cancellation after the window: no automatic refund (policies wrote that in the summary)."""
    return (
        booking.cancelled_by == "mentee"
        and not booking.is_free
        and "full refund" not in booking.cancellation_summary
        and ("credit comes back" not in booking.cancellation_summary)
    )


FREE_NOTHING_BACK = "This session was free, so there is nothing to refund."
FREE_NO_EARNING = "This session is free, so your Earnings don't change."


def _how_requested(booking: Booking) -> str:
    if booking.is_free:
        return "booked this free session"
    return "used a package credit" if booking.package_purchase_id else "paid"


def session_banner(
    booking: Booking, *, for_mentor: bool, now: datetime, open_ticket=None, reviewed: bool = False
) -> Banner:
    """What the session page says first, per status and per side. Times in the active (viewer's) zone."""
    S = Booking.Status
    mentor, mentee = booking.mentor.user.display_name, booking.mentee.display_name
    credit = booking.package_purchase_id is not None
    free = booking.is_free
    back = (
        "Your package credit is back."
        if credit
        else FREE_NOTHING_BACK
        if free
        else ("Your payment is refunded in full; it can take 5–10 business days to reach your card.")
    )
    they_get_back = (
        "there is nothing to refund: the session was free"
        if free
        else f"{mentee} gets {'the package credit back' if credit else 'a full refund'}"
    )
    status = booking.status
    if status == S.HELD:
        if for_mentor:
            return Banner("wait", "Not booked yet", (f"{mentee} is still at checkout. We'll tell you once they pay.",))
        until = f" until {timezone.localtime(booking.hold_expires_at):%H:%M}" if booking.hold_expires_at else ""
        return Banner(
            "act",
            "Checkout not finished",
            (f"This time is held for you{until}. Pay to send your request to {mentor}.",),
        )
    if status == S.ABANDONED:
        return Banner(
            "over", "Not booked", ("Checkout wasn't finished in time, so the time was released. Nothing was charged.",)
        )
    if status == S.PENDING:
        expires = _when(booking.pending_expires_at)
        if for_mentor:
            return Banner(
                "act",
                f"Confirm or decline by {expires}",
                (
                    f"{mentee} has {_how_requested(booking)} and is waiting for your answer.",
                    "If you don't answer by then, the request is cancelled"
                    + ("." if free else f" and {they_get_back}."),
                ),
            )
        if free:
            money = (
                f"This session is free: there is nothing to pay. You can cancel at any time before it starts. If "
                f"{mentor} declines or doesn't answer by {expires}, the request is cancelled."
            )
        elif credit:
            money = (
                f"Until {mentor} confirms, you can cancel and get your credit back. If they decline or don't "
                f"answer by {expires}, the credit comes back automatically."
            )
        else:
            until = (
                _when(booking.cancellation_deadline) if now < booking.cancellation_deadline else f"{mentor} confirms"
            )
            money = (
                f"You can cancel for a full refund until {until}. If {mentor} declines or doesn't answer by {expires}, "
                "you get a full refund automatically."
            )
        return Banner(
            "wait", f"Waiting for {mentor} to confirm", ("You'll get an e-mail as soon as they answer.", money)
        )
    if status == S.CONFIRMED:
        return _confirmed_banner(booking, for_mentor=for_mentor, now=now, open_ticket=open_ticket)
    if status == S.COMPLETED:
        if for_mentor:
            lines = [FREE_NO_EARNING if free else "Your share is added to your balance in Earnings."]
            lines.append(f"{mentee} reviewed this session." if reviewed else f"{mentee} hasn't reviewed it yet.")
            return Banner("ok", "Completed", tuple(lines))
        return Banner(
            "ok",
            "Completed",
            ("Thanks for your review." if reviewed else f"How was it? A review helps {mentor} and other mentees.",),
        )
    if status == S.DECLINED:
        if for_mentor:
            return Banner(
                "over",
                "You declined this request",
                (f"{they_get_back[0].upper()}{they_get_back[1:]}{'' if free else ' automatically'}.",),
                reason=decline_reason(booking),
            )
        return Banner("over", f"{mentor} declined this request", (back,), reason=decline_reason(booking))
    if status == S.EXPIRED:
        expires = _when(booking.pending_expires_at)
        if for_mentor:
            return Banner(
                "over",
                "This request expired",
                (f"You didn't answer by {expires}, so the request was cancelled and {they_get_back}.",),
            )
        return Banner(
            "over",
            "This request expired",
            (f"{mentor} didn't answer by {expires}, so the request was cancelled.", back),
        )
    if status == S.CANCELLED:
        if booking.cancelled_by == "mentor" and booking.rebook_until is not None:
            until = _when(booking.rebook_until)
            if for_mentor:
                choice = f"{mentee} can pick another of your free times until {until}" + (
                    "." if free else f", or get {'the package credit back' if credit else 'a full refund'}."
                )
                return Banner("over", "You cancelled this session", (choice,))
            if free:
                return Banner("act", f"{mentor} had to cancel", ("We're sorry.", f"Pick a new time by {until}."))
            refund = "your package credit back" if credit else "a full refund"
            return Banner(
                "act",
                f"{mentor} had to cancel: pick a new time or get {refund}",
                (
                    "We're sorry.",
                    f"Pick a new time without paying again, or get {refund}. If you don't choose by {until}, "
                    "the refund is made then.",
                ),
            )
        if booking.cancelled_by == "mentor":
            if for_mentor:
                return Banner("over", "You cancelled this session", (f"{they_get_back}.",))
            return Banner("over", f"{mentor} cancelled this session", ("We're sorry.", back))
        if for_mentor:
            if _cancel_late(booking):
                late = "They cancelled inside the cancellation window, so"
                money = (
                    f"{late} the package credit stays used and your share counts as earned."
                    if credit
                    else f"{late} there was no automatic refund and your share counts as earned. "
                    "You can still give some or all of it back below."
                )
            else:
                money = f"They cancelled{'' if free else ' in time'}, so {they_get_back}."
            return Banner("over", f"{mentee} cancelled this session", (money,))
        return Banner("over", "You cancelled this session", (booking.cancellation_summary,))
    if status == S.NO_SHOW:
        if for_mentor:
            return Banner(
                "over",
                "Marked as a mentor no-show",
                (f"Our support team found that you didn't come to this session, so {they_get_back}.",),
            )
        return Banner("over", "Mentor no-show", (f"Our support team confirmed that {mentor} didn't come.", back))
    return Banner("over", booking.get_status_display())


def _confirmed_banner(booking: Booking, *, for_mentor: bool, now: datetime, open_ticket) -> Banner:
    mentor, mentee = booking.mentor.user.display_name, booking.mentee.display_name
    other = mentee if for_mentor else mentor
    online = not booking.service.in_person
    where = []
    if not online:
        where.append(f"In person at {booking.service.address}.")
    elif not booking.meeting_link:
        where.append(
            f"Add a meeting link below so {mentee} knows where to meet."
            if for_mentor
            else f"{mentor} adds the meeting link here before the session."
        )
    no_show_refund = "." if booking.is_free else ": a confirmed mentor no-show is refunded in full."
    if open_ticket is not None:
        return Banner(
            "wait",
            "No-show reported",
            (f"Ticket #{open_ticket.pk}: our support team is looking at it and will tell you both what they decide.",),
        )
    if now >= booking.end:
        if for_mentor:
            return Banner(
                "act",
                "Session over: mark it Complete",
                (
                    FREE_NO_EARNING
                    if booking.is_free
                    else "Your share is added to your balance in Earnings once you mark it Complete.",
                ),
            )
        return Banner(
            "ok",
            "Session over",
            (
                f"{mentor} marks it complete; then you can leave a review.",
                f"{mentor} didn't come? Report a no-show below{no_show_refund}",
            ),
        )
    if now >= booking.join_opens_at():
        if now < booking.start:
            title = f"Starts at {timezone.localtime(booking.start):%H:%M} ({time_until_phrase(booking.start - now)})"
        else:
            title = f"On now, until {timezone.localtime(booking.end):%H:%M}"
        lines = list(where)
        if online and booking.meeting_link:
            lines.append(
                f"Join opens the meeting in a new tab. The session runs until {timezone.localtime(booking.end):%H:%M}."
            )
        if now >= booking.start + policies.NO_SHOW_WAIT:
            lines.append(
                f"{mentee} didn't come? Report it below."
                if for_mentor
                else f"{mentor} didn't come? Report a no-show below{no_show_refund}"
            )
        return Banner("ok", title, tuple(lines))
    lines = list(where)
    if online and booking.meeting_link:
        opens = timezone.localtime(booking.join_opens_at())
        lines.append(f"The Join button appears here 10 minutes before the start ({opens:%H:%M}).")
    if for_mentor:
        lines.append(f"Need to change something? Message {other}, propose a new time or cancel below.")
    elif booking.is_free:
        lines.append("This session is free: you can cancel at any time before it starts.")
    elif now < booking.cancellation_deadline:
        lines.append(f"You can cancel for a full refund until {_when(booking.cancellation_deadline)}.")
    else:
        lines.append("The free cancellation window has closed: cancelling now brings no automatic refund.")
    return Banner(
        "ok", f"Confirmed: starts {_when(booking.start)} ({time_until_phrase(booking.start - now)})", tuple(lines)
    )


# The bookings of a free session type that use up a mentee's free sessions: not those cancelled, declined,
# expired (the mentor never answered) or missed by the mentor, nor a checkout let go.
USES_A_FREE_SESSION = (Booking.Status.PENDING, Booking.Status.CONFIRMED, Booking.Status.COMPLETED)


def free_sessions_taken(mentee, service: Service) -> int:
    """How many free bookings of this session type the mentee has with its mentor (see USES_A_FREE_SESSION)."""
    return (
        Booking.objects.filter(
            mentee=mentee,
            mentor_id=service.mentor_id,
            service=service,
            price_cents=0,
            package_purchase__isnull=True,
        )
        .filter(
            # A booking the mentor cancelled that may still take a new time counts until the choice closes.
            Q(status__in=USES_A_FREE_SESSION) | Q(status=Booking.Status.CANCELLED, rebook_until__isnull=False)
        )
        .count()
    )


def free_limit_text(service: Service) -> str:
    """The polite refusal for a mentee who has had all the free sessions of this type the mentor offers each."""
    cap = service.free_sessions_per_mentee
    offer = "one free" if cap == 1 else f"{cap} free"
    sessions = "session" if cap == 1 else "sessions"
    had = "it" if cap == 1 else "them all"
    return (
        f"{service.mentor.user.display_name} offers {offer} “{service.title}” {sessions} per mentee, and you have "
        f"booked {had} already. Their other session types are open to you."
    )


def free_limit_reached(mentee, service: Service) -> bool:
    """Whether this mentee may not book another of this free session type (always False for a paid one)."""
    cap = service.free_sessions_per_mentee
    if not service.is_free or cap is None or not getattr(mentee, "is_authenticated", False):
        return False
    return free_sessions_taken(mentee, service) >= cap
