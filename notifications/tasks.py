"""Background jobs for notifications: take ids, send each notification once."""

from celery import shared_task

from . import services


@shared_task(name="notifications.tasks.send_booking_notification")
def send_booking_notification(booking_id: int, kind: str) -> None:
    services.send_booking_notification(booking_id, kind)


@shared_task(name="notifications.tasks.send_notification")
def send_notification(user_id: int, kind: str, key: str, subject: str, body: str, link: str = "") -> None:
    from django.contrib.auth import get_user_model

    recipient = get_user_model().objects.get(pk=user_id)
    services.notify(recipient, kind=kind, key=key, subject=subject, body=body, link=link)


@shared_task(name="notifications.tasks.send_purchase_notification")
def send_purchase_notification(purchase_id: int, kind: str) -> None:
    services.send_purchase_notification(purchase_id, kind)


@shared_task(name="notifications.tasks.send_message_notification")
def send_message_notification(message_id: int) -> None:
    from . import conversations

    conversations.message_notify(message_id)


@shared_task(name="notifications.tasks.retry_failed_emails")
def retry_failed_emails() -> int:
    return services.retry_failed_emails()
