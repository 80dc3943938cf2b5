"""Background jobs of the booking lifecycle: each takes ids or nothing and calls one service."""

from celery import shared_task

from . import reminders, services


@shared_task(name="bookings.tasks.release_expired_holds")
def release_expired_holds() -> int:
    return services.release_expired_holds()


@shared_task(name="bookings.tasks.expire_pending_bookings")
def expire_pending_bookings() -> int:
    return services.expire_pending_bookings()


@shared_task(name="bookings.tasks.send_reminders")
def send_reminders() -> dict:
    return reminders.run_all()
