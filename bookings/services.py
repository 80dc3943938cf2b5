"""Every change of a booking's status. Nothing else writes Booking.status.

Each transition runs in one transaction with the booking row locked, checks its
guard, writes a BookingEvent and records its side effects (refund, ledger, e-mail)
in the outbox, in the same transaction; the apps that act on them register handlers.
"""

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from mentorship import connected_calendars, outbox
from mentorship.models import MentorProfile, Service
from mentorship.services import availabilities_changed, availability_changed

from . import policies, selectors
from .models import Booking, BookingEvent, SuggestedTime, SupportTicket

Status = Booking.Status


class BookingError(Exception):
    """A transition that cannot happen; the message is meant for the person who asked."""


SLOT_TAKEN = "This time was just taken — please pick another."


def _give_back(booking_id: int, reason: str) -> None:
    """What a full refund means for this booking: the card payment goes back, or the package credit does.

    A credit returned after the session was credited to the mentor takes that earning back; one
    returned after its package expired can't be used again, so its value goes back to the card.
    A free session was never paid for: nothing goes back.
    """
    # Money (or the credit) going back ends any choice of a new time the mentee still had.
    Booking.objects.filter(pk=booking_id, rebook_until__isnull=False).update(rebook_until=None)
    package_purchase_id, price_cents = (
        Booking.objects.filter(pk=booking_id).values_list("package_purchase_id", "price_cents").get()
    )
    if package_purchase_id is not None:
        returned = Booking.objects.filter(pk=booking_id, credit_returned=False).update(
            credit_returned=True, credit_returned_at=timezone.now()
        )
        if returned:  # payments takes back an earning, or refunds the card if the package has expired meanwhile
            outbox.record("booking.credit_returned", booking_id=booking_id)
    elif price_cents:
        outbox.record("booking.refund_due", booking_id=booking_id, reason=reason)


def queue_notification(booking: Booking, kind: str, *, event: str = "") -> None:
    """Tell the people concerned, after commit (at once when no transaction is open).

    A kind that can happen more than once to a booking (a move, new links, a reminder for a new
    time) names the `event`, so each one is told once.
    """
    outbox.record("booking.notice", booking_id=booking.pk, kind=kind, event=event)


def _earned(booking_id: int) -> None:
    """The session counts as held (or was cancelled too late for a refund): the mentor's share is due.

    A free session earns nothing, so the ledger never hears of it."""
    if not Booking.objects.get(pk=booking_id).is_free:
        outbox.record("booking.earned", booking_id=booking_id)


def _transition(
    booking_id: int,
    *,
    allowed_from: tuple[str, ...],
    to: str,
    actor=None,
    mentor_only: bool = False,
    note: str = "",
    guard=None,
) -> Booking:
    """Lock the booking, check who asks and that it may move to `to`, move it and write the audit row.

    Must run inside transaction.atomic().
    """
    booking = Booking.objects.select_for_update().select_related("mentor__user", "service").get(pk=booking_id)
    if mentor_only and (actor is None or booking.mentor.user_id != actor.pk):
        raise BookingError("Only the mentor of this booking can do that.")
    if booking.status not in allowed_from:
        raise BookingError(
            f"This booking is {booking.get_status_display().lower()} now, so nothing was changed. "
            "The page you used may have been out of date."
        )
    if guard is not None:
        guard(booking)
    from_status = booking.status
    booking.status = to
    booking.save(update_fields=["status", "updated_at"])
    BookingEvent.objects.create(booking=booking, actor=actor, from_status=from_status, to_status=to, note=note)
    _mentor_time_changed(booking.mentor_id)
    return booking


def _mentor_time_changed(mentor_id: int) -> None:
    """The mentor's free time may have changed: a new availability version (cached slots of the old one are
    not read again) and the directory's next free time refreshed after commit."""
    availability_changed(mentor_id)


def _note(booking: Booking, actor, note: str) -> BookingEvent:
    """An audit row for a change that keeps the status (links, a move, a report)."""
    return BookingEvent.objects.create(
        booking=booking, actor=actor, from_status=booking.status, to_status=booking.status, note=note[:300]
    )


def _lock_for_move(booking_id: int) -> Booking:
    """Lock the mentor, then the booking: the order every path that takes time uses."""
    mentor_id = Booking.objects.filter(pk=booking_id).values_list("mentor_id", flat=True).get()
    MentorProfile.objects.select_for_update().get(pk=mentor_id)
    return Booking.objects.select_for_update().select_related("service__mentor__user", "mentor").get(pk=booking_id)


def _move(booking: Booking, new_start: datetime, *, now: datetime) -> None:
    """Move a locked booking, buffers and all, to a start that is free under every rule."""
    if not selectors.is_open(booking.service, new_start, now=now, ignoring=booking.pk):
        raise BookingError(SLOT_TAKEN)
    if booking.package_purchase_id and new_start >= booking.package_purchase.expires_at:
        raise BookingError(
            f"This session is paid with a package credit that expires on {booking.package_purchase.expires_at:%-d %B}: "
            "pick a time before then."
        )
    shift = new_start - booking.start
    booking.start, booking.end = booking.start + shift, booking.end + shift
    booking.blocked_start, booking.blocked_end = booking.blocked_start + shift, booking.blocked_end + shift
    booking.calendar_sequence += 1
    # The reminders already sent were for the old time: the new time gets the ones it is due.
    booking.last_reminder_hours = None
    if booking.status == Status.PENDING:  # its expiry, and so "the day before" nudge, may have moved
        booking.nudge_due_at = booking.next_nudge_at()
    _mentor_time_changed(booking.mentor_id)
    try:
        with transaction.atomic():
            booking.save(
                update_fields=[
                    "start",
                    "end",
                    "blocked_start",
                    "blocked_end",
                    "calendar_sequence",
                    "last_reminder_hours",
                    "nudge_due_at",
                    "updated_at",
                ]
            )
    except IntegrityError:  # the database's overlap constraint
        raise BookingError(SLOT_TAKEN) from None


def booking_hold(
    *,
    mentee,
    service: Service,
    start: datetime,
    message: str = "",
    accessibility_needs: str | None = None,
    now: datetime | None = None,
) -> Booking:
    """Reserve a slot for checkout. The mentor row lock serialises every path that takes time.

    A free session type needs no checkout: its booking goes straight to the mentor as a request (pending),
    unless the mentee already has as many of its free sessions as the mentor offers each (checked under the
    same lock, so two tabs can't both get past the limit).
    """
    # The mentor's own calendars, if last read a while ago, are read again first (outside the lock: a slow
    # calendar must not hold up the mentor's other bookings).
    connected_calendars.refresh_stale(service.mentor_id)
    now = now or timezone.now()
    with transaction.atomic():
        mentor = MentorProfile.objects.select_for_update().select_related("user").get(pk=service.mentor_id)
        service = Service.objects.select_related("mentor__user").get(pk=service.pk)
        if not mentor.is_approved or not service.is_active:
            raise BookingError("This session type is not available for booking.")
        if mentor.user_id == mentee.pk:
            raise BookingError("You can't book a session with yourself.")
        # A double click or a second tab on the same time gets the same checkout.
        same = Booking.objects.filter(
            Q(status=Status.HELD, hold_expires_at__gt=now) | Q(status=Status.PENDING, price_cents=0),
            mentee=mentee,
            service=service,
            start=start,
            package_purchase__isnull=True,
        ).first()
        if same is not None:
            return same
        # One checkout at a time: a new hold lets go of the mentee's earlier ones.
        for held_id in Booking.objects.filter(mentee=mentee, status=Status.HELD).values_list("pk", flat=True):
            _transition(
                held_id, allowed_from=(Status.HELD,), to=Status.ABANDONED, actor=mentee, note="Picked another time"
            )
        if selectors.free_limit_reached(mentee, service):
            raise BookingError(selectors.free_limit_text(service))
        if not selectors.is_open(service, start, now=now):
            raise BookingError(SLOT_TAKEN)
        end = start + service.duration
        blocked_start, blocked_end = start - service.buffer_before, end + service.buffer_after
        # Holds that ran out but were not released yet still count in the database's
        # overlap constraint: let go of those in the way first.
        stale = Booking.objects.filter(
            mentor=mentor,
            status=Status.HELD,
            hold_expires_at__lte=now,
            blocked_start__lt=blocked_end,
            blocked_end__gt=blocked_start,
        )
        for stale_id in stale.values_list("pk", flat=True):
            _transition(stale_id, allowed_from=(Status.HELD,), to=Status.ABANDONED, note="Checkout time ran out")
        try:
            with transaction.atomic():
                booking = Booking.objects.create(
                    mentee=mentee,
                    mentor=mentor,
                    service=service,
                    start=start,
                    end=end,
                    blocked_start=blocked_start,
                    blocked_end=blocked_end,
                    status=Status.HELD,
                    message=message.strip(),
                    accessibility_needs=(
                        mentee.accessibility_needs if accessibility_needs is None else accessibility_needs
                    ).strip(),
                    price_cents=service.price_cents,
                    currency=settings.PLATFORM_CURRENCY,
                    hold_expires_at=now + settings.BOOKING_HOLD_TIMEOUT,
                    cancellation_window_hours=service.effective_cancellation_window_hours,
                    reschedule_limit=mentor.reschedule_limit,
                    no_show_policy=mentor.no_show_policy,
                    lateness_policy=mentor.lateness_policy,
                    service_policy=service.policy,
                )
        except IntegrityError:  # the database's overlap constraint: someone else was faster
            raise BookingError(SLOT_TAKEN) from None
        BookingEvent.objects.create(
            booking=booking,
            actor=mentee,
            to_status=Status.HELD,
            note="Time reserved" if booking.is_free else "Time reserved while paying",
        )
        _mentor_time_changed(mentor.pk)
        if booking.is_free:  # nothing to pay: the request goes to the mentor now
            booking = booking_mark_paid(booking.pk, note=FREE_REQUEST_NOTE)
            booking.refresh_from_db()
    return booking


FREE_REQUEST_NOTE = "Free session: no payment needed"


def booking_mark_paid(booking_id: int, *, note: str = "Payment received") -> Booking:
    """Payment succeeded: the booking waits for the mentor.

    A payment can succeed just after its hold ran out; the booking still goes
    through if nobody else took the time meanwhile. Otherwise BookingError, and
    the caller refunds.
    """
    with transaction.atomic():
        booking = Booking.objects.select_related("mentor").get(pk=booking_id)
        if booking.status == Status.PENDING:
            return booking  # already done, e.g. by the webhook
        MentorProfile.objects.select_for_update().get(pk=booking.mentor_id)

        def time_still_free(locked: Booking) -> None:
            # A payment that lands after either person deleted their account buys nothing: the caller refunds.
            if not (locked.mentee.is_active and locked.mentor.user.is_active):
                raise BookingError(ACCOUNT_CLOSED)
            # A hold that ran out (released or not) kept nothing: the time must still be bookable
            # under every rule (overlap, daily cap, days off added meanwhile), as for a new hold.
            still_held = locked.status == Status.HELD and locked.hold_expires_at > timezone.now()
            if not still_held and not selectors.is_open(locked.service, locked.start, ignoring=locked.pk):
                raise BookingError(SLOT_TAKEN)

        try:
            with transaction.atomic():
                booking = _transition(
                    booking_id,
                    allowed_from=(Status.HELD, Status.ABANDONED),
                    to=Status.PENDING,
                    note=note,
                    guard=time_still_free,
                )
        except IntegrityError:  # an unreleased, expired hold of someone else on the same time
            raise BookingError(SLOT_TAKEN) from None
        Booking.objects.filter(pk=booking.pk).update(hold_expires_at=None, nudge_due_at=booking.next_nudge_at())
        queue_notification(booking, "booking_requested")
        queue_notification(booking, "booking_paid")
    return booking


def booking_confirm(booking_id: int, *, actor, now: datetime | None = None) -> Booking:
    now = now or timezone.now()

    def not_started(booking: Booking) -> None:
        if booking.start <= now:
            raise BookingError("This session's start time has passed, so it can no longer be confirmed.")

    with transaction.atomic():
        # Every path that keeps time blocked takes the mentor lock, so paths never interleave.
        MentorProfile.objects.select_for_update().filter(bookings__pk=booking_id).first()
        booking = _transition(
            booking_id,
            allowed_from=(Status.PENDING,),
            to=Status.CONFIRMED,
            actor=actor,
            mentor_only=True,
            guard=not_started,
        )
        booking.confirmed_at = now
        booking.calendar_sequence += 1
        booking.save(update_fields=["confirmed_at", "calendar_sequence", "updated_at"])
        queue_notification(booking, "booking_confirmed")
    return booking


def booking_decline(booking_id: int, *, actor, reason: str = "") -> Booking:
    """The mentor says no: the mentee gets a full refund, automatically."""
    with transaction.atomic():
        booking = _transition(
            booking_id,
            allowed_from=(Status.PENDING,),
            to=Status.DECLINED,
            actor=actor,
            mentor_only=True,
            note=reason.strip()[:300],
        )
        _give_back(booking.pk, "declined")
        queue_notification(booking, "booking_declined")
    return booking


LEAVING_NOTE = "Account deleted"
ACCOUNT_CLOSED = "This booking's mentee or mentor has deleted their account, so it cannot go ahead."


def bookings_ended_by_leaving(user, *, now: datetime | None = None):
    """The bookings `bookings_close_for_leaving` would end now (held ones aside)."""
    now = now or timezone.now()
    still_ahead = Booking.objects.filter(status__in=(Status.PENDING, Status.CONFIRMED), start__gt=now)
    return (
        still_ahead.filter(Q(mentee=user) | Q(mentor__user=user))
        .select_related("mentor__user", "mentee")
        .order_by("start")
    )


def bookings_close_for_leaving(user, *, now: datetime | None = None) -> list[Booking]:
    """A person deletes their account (already inactive, so nothing new starts): holds by them or on their time
    are let go, and every booking not yet started ends by the normal rules, as if they had pressed Decline or
    Cancel (so refunds are what the policies give; a payment still on its way for a hold is refunded when it
    lands, see booking_mark_paid). Sessions under way or over finish as usual. Returns the bookings it ended."""
    now = now or timezone.now()
    ended = []
    holds = Booking.objects.filter(Q(mentee=user) | Q(mentor__user=user), status=Status.HELD)
    for booking_id in holds.values_list("pk", flat=True):
        with transaction.atomic():
            ended.append(_transition(booking_id, allowed_from=(Status.HELD,), to=Status.ABANDONED, note=LEAVING_NOTE))
    offers = Booking.objects.filter(Q(mentee=user) | Q(mentor__user=user), status=Status.CANCELLED)
    for booking_id in offers.filter(rebook_until__isnull=False).values_list("pk", flat=True):
        with transaction.atomic():
            booking = Booking.objects.select_for_update().get(pk=booking_id)
            if _close_rebook(booking, actor=None, note=LEAVING_NOTE):
                ended.append(booking)
    for booking in bookings_ended_by_leaving(user, now=now):
        try:
            if booking.mentor.user_id == user.pk and booking.status == Status.PENDING:
                ended.append(booking_decline(booking.pk, actor=user, reason=LEAVING_NOTE))
            else:
                ended.append(booking_cancel(booking.pk, actor=user, reason=LEAVING_NOTE, now=now))
        except BookingError:
            continue  # it changed meanwhile (confirmed, started): what it became stands
    return ended


def booking_complete(booking_id: int, *, actor, now: datetime | None = None) -> Booking:
    """After the session the mentor marks it complete; their share enters the ledger."""
    now = now or timezone.now()

    def ended(booking: Booking) -> None:
        if booking.end > now:
            raise BookingError("You can mark a session complete once it has ended.")

    with transaction.atomic():
        booking = _transition(
            booking_id,
            allowed_from=(Status.CONFIRMED,),
            to=Status.COMPLETED,
            actor=actor,
            mentor_only=True,
            guard=ended,
        )
        _earned(booking.pk)
        queue_notification(booking, "booking_completed")
    return booking


# Sweepers take due bookings this many at a time: one transaction, a handful of queries and one hand-off
# to the broker per batch, not per booking.
SWEEP_BATCH = 200


def _sweep(due, *, to: str, note: str, after, ranges=None) -> int:
    """Move every booking of the `due` query to `to`, a batch at a time in the order of their ids.

    Each batch is locked and read again under the lock (what was answered, paid or released meanwhile no
    longer matches `due` and is left alone, as _transition would refuse it); then one update moves them,
    their audit rows, the mentors' new availability versions and `after(locked)` (the side effects, as
    outbox rows) are written in bulk, all in one transaction.
    """
    moved = 0
    # The due ids first, read off the due-time indexes (nothing at all on most minutes); then batches of them.
    # `ranges`: queries whose ids together are the due ones, each one range of one index (an OR of two
    # partial indexes may be planned as a scan of every pending request instead).
    ids = sorted(set().union(*(query.order_by().values_list("pk", flat=True) for query in ranges or [due])))
    for at in range(0, len(ids), SWEEP_BATCH):
        with transaction.atomic():
            locked = list(
                due.filter(pk__in=ids[at : at + SWEEP_BATCH])
                .select_for_update(of=("self",))
                .only("pk", "status", "mentor_id", "package_purchase_id", "price_cents")
                .order_by("pk")
            )
            locked = after(locked) if locked else []
            if not locked:
                continue
            Booking.objects.filter(pk__in=[b.pk for b in locked]).update(status=to, updated_at=timezone.now())
            BookingEvent.objects.bulk_create(
                [BookingEvent(booking=b, actor=None, from_status=b.status, to_status=to, note=note) for b in locked]
            )
            availabilities_changed(b.mentor_id for b in locked)
            moved += len(locked)
    return moved


def _give_back_all(bookings: list[Booking], reason: str) -> None:
    """_give_back for a batch of locked bookings: package credits return, card payments are refunded."""
    with_credit = [b.pk for b in bookings if b.package_purchase_id]
    if with_credit:
        returned = list(Booking.objects.filter(pk__in=with_credit, credit_returned=False).values_list("pk", flat=True))
        Booking.objects.filter(pk__in=returned).update(credit_returned=True, credit_returned_at=timezone.now())
        outbox.record_many("booking.credit_returned", [{"booking_id": pk} for pk in returned])
    outbox.record_many(
        "booking.refund_due",
        [{"booking_id": b.pk, "reason": reason} for b in bookings if not b.package_purchase_id and not b.is_free],
    )


def _notify_all(bookings: list[Booking], kind: str) -> None:
    """queue_notification for a batch."""
    outbox.record_many("booking.notice", [{"booking_id": b.pk, "kind": kind, "event": ""} for b in bookings])


def expire_pending_bookings(*, now: datetime | None = None) -> int:
    """Requests the mentor left unanswered expire, with a full refund, at the earlier of
    created + BOOKING_PENDING_TIMEOUT and the start time. Safe to run twice or late."""
    now = now or timezone.now()
    # Two ranges of two partial indexes (pending by start, pending by creation), not every pending request.
    due = Booking.objects.filter(
        Q(start__lte=now) | Q(created_at__lte=now - settings.BOOKING_PENDING_TIMEOUT), status=Status.PENDING
    )

    def after(locked: list[Booking]) -> list[Booking]:
        _give_back_all(locked, "expired")
        _notify_all(locked, "booking_expired")
        return locked

    ranges = [
        Booking.objects.filter(status=Status.PENDING, start__lte=now),
        Booking.objects.filter(status=Status.PENDING, created_at__lte=now - settings.BOOKING_PENDING_TIMEOUT),
    ]
    return _sweep(due, to=Status.EXPIRED, note="The mentor did not answer in time", after=after, ranges=ranges)


def complete_unmarked_sessions(*, now: datetime | None = None) -> int:
    """A confirmed session whose end passed BOOKING_AUTO_COMPLETE days ago, with no open support ticket,
    counts as held: it is completed, the mentor credited and both told. Safe to run twice or late."""
    now = now or timezone.now()
    due = Booking.objects.filter(status=Status.CONFIRMED, end__lte=now - settings.BOOKING_AUTO_COMPLETE)

    def after(locked: list[Booking]) -> list[Booking]:
        # Read under the lock: a ticket opened meanwhile keeps its session open (as _no_open_ticket does).
        reported = set(
            SupportTicket.objects.filter(
                booking__in=[b.pk for b in locked], status=SupportTicket.Status.OPEN
            ).values_list("booking_id", flat=True)
        )
        locked = [b for b in locked if b.pk not in reported]
        outbox.record_many("booking.earned", [{"booking_id": b.pk} for b in locked if not b.is_free])
        _notify_all(locked, "booking_auto_completed")
        return locked

    return _sweep(
        due, to=Status.COMPLETED, note="Completed automatically: nobody marked it or reported a problem", after=after
    )


def release_expired_holds(*, now: datetime | None = None) -> int:
    """Holds whose checkout time ran out become abandoned, freeing their slot. Safe to run twice."""
    now = now or timezone.now()
    # Read again under the lock: a hold paid (its expiry cleared) or released meanwhile no longer matches.
    due = Booking.objects.filter(status=Status.HELD, hold_expires_at__lte=now)
    return _sweep(due, to=Status.ABANDONED, note="Checkout time ran out", after=lambda locked: locked)


def booking_cancel(booking_id: int, *, actor, reason: str = "", now: datetime | None = None) -> Booking:
    """The mentee or the mentor cancels; the policy decides the refund, and says so in the e-mail."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = Booking.objects.select_for_update().select_related("mentor__user", "mentee").get(pk=booking_id)
        if actor.pk == booking.mentee_id:
            by, allowed = "mentee", (Status.PENDING, Status.CONFIRMED)
        elif actor.pk == booking.mentor.user_id:
            by, allowed = "mentor", (Status.CONFIRMED,)  # a pending request is declined instead
        else:
            raise BookingError("Only the mentee or the mentor of this booking can cancel it.")

        def not_started(locked: Booking) -> None:
            if locked.start <= now:
                raise BookingError("This session has already started, so it can no longer be cancelled.")

        terms = policies.cancellation_terms(booking, by=by, now=now)
        # The mentor cancels: the mentee chooses a new time (already paid) or the refund, made anyway when the
        # choice runs out. Not when either of them is leaving: then the refund is made at once.
        offer = by == "mentor" and booking.mentee.is_active and booking.mentor.user.is_active
        rebook_until = now + settings.BOOKING_REBOOK_WINDOW if offer else None
        summary = policies.rebook_summary(booking) if offer else terms.summary
        booking = _transition(
            booking_id,
            allowed_from=allowed,
            to=Status.CANCELLED,
            actor=actor,
            note=(reason.strip() or summary)[:300],
            guard=not_started,
        )
        booking.cancelled_by, booking.cancellation_summary, booking.rebook_until = by, summary, rebook_until
        booking.calendar_sequence += 1
        booking.save(
            update_fields=["cancelled_by", "cancellation_summary", "rebook_until", "calendar_sequence", "updated_at"]
        )
        if offer:
            pass  # the money waits for the mentee's choice: booking_rebook, booking_take_refund or the sweep
        elif terms.full_refund:
            _give_back(booking.pk, f"cancelled_by_{by}")
        else:  # a late cancellation: the money (or the credit) is the mentor's, unless they give some back
            _earned(booking.pk)
        # A booking can be cancelled again after a new time was picked: each cancellation is its own notice.
        queue_notification(booking, f"booking_cancelled_by_{by}", event=_version(booking))
    return booking


def _rebook_open(booking: Booking, now: datetime) -> bool:
    return booking.status == Status.CANCELLED and booking.rebook_until is not None and now < booking.rebook_until


def booking_rebook(booking_id: int, *, actor, new_start: datetime, now: datetime | None = None) -> Booking:
    """The mentor cancelled and the mentee picks a new time instead of the refund: the same booking and payment,
    confirmed again at the new time. It counts against none of the mentee's limits (the mentor cancelled)."""
    now = now or timezone.now()
    mentor_id = Booking.objects.filter(pk=booking_id).values_list("mentor_id", flat=True).get()
    connected_calendars.refresh_stale(mentor_id)  # as before any checkout: the mentor's own calendar, fresh
    with transaction.atomic():
        booking = _lock_for_move(booking_id)
        if actor.pk != booking.mentee_id:
            raise BookingError("Only the mentee of this booking can pick a new time.")
        if not _rebook_open(booking, now):
            raise BookingError("This choice is closed now, so nothing was changed. The page may have been out of date.")
        if not booking.mentor.is_approved or not booking.mentor.user.is_active:
            raise BookingError(f"{booking.mentor.user} no longer takes bookings: choose the refund.")
        if booking.credit_returned:
            raise BookingError("Your package credit is back already, so this booking can't take a new time.")
        if booking.blocked_start < new_start + booking.service.duration and new_start < booking.blocked_end:
            raise BookingError(f"That is the time {booking.mentor.user} cancelled: pick another.")
        old_start = booking.start
        _move(booking, new_start, now=now)
        booking.status, booking.rebook_until, booking.cancelled_by, booking.cancellation_summary = (
            Status.CONFIRMED,
            None,
            "",
            "",
        )
        try:
            with transaction.atomic():
                booking.save(update_fields=["status", "rebook_until", "cancelled_by", "cancellation_summary"])
        except IntegrityError:  # the database's overlap constraint
            raise BookingError(SLOT_TAKEN) from None
        BookingEvent.objects.create(
            booking=booking,
            actor=actor,
            from_status=Status.CANCELLED,
            to_status=Status.CONFIRMED,
            note=f"New time picked after the mentor cancelled (was {old_start:%Y-%m-%d %H:%M} UTC)",
        )
        queue_notification(booking, "booking_rebooked", event=_version(booking))
    return booking


def _close_rebook(booking: Booking, *, actor, note: str, tell: bool = True) -> bool:
    """End a locked booking's open choice with the refund (once: a conditional update claims it), and tell the
    mentee unless they chose it themselves (`tell`)."""
    if not Booking.objects.filter(pk=booking.pk, rebook_until__isnull=False).update(rebook_until=None):
        return False
    terms = policies.cancellation_terms(booking, by="mentor")
    Booking.objects.filter(pk=booking.pk).update(cancellation_summary=terms.summary[:300])
    booking.rebook_until, booking.cancellation_summary = None, terms.summary[:300]
    _note(booking, actor, note)
    _give_back(booking.pk, "cancelled_by_mentor")
    if tell and not booking.is_free:
        queue_notification(booking, "rebook_refunded", event=_version(booking))
    return True


def booking_take_refund(booking_id: int, *, actor) -> Booking:
    """The mentor cancelled and the mentee chooses the refund (rather than a new time)."""
    with transaction.atomic():
        booking = Booking.objects.select_for_update().select_related("mentor__user").get(pk=booking_id)
        if actor.pk != booking.mentee_id:
            raise BookingError("Only the mentee of this booking can choose the refund.")
        if booking.status != Status.CANCELLED or booking.rebook_until is None:
            raise BookingError("This choice is closed now, so nothing was changed. The page may have been out of date.")
        _close_rebook(booking, actor=actor, note="Refund chosen rather than a new time", tell=False)
    return booking


def refund_unanswered_cancellations(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: the mentor cancelled and the mentee chose nothing in time, so the refund is made."""
    now = now or timezone.now()
    due = Booking.objects.filter(status=Status.CANCELLED, rebook_until__lte=now).values_list("pk", flat=True)
    done = 0
    for booking_id in list(due[:limit]):
        with transaction.atomic():
            booking = Booking.objects.select_for_update().filter(pk=booking_id, rebook_until__lte=now).first()
            if booking is not None and _close_rebook(booking, actor=None, note="No new time picked in time: refunded"):
                done += 1
    return done


def booking_set_links(booking_id: int, *, actor, meeting_link: str, availability_link: str) -> Booking:
    """After confirming, the mentor adds where to meet and where to pick a time (seed 001)."""
    with transaction.atomic():
        booking = Booking.objects.select_for_update().select_related("mentor").get(pk=booking_id)
        if booking.mentor.user_id != actor.pk:
            raise BookingError("Only the mentor of this booking can do that.")
        if booking.status != Status.CONFIRMED:
            raise BookingError("Links can be added once the booking is confirmed.")
        changed = (booking.meeting_link, booking.availability_link) != (meeting_link, availability_link)
        if not changed:
            return booking
        meeting_changed = booking.meeting_link != meeting_link
        booking.meeting_link, booking.availability_link = meeting_link, availability_link
        if meeting_changed:  # calendars carry where to meet: their invite is updated too
            booking.calendar_sequence += 1
        booking.save(update_fields=["meeting_link", "availability_link", "calendar_sequence", "updated_at"])
        changed_event = _note(booking, actor, "Meeting or availability link changed")
        queue_notification(booking, "links_changed", event=f"event{changed_event.pk}")
    return booking


def booking_reschedule(booking_id: int, *, actor, new_start: datetime, now: datetime | None = None) -> Booking:
    """The mentee moves the booking to another free time, before the cancellation window, without paying again."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock_for_move(booking_id)
        if actor.pk != booking.mentee_id:
            raise BookingError("Only the mentee of this booking can move it.")
        if booking.status not in (Status.PENDING, Status.CONFIRMED):
            raise BookingError(f"This booking is {booking.get_status_display().lower()}, so it cannot be moved.")
        if now >= booking.cancellation_deadline:
            raise BookingError("The cancellation window has started, so this booking can no longer be moved.")
        if booking.reschedules_used >= booking.reschedule_limit:
            raise BookingError(
                f"This booking has already been moved {booking.reschedules_used} times, the most allowed."
            )
        old_start = booking.start
        _move(booking, new_start, now=now)
        Booking.objects.filter(pk=booking.pk).update(reschedules_used=booking.reschedules_used + 1)
        booking.reschedules_used += 1
        _note(booking, actor, f"Moved from {old_start:%Y-%m-%d %H:%M} UTC")
        queue_notification(booking, "booking_rescheduled", event=_version(booking))
    return booking


def _version(booking: Booking) -> str:
    """Which invite this is: each move or change of where to meet is its own event, told once."""
    return f"seq{booking.calendar_sequence}"


NO_SHOW_WAIT = policies.NO_SHOW_WAIT


def no_show_report(booking_id: int, *, actor, note: str = "", now: datetime | None = None) -> SupportTicket:
    """The mentee reports the mentor missing (or the other way round) from 10 minutes after the start."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = Booking.objects.select_for_update().select_related("mentor").get(pk=booking_id)
        if actor.pk == booking.mentee_id:
            kind = SupportTicket.Kind.MENTOR_NO_SHOW
        elif actor.pk == booking.mentor.user_id:
            kind = SupportTicket.Kind.MENTEE_NO_SHOW
        else:
            raise BookingError("Only the mentee or the mentor of this booking can report a no-show.")
        if booking.status != Status.CONFIRMED:
            raise BookingError("Only a confirmed session can have a no-show.")
        if now < booking.start + NO_SHOW_WAIT:
            raise BookingError("Please wait 10 minutes after the start before reporting a no-show.")
        if booking.tickets.filter(status=SupportTicket.Status.OPEN).exists():
            raise BookingError("There is already an open report for this session; our support team is on it.")
        ticket = SupportTicket.objects.create(booking=booking, opened_by=actor, kind=kind, note=note.strip()[:2000])
        _note(booking, actor, ticket.get_kind_display())
        queue_notification(booking, "no_show_reported", event=f"ticket{ticket.pk}")
    return ticket


def ticket_resolve(ticket_id: int, *, staff, resolution: str) -> SupportTicket:
    """Staff settle a report; the booking follows through the same transitions as everywhere else."""
    with transaction.atomic():
        ticket = SupportTicket.objects.select_for_update().get(pk=ticket_id)
        if ticket.status != SupportTicket.Status.OPEN:
            raise BookingError(f"Ticket #{ticket.pk} is already resolved.")
        if resolution == SupportTicket.Resolution.MENTOR_NO_SHOW_REFUND:
            _transition(
                ticket.booking_id,
                allowed_from=(Status.CONFIRMED,),
                to=Status.NO_SHOW,
                actor=staff,
                note="Mentor no-show",
            )
            _give_back(ticket.booking_id, "mentor_no_show")
        elif resolution == SupportTicket.Resolution.MENTEE_NO_SHOW:
            # Per the no-show policy agreed at checkout: the session counts as held.
            _transition(
                ticket.booking_id,
                allowed_from=(Status.CONFIRMED,),
                to=Status.COMPLETED,
                actor=staff,
                note="Mentee no-show",
            )
            _earned(ticket.booking_id)
        elif resolution == SupportTicket.Resolution.FULL_REFUND:
            _give_back(ticket.booking_id, "dispute")
        elif resolution != SupportTicket.Resolution.REJECTED:
            raise BookingError("Unknown resolution.")
        ticket.status, ticket.resolution = SupportTicket.Status.RESOLVED, resolution
        ticket.resolved_by, ticket.resolved_at = staff, timezone.now()
        ticket.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
        booking = Booking.objects.get(pk=ticket.booking_id)
        queue_notification(booking, f"ticket_{resolution}", event=f"ticket{ticket.pk}")
    return ticket


MAX_SUGGESTIONS = 3


def booking_suggest_times(booking_id: int, *, actor, starts: list[datetime], note: str = "") -> Booking:
    """The mentor offers up to three other free times, instead of the requested one (pending) or to move a
    confirmed session; the payment stays."""
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update().select_related("mentor", "service__mentor__user").get(pk=booking_id)
        )
        if booking.mentor.user_id != actor.pk:
            raise BookingError("Only the mentor of this booking can do that.")
        if booking.status not in (Status.PENDING, Status.CONFIRMED):
            raise BookingError(f"This booking is {booking.get_status_display().lower()} now, so nothing was changed.")
        starts = sorted(set(starts))
        if not 1 <= len(starts) <= MAX_SUGGESTIONS:
            raise BookingError(f"Pick one to {MAX_SUGGESTIONS} other times.")
        if not all(selectors.is_open(booking.service, start, ignoring=booking.pk) for start in starts):
            raise BookingError("One of those times is no longer free. Please pick again.")
        booking.suggestions.all().delete()
        SuggestedTime.objects.bulk_create(SuggestedTime(booking=booking, start=start) for start in starts)
        suggested = _note(booking, actor, note.strip() or "Suggested other times")
        queue_notification(booking, "times_suggested", event=f"event{suggested.pk}")
    return booking


def booking_accept_suggestion(booking_id: int, *, actor, suggestion_id: int, now: datetime | None = None) -> Booking:
    """The mentee takes one of the mentor's times: the booking moves there (and a pending one is confirmed)."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock_for_move(booking_id)
        if booking.mentee_id != actor.pk:
            raise BookingError("Only the mentee of this booking can accept a time.")
        suggestion = booking.suggestions.filter(pk=suggestion_id).first()
        if booking.status not in (Status.PENDING, Status.CONFIRMED) or suggestion is None:
            raise BookingError("That suggestion is no longer open, so nothing was changed.")
        _move(booking, suggestion.start, now=now)
        booking.suggestions.all().delete()
        if booking.status == Status.CONFIRMED:  # the mentor proposed moving a confirmed session
            _note(booking, actor, "Moved to a time the mentor proposed")
            queue_notification(booking, "booking_rescheduled", event=_version(booking))
            return booking
        booking = _transition(
            booking.pk,
            allowed_from=(Status.PENDING,),
            to=Status.CONFIRMED,
            actor=actor,
            note="Accepted a suggested time",
        )
        booking.confirmed_at = now
        booking.calendar_sequence += 1
        booking.save(update_fields=["confirmed_at", "calendar_sequence", "updated_at"])
        queue_notification(booking, "suggestion_accepted", event=_version(booking))
    return booking


def dispute_open(booking_id: int, *, actor, note: str) -> SupportTicket:
    """Either party asks support to look at a booking (refund disagreements, missed sessions, conduct)."""
    with transaction.atomic():
        booking = Booking.objects.select_for_update().select_related("mentor").get(pk=booking_id)
        if actor.pk not in (booking.mentee_id, booking.mentor.user_id):
            raise BookingError("Only the mentee or the mentor of this booking can contact support about it.")
        if not note.strip():
            raise BookingError("Tell us what happened, so support can help.")
        if booking.tickets.filter(status=SupportTicket.Status.OPEN).exists():
            raise BookingError("There is already an open report for this session; our support team is on it.")
        return SupportTicket.objects.create(
            booking=booking, opened_by=actor, kind=SupportTicket.Kind.DISPUTE, note=note.strip()[:2000]
        )


def booking_assign_meeting_link(booking_id: int, link: str) -> str:
    """Give a confirmed booking a generated meeting link unless it has one; returns the link it has."""
    # updated_at by hand (update() skips auto_now): calendar feeds see the change by it.
    Booking.objects.filter(pk=booking_id, meeting_link="").update(meeting_link=link, updated_at=timezone.now())
    return Booking.objects.values_list("meeting_link", flat=True).get(pk=booking_id)
