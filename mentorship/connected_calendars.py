"""Writes for the mentor's own calendars: connect, remove, and sync their busy time.

A sync claims the calendar with a conditional update (two workers, a beat and a checkout never read the same
calendar at once), reads the feed (mentorship.calendar_feeds) and, when the busy time changed, replaces the
stored intervals and calls availability_changed in the same transaction, so cached slot lists go. A failed
read keeps the last good busy time and says why on the calendar; it never hides slots or stops a checkout.
"""

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import caldav_accounts, calendar_feeds, log_context, sealed
from .caldav_accounts import Account
from .calendar_feeds import FeedError
from .models import BusyInterval, ConnectedCalendar, MentorProfile
from .services import availability_changed

log = logging.getLogger(__name__)

MAX_CALENDARS = 10
BACKGROUND_TIMEOUT = 20.0  # seconds for one read by a worker (inside the task's soft limit)
CHECKOUT_BUDGET = 5.0  # seconds a checkout may spend re-reading stale calendars, all together
CHECKOUT_MAX_BYTES = 512 * 1024  # a calendar larger than this is not read while a mentee waits (parsing takes time)
STALE_AT_CHECKOUT = timedelta(minutes=5)
CLAIM_GAP = timedelta(seconds=60)  # a calendar tried this recently is not tried again


class CalendarError(Exception):
    """A calendar cannot be connected; the text is for the mentor."""


def connect_ics(profile: MentorProfile, *, name: str, address: str) -> ConnectedCalendar:
    try:
        address = calendar_feeds.normalised(address)
    except FeedError as error:
        raise CalendarError(str(error)) from None
    with transaction.atomic():
        MentorProfile.objects.select_for_update().get(pk=profile.pk)
        if profile.calendars.count() >= MAX_CALENDARS:
            raise CalendarError(f"You can connect up to {MAX_CALENDARS} calendars.")
        calendar = ConnectedCalendar.objects.create(
            mentor=profile,
            kind=ConnectedCalendar.Kind.ICS,
            name=name.strip(),
            sealed_address=sealed.seal(address),
            address_hint=calendar_feeds.hint(address),
        )
        transaction.on_commit(lambda: sync_soon([calendar.pk]))
    log.info("calendar connected", extra={"calendar_id": calendar.pk, "mentor_id": profile.pk})
    return calendar


def connect_caldav(
    profile: MentorProfile, account: Account, *, found: dict[str, str], busy: list[str], write_to: str
) -> list[ConnectedCalendar]:
    """One row per picked calendar of a CalDAV account (`found`: address -> name): those in `busy` hide slots,
    `write_to` (or "") gets the mentor's confirmed sessions."""
    picked = [url for url in found if url in busy or url == write_to]
    with transaction.atomic():
        MentorProfile.objects.select_for_update().get(pk=profile.pk)
        if profile.calendars.count() + len(picked) > MAX_CALENDARS:
            raise CalendarError(f"You can connect up to {MAX_CALENDARS} calendars.")
        if write_to:
            profile.calendars.filter(write_back=True).update(write_back=False)
        made = [
            ConnectedCalendar.objects.create(
                mentor=profile,
                kind=ConnectedCalendar.Kind.CALDAV,
                name=calendar_feeds.printable(found[url], 80) or "Calendar",
                sealed_address=sealed.seal(account.at(url).sealable()),
                address_hint=calendar_feeds.hint(url),
                counts_busy=url in busy,
                write_back=url == write_to,
            )
            for url in picked
        ]
        ids = [calendar.pk for calendar in made if calendar.counts_busy]
        transaction.on_commit(lambda: sync_soon(ids))
    log.info("CalDAV calendars connected: %d", len(made), extra={"mentor_id": profile.pk})
    return made


def disconnect(profile: MentorProfile, calendar_id: int) -> bool:
    """Remove one of the mentor's calendars and the busy time it brought."""
    with transaction.atomic():
        # Locked first: a read storing its busy time meanwhile finishes before, or finds the calendar gone.
        calendar = ConnectedCalendar.objects.select_for_update().filter(pk=calendar_id, mentor=profile).first()
        if calendar is None:
            return False
        calendar.delete()
        availability_changed(profile.pk)
    return True


def _not_tried_since(moment: datetime) -> Q:
    return Q(last_tried_at__isnull=True) | Q(last_tried_at__lt=moment)


def _claim(calendar_id: int, now: datetime) -> bool:
    claimable = ConnectedCalendar.objects.filter(_not_tried_since(now - CLAIM_GAP), pk=calendar_id, counts_busy=True)
    return claimable.update(last_tried_at=now) == 1


# Which bookings of a mentor the slot engine already counts (held, pending, confirmed), told by bookings (which
# builds on this app) in its AppConfig.ready(): their copies in the mentor's calendar are not a second meeting.
_counted_bookings: list[Callable[[int], set[int]]] = []


def counts_bookings(function: Callable[[int], set[int]]) -> Callable[[int], set[int]]:
    if function not in _counted_bookings:
        _counted_bookings.append(function)
    return function


def _ours(mentor_id: int) -> Callable[[str], bool]:
    pattern = calendar_feeds.our_uid_pattern()
    counted = set().union(*(function(mentor_id) for function in _counted_bookings))

    def is_ours(uid: str) -> bool:
        match = pattern.fullmatch(uid)
        return match is not None and int(match.group(1)) in counted

    return is_ours


@log_context.about(calendar_id="calendar_id")
def sync(
    calendar_id: int, *, timeout: float = BACKGROUND_TIMEOUT, now: datetime | None = None, max_bytes: int | None = None
) -> bool:
    """Read one calendar and store its busy time; False when it was not read (claimed elsewhere, or failed)."""
    now = now or timezone.now()
    if not _claim(calendar_id, now):
        return False
    calendar = ConnectedCalendar.objects.select_related("mentor__user").filter(pk=calendar_id).first()
    if calendar is None:
        return False
    mentor = calendar.mentor
    until = now + timedelta(days=mentor.booking_horizon_days + 1)
    # Read whole again when the horizon moved a day past what we expanded, or the mentor's zone changed (all-day
    # and floating times are read in it).
    whole = (
        calendar.covered_until is None
        or calendar.covered_until < until - timedelta(days=1)
        or calendar.read_in_zone != mentor.user.time_zone
    )
    try:
        if calendar.kind == ConnectedCalendar.Kind.CALDAV:
            account = Account.from_sealed(sealed.unseal(calendar.sealed_address))
            body = caldav_accounts.events_ical(account, start=now, end=until, timeout=timeout, max_bytes=max_bytes)
            fetched = calendar_feeds.Fetched(body)
        else:
            fetched = calendar_feeds.fetch(
                sealed.unseal(calendar.sealed_address),
                etag="" if whole else calendar.etag,
                last_modified="" if whole else calendar.last_modified,
                timeout=timeout,
                max_bytes=max_bytes,
            )
        if fetched.body is None:
            ConnectedCalendar.objects.filter(pk=calendar.pk, last_tried_at=now).update(
                last_synced_at=now, last_error=""
            )
            return True
        intervals = calendar_feeds.busy_times(
            fetched.body, zone=mentor.user.zone, start=now, end=until, is_ours=_ours(mentor.pk)
        )
    except calendar_feeds.TooLarge as error:
        if max_bytes is not None:  # too large to read while a mentee waits: the background read will
            return False
        return _failed(calendar, str(error))
    except FeedError as error:
        return _failed(calendar, str(error))
    except (sealed.Unreadable, ValueError, KeyError):
        return _failed(calendar, "We can no longer read this address: connect it again.")
    except Exception:  # a library's error we did not foresee: said to the mentor in general words, logged whole
        log.exception("calendar sync failed", extra={"mentor_id": mentor.pk})
        return _failed(calendar, "The calendar could not be read; we will try again.")
    _store(
        calendar,
        intervals,
        now=now,
        until=until,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        size=len(fetched.body),
        zone=mentor.user.time_zone,
    )
    return True


def _failed(calendar: ConnectedCalendar, message: str) -> bool:
    ConnectedCalendar.objects.filter(pk=calendar.pk).update(last_error=message[:300])
    log.warning("calendar sync failed: %s", message, extra={"mentor_id": calendar.mentor_id})
    return False


def _store(
    calendar: ConnectedCalendar, intervals, *, now, until, etag: str, last_modified: str, size: int, zone: str
) -> None:
    with transaction.atomic():
        # Locked, and still ours: a read claimed later (or a removal) wins over this one.
        locked = ConnectedCalendar.objects.select_for_update().filter(pk=calendar.pk, last_tried_at=now).first()
        if locked is None:
            return
        ConnectedCalendar.objects.filter(pk=calendar.pk).update(
            last_synced_at=now,
            covered_until=until,
            last_error="",
            etag=etag,
            last_modified=last_modified,
            last_size=size,
            read_in_zone=zone,
        )
        stored = BusyInterval.objects.filter(calendar=calendar)
        current = set(stored.filter(end__gt=now).values_list("start", "end"))
        if current == set(intervals):
            stored.filter(end__lte=now).delete()
            return
        stored.delete()
        BusyInterval.objects.bulk_create(
            BusyInterval(calendar=calendar, mentor_id=calendar.mentor_id, start=start, end=end)
            for start, end in intervals
        )
        availability_changed(calendar.mentor_id)
    log.info("calendar busy time changed: %d intervals", len(intervals), extra={"mentor_id": calendar.mentor_id})


def refresh_stale(mentor_id: int, *, now: datetime | None = None, budget: float = CHECKOUT_BUDGET) -> None:
    """Before a checkout takes time: re-read the mentor's calendars last read over a few minutes ago, within
    `budget` seconds in all. Only calendars small enough to read at once (CHECKOUT_MAX_BYTES; larger ones are kept
    fresh in the background); one that fails or is slow keeps its last good busy time, and nothing here ever
    stops the checkout."""
    now = now or timezone.now()
    stale = ConnectedCalendar.objects.filter(
        mentor_id=mentor_id, counts_busy=True, last_size__lte=CHECKOUT_MAX_BYTES
    ).filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=now - STALE_AT_CHECKOUT))
    started = time.monotonic()
    for calendar_id in stale.values_list("pk", flat=True):
        left = budget - (time.monotonic() - started)
        if left < 0.5:
            break
        try:
            sync(calendar_id, timeout=left, now=now, max_bytes=CHECKOUT_MAX_BYTES)
        except Exception:  # never the checkout's problem
            log.exception("calendar re-read before checkout failed", extra={"mentor_id": mentor_id})


def sync_soon(calendar_ids) -> None:
    """Ask a worker to read these calendars; if the broker is down, beat's next round reads them."""
    for calendar_id in calendar_ids:
        try:
            sync_calendar.delay(calendar_id)
        except Exception:  # the broker is down: beat's next round will read it
            log.warning("calendar sync not queued", extra={"calendar_id": calendar_id}, exc_info=True)
            return


def sync_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat, every minute: queue each calendar not tried for CALENDAR_SYNC_MINUTES."""
    now = now or timezone.now()
    due = list(
        ConnectedCalendar.objects.filter(counts_busy=True)
        .filter(_not_tried_since(now - timedelta(minutes=settings.CALENDAR_SYNC_MINUTES)))
        .order_by(F("last_tried_at").asc(nulls_first=True))
        .values_list("pk", flat=True)[:limit]
    )
    sync_soon(due)
    return len(due)


def refresh_when_viewed(profile: MentorProfile, *, now: datetime | None = None) -> None:
    """The mentor opened their schedule: re-read calendars not tried in the last minute, in the background."""
    now = now or timezone.now()
    sync_soon(
        ConnectedCalendar.objects.filter(mentor=profile, counts_busy=True)
        .filter(_not_tried_since(now - CLAIM_GAP))
        .values_list("pk", flat=True)
    )


@shared_task(name="mentorship.tasks.sync_calendar", ignore_result=True)
def sync_calendar(calendar_id: int) -> bool:
    """Read one connected calendar (claimed, so safe twice)."""
    return sync(calendar_id)


@shared_task(name="mentorship.tasks.sync_calendars", ignore_result=True)
def sync_calendars() -> int:
    """Beat: queue every calendar due for a read."""
    return sync_due()


def write_session(mentor_id: int, uid: str, ical: bytes | None) -> bool:
    """Put a session (its iCal text) into the mentor's write-back calendar, or remove it (None). False when the
    mentor writes sessions nowhere. A failure raises FeedError (the outbox tries again) and shows on the
    calendar."""
    calendar = ConnectedCalendar.objects.filter(mentor_id=mentor_id, write_back=True).first()
    if calendar is None:
        return False
    try:
        account = Account.from_sealed(sealed.unseal(calendar.sealed_address))
        if ical is None:
            caldav_accounts.delete_event(account, uid)
        else:
            caldav_accounts.put_event(account, uid, ical)
    except (FeedError, sealed.Unreadable) as error:
        message = f"Sessions could not be written: {error}"[:300]
        ConnectedCalendar.objects.filter(pk=calendar.pk).update(last_error=message)
        raise FeedError(message) from None
    if calendar.last_error.startswith("Sessions could not be written"):
        ConnectedCalendar.objects.filter(pk=calendar.pk).update(last_error="")
    return True
