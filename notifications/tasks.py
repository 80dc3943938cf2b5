"""Background jobs for notifications: take ids, send each notification once."""

from celery import shared_task

from . import services


@shared_task(name="notifications.tasks.send_booking_notification")
def send_booking_notification(booking_id: int, kind: str) -> None:
    services.send_booking_notification(booking_id, kind)
