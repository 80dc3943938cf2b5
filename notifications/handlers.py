"""Telling people what the other apps recorded (registered in NotificationsConfig.ready).

Each notice is stored once per key, so a handler that runs twice tells once.
"""

from django.contrib.auth import get_user_model

from mentorship.outbox import handles

from . import conversations, services


@handles("booking.notice")
def booking_notice(booking_id: int, kind: str, event: str = "") -> None:
    services.send_booking_notification(booking_id, kind, event=event)


@handles("purchase.notice")
def purchase_notice(purchase_id: int, kind: str) -> None:
    services.send_purchase_notification(purchase_id, kind)


@handles("user.notice")
def user_notice(user_id: int, kind: str, key: str, subject: str, body: str, link: str = "") -> None:
    recipient = get_user_model().objects.get(pk=user_id)
    services.notify(recipient, kind=kind, key=key, subject=subject, body=body, link=link)


@handles("message.sent")
def message_sent(message_id: int) -> None:
    conversations.message_notify(message_id)
