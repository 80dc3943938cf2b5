"""Background jobs of the outbox: carry out one recorded side effect, and sweep up what is not done."""

from celery import shared_task

from . import outbox


@shared_task(name="mentorship.tasks.run_outbox_entry")
def run_outbox_entry(entry_id: int) -> bool:
    return outbox.run(entry_id)


@shared_task(name="mentorship.tasks.sweep_outbox")
def sweep_outbox() -> int:
    return outbox.sweep()
