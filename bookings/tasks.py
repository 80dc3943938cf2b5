"""Background jobs of the booking lifecycle: each takes ids or nothing and calls one service."""

from celery import shared_task

from . import directory, packages, reminders, services


@shared_task(name="bookings.tasks.release_expired_holds")
def release_expired_holds() -> int:
    return services.release_expired_holds()


@shared_task(name="bookings.tasks.expire_pending_bookings")
def expire_pending_bookings() -> int:
    return services.expire_pending_bookings()


@shared_task(name="bookings.tasks.complete_unmarked_sessions")
def complete_unmarked_sessions() -> int:
    return services.complete_unmarked_sessions()


@shared_task(name="bookings.tasks.send_reminders")
def send_reminders() -> dict:
    return reminders.run_all()


@shared_task(name="bookings.tasks.refresh_next_free")
def refresh_next_free(mentor_id: int) -> None:
    directory.refresh_next_free(mentor_id)


@shared_task(name="bookings.tasks.refresh_next_free_times")
def refresh_next_free_times() -> int:
    """Fan out: one short job per listed mentor whose free time changed or came due (not every mentor), so no
    single job nears the time limit however many there are."""
    ids = directory.stale_next_free_ids()
    for mentor_id in ids:
        refresh_next_free.delay(mentor_id)
    return len(ids)


@shared_task(name="bookings.tasks.package_sweeps")
def package_sweeps() -> dict:
    return packages.run_sweeps()


@shared_task(name="bookings.tasks.refund_unanswered_cancellations")
def refund_unanswered_cancellations() -> int:
    return services.refund_unanswered_cancellations()
