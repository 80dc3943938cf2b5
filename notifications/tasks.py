"""Background jobs for notifications. Notices themselves arrive through the outbox (notifications.handlers)."""

from celery import shared_task

from . import services


@shared_task(name="notifications.tasks.retry_failed_emails")
def retry_failed_emails() -> int:
    return services.retry_failed_emails()
