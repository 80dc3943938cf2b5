"""What a notice in the in-app list adds under its subject."""

from django import template

from bookings import selectors

register = template.Library()


@register.filter
def decline_reason(notification) -> str:
    """The mentor's reason on a "declined" notice, as the e-mail quotes it; empty otherwise."""
    if notification.kind != "booking_declined" or notification.booking is None:
        return ""
    if hasattr(notification, "decline_note"):  # read with the list (notifications.selectors.recent)
        return notification.decline_note or "" if notification.booking.status == "declined" else ""
    return selectors.decline_reason(notification.booking)
