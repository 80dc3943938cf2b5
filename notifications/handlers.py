"""Telling people what the other apps recorded (registered in NotificationsConfig.ready).

Each notice is stored once per key, so a handler that runs twice tells once.
"""

from django.contrib.auth import get_user_model

from mentorship.outbox import handles

from . import calendar, conversations, services


@handles("booking.notice")
def booking_notice(booking_id: int, kind: str, event: str = "") -> None:
    services.send_booking_notification(booking_id, kind, event=event)


@handles("booking.notice")
def booking_in_mentor_calendar(booking_id: int, kind: str, event: str = "") -> None:
    """Sessions written into the mentor's own calendar, if they chose one (mentorship.connected_calendars)."""
    if kind in calendar.CALENDAR_KINDS:
        calendar.write_back(booking_id)


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
