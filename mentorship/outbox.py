"""The transactional outbox: side effects recorded as rows in the transaction that decides them.

An app records what happened (`record("booking.refund_due", booking_id=3, reason="declined")`), never naming who
acts on it. Apps that act register a handler for the topic in their `AppConfig.ready()`
(`@handles("booking.refund_due")`), so dependencies keep pointing one way. Each handler gets its
own row; after commit the row is handed to Celery, and if that hand-off fails (broker down) the
request still succeeds: `sweep()`, run every minute by beat, dispatches again every row not done.
Handlers are claimed by a conditional update and must be safe to run twice.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import log_context
from .models import OutboxEntry

log = logging.getLogger(__name__)
Status = OutboxEntry.Status

_topics: dict[str, list[str]] = defaultdict(list)  # topic -> handler names
_handlers: dict[str, Callable[..., object]] = {}  # handler name -> function

MAX_ATTEMPTS = 12
SWEEP_GRACE = timedelta(minutes=1)  # a row dispatched just now is probably on its way
KEEP_DONE = timedelta(days=14)


def handles(topic: str):
    """Register the decorated function as a handler of `topic`; it is called with the payload's keys."""

    def register(function):
        name = f"{function.__module__}.{function.__qualname__}"
        if name not in _topics[topic]:
            _topics[topic].append(name)
        _handlers[name] = function
        return function

    return register


def handlers_of(topic: str) -> list[str]:
    return list(_topics.get(topic, ()))


def record(topic: str, *, once: str | None = None, **payload) -> list[OutboxEntry]:
    """Write one row per handler of `topic` in the current transaction; dispatched after commit.

    With `once` (a key), the topic is done once per key however often it is recorded.
    """
    names = handlers_of(topic)
    if not names:
        raise LookupError(f"No handler is registered for outbox topic {topic!r}")
    entries = []
    for name in names:
        try:
            with transaction.atomic():
                entries.append(
                    OutboxEntry.objects.create(
                        topic=topic, handler=name, payload=payload, key=f"{name}:{once}" if once else None
                    )
                )
        except IntegrityError:
            continue  # recorded before under this key
    ids = [entry.pk for entry in entries]
    if ids:
        transaction.on_commit(lambda: dispatch(ids))
    return entries


def record_many(topic: str, payloads: list[dict]) -> list[OutboxEntry]:
    """`record` for many payloads of one topic at once (a sweep's batch): one insert, one hand-off after commit."""
    names = handlers_of(topic)
    if not names:
        raise LookupError(f"No handler is registered for outbox topic {topic!r}")
    entries = OutboxEntry.objects.bulk_create(
        [OutboxEntry(topic=topic, handler=name, payload=payload) for payload in payloads for name in names]
    )
    ids = [entry.pk for entry in entries]
    if ids:
        transaction.on_commit(lambda: dispatch(ids))
    return entries


# A few rows go one message each, so workers take them in parallel; a sweep's hundreds go this many to a
# message (a message costs milliseconds to publish), each row still claimed and run on its own.
DISPATCH_ONE_BY_ONE = 20
DISPATCH_CHUNK = 20


def dispatch(entry_ids: list[int]) -> int:
    """Hand rows to Celery. A broker that can't be reached leaves them to the sweeper; the caller never fails."""
    if len(entry_ids) <= DISPATCH_ONE_BY_ONE:
        messages = [(run_outbox_entry, (entry_id,), 1) for entry_id in entry_ids]
    else:
        chunks = [entry_ids[at : at + DISPATCH_CHUNK] for at in range(0, len(entry_ids), DISPATCH_CHUNK)]
        messages = [(run_outbox_entries, (chunk,), len(chunk)) for chunk in chunks]
    sent = 0
    for task, args, rows in messages:
        try:
            task.delay(*args)
        except Exception as error:
            if run_outbox_entry.app.conf.task_always_eager:
                raise  # in-process: a failure here is a bug, not an outage
            log.warning("Outbox: could not hand %s rows to the broker (%s); the sweeper will", len(entry_ids), error)
            break
        sent += rows
    return sent


def backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4 … minutes after the n-th failure, at most an hour."""
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), timedelta(hours=1))


def lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def run(entry_id: int) -> bool:
    """Claim the row and call its handler; True when this call did it. Safe to run twice or concurrently."""
    now = timezone.now()
    due = Q(status=Status.PENDING, available_at__lte=now) | Q(status=Status.RUNNING, claimed_until__lt=now)
    claimed = OutboxEntry.objects.filter(due, pk=entry_id).update(
        status=Status.RUNNING, claimed_until=now + lease(), attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    entry = OutboxEntry.objects.get(pk=entry_id)
    with log_context.scoped(**{name: entry.payload[name] for name in log_context.FIELDS if name in entry.payload}):
        return _run_claimed(entry)


def _run_claimed(entry: OutboxEntry) -> bool:
    # The attempt number is this claim's token: a worker that outlived its lease and lost the row to
    # another finishes nothing on it.
    mine = OutboxEntry.objects.filter(pk=entry.pk, status=Status.RUNNING, attempts=entry.attempts)
    handler = _handlers.get(entry.handler)
    try:
        if handler is None:
            raise LookupError(f"No handler named {entry.handler}")
        handler(**entry.payload)
    except Exception as error:
        gave_up = entry.attempts >= MAX_ATTEMPTS
        (log.error if gave_up else log.warning)(
            "Outbox %s (%s, attempt %s) failed: %r", entry.pk, entry.handler, entry.attempts, error
        )
        mine.update(
            status=Status.FAILED if gave_up else Status.PENDING,
            available_at=timezone.now() + backoff(entry.attempts),
            claimed_until=None,
            last_error=repr(error)[:300],
        )
        return False
    mine.update(status=Status.DONE, done_at=timezone.now(), claimed_until=None, last_error="")
    return True


def due(*, now=None, limit: int = 500) -> list[int]:
    """Rows to dispatch again: not done a while after they were due, or left by a worker that died."""
    now = now or timezone.now()
    # Two ranges of the (status, available_at) index, each read in id order, not a scan of every row.
    pending = OutboxEntry.objects.filter(status=Status.PENDING, available_at__lte=now - SWEEP_GRACE)
    lapsed = OutboxEntry.objects.filter(status=Status.RUNNING, claimed_until__lt=now)
    ids = [pk for rows in (pending, lapsed) for pk in rows.order_by("pk").values_list("pk", flat=True)[:limit]]
    return sorted(ids)[:limit]


def sweep(*, now=None) -> int:
    """Dispatch again whatever is not done; forget done rows after two weeks. Run every minute by beat."""
    now = now or timezone.now()
    OutboxEntry.objects.filter(status=Status.DONE, done_at__lt=now - KEEP_DONE).delete()
    return dispatch(due(now=now))


def retry(entry_ids: list[int]) -> int:
    """Staff try rows that gave up once more."""
    count = OutboxEntry.objects.filter(pk__in=entry_ids, status=Status.FAILED).update(
        status=Status.PENDING, available_at=timezone.now(), attempts=0
    )
    transaction.on_commit(lambda: dispatch(list(entry_ids)))
    return count


# The two jobs live here, beside what they run, so the outbox needs no import back from a tasks module.
@shared_task(name="mentorship.tasks.run_outbox_entry")
def run_outbox_entry(entry_id: int) -> bool:
    return run(entry_id)


@shared_task(name="mentorship.tasks.run_outbox_entries")
def run_outbox_entries(entry_ids: list[int]) -> int:
    return sum(run(entry_id) for entry_id in entry_ids)


@shared_task(name="mentorship.tasks.sweep_outbox")
def sweep_outbox() -> int:
    return sweep()
