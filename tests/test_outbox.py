"""The outbox: a side effect is a row from the commit that decided it until it is done, once."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from mentorship import outbox
from mentorship.models import OutboxEntry

pytestmark = pytest.mark.django_db(transaction=True)
Status = OutboxEntry.Status

calls: list[int] = []
failures_left = {"count": 0}


@outbox.handles("test.something_happened")
def remember(number: int) -> None:
    if failures_left["count"] > 0:
        failures_left["count"] -= 1
        raise ConnectionError("the other side is down")
    calls.append(number)


@pytest.fixture(autouse=True)
def _fresh():
    calls.clear()
    failures_left["count"] = 0


def test_a_side_effect_runs_after_commit_and_never_when_the_change_rolls_back():
    with transaction.atomic():
        outbox.record("test.something_happened", number=1)
        assert calls == []  # not before the commit
    assert calls == [1]
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.record("test.something_happened", number=2)
        raise RuntimeError("the change failed")
    assert calls == [1] and OutboxEntry.objects.count() == 1


def test_a_failed_handler_is_tried_again_after_its_backoff_and_done_once():
    failures_left["count"] = 2
    (entry,) = outbox.record("test.something_happened", number=7)
    entry.refresh_from_db()
    assert (entry.status, entry.attempts, calls) == (Status.PENDING, 1, [])
    assert "the other side is down" in entry.last_error
    assert outbox.sweep(now=timezone.now()) == 0  # still inside its backoff
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        outbox.sweep()
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        outbox.sweep()
        outbox.sweep()
        assert outbox.run(entry.pk) is False  # done: a late second run does nothing
    entry.refresh_from_db()
    assert (entry.status, entry.attempts, calls) == (Status.DONE, 3, [7])


def test_a_row_a_dead_worker_left_running_is_taken_up_after_its_lease():
    with transaction.atomic():
        (entry,) = outbox.record("test.something_happened", number=3)
        # The worker claimed it and died before finishing (as if SIGKILLed).
        OutboxEntry.objects.filter(pk=entry.pk).update(
            status=Status.RUNNING, attempts=1, claimed_until=timezone.now() + outbox.lease()
        )
    assert calls == [] and outbox.sweep() == 0  # its lease still runs
    with time_machine.travel(timezone.now() + outbox.lease() + timedelta(seconds=1)):
        assert outbox.sweep() == 1
    entry.refresh_from_db()
    assert (entry.status, calls) == (Status.DONE, [3])


def test_once_keys_record_a_side_effect_once():
    outbox.record("test.something_happened", once="number-5", number=5)
    outbox.record("test.something_happened", once="number-5", number=5)
    assert calls == [5] and OutboxEntry.objects.count() == 1


def test_after_many_failures_staff_see_it_given_up_and_can_try_again(admin_client):
    failures_left["count"] = outbox.MAX_ATTEMPTS
    (entry,) = outbox.record("test.something_happened", number=9)
    moment = timezone.now()
    for _ in range(outbox.MAX_ATTEMPTS):
        moment += timedelta(hours=2)
        with time_machine.travel(moment):
            outbox.sweep()
    entry.refresh_from_db()
    assert (entry.status, entry.attempts, calls) == (Status.FAILED, outbox.MAX_ATTEMPTS, [])
    changelist = reverse("admin:mentorship_outboxentry_changelist")
    page = admin_client.get(changelist + "?status=failed").content.decode()
    assert "test.something_happened" in page and "the other side is down" in page
    admin_client.post(changelist, {"action": "try_again", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert (entry.status, calls) == (Status.DONE, [9])


def test_every_topic_the_apps_record_has_a_handler():
    for topic in (
        "booking.refund_due",
        "booking.credit_returned",
        "booking.earned",
        "booking.notice",
        "purchase.notice",
        "purchase.expired",
        "mentor.free_time_changed",
        "user.notice",
        "message.sent",
    ):
        assert outbox.handlers_of(topic), topic


@outbox.handles("test.slow_worker")
def overtaken(entry_key: str) -> None:
    """Worker A is so slow that its lease runs out and worker B claims the row meanwhile; then A fails."""
    entry = OutboxEntry.objects.get(key__endswith=entry_key)
    OutboxEntry.objects.filter(pk=entry.pk).update(
        attempts=entry.attempts + 1, claimed_until=timezone.now() + outbox.lease()
    )
    raise TimeoutError("worker A gave up late")


def test_a_worker_that_outlived_its_lease_leaves_alone_the_row_another_took():
    (entry,) = outbox.record("test.slow_worker", once="slow-1", entry_key="slow-1")
    entry.refresh_from_db()
    # A's late failure did not put B's claim back to "to do" (B would be joined by a third worker).
    assert (entry.status, entry.attempts, entry.last_error) == (Status.RUNNING, 2, "")
