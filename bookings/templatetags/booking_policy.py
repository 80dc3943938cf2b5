"""Policy values as pages and e-mails state them, from the settings that decide them."""

from django import template

from bookings import policies

register = template.Library()


@register.simple_tag
def pending_timeout() -> str:
    """{% pending_timeout %} -> "7 days": how long a request waits for the mentor before it is refunded."""
    return policies.pending_timeout_text()


@register.simple_tag
def rebook_window() -> str:
    """{% rebook_window %} -> "3 days": how long the mentee chooses after the mentor cancels."""
    return policies.rebook_window_text()
