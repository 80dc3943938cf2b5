"""Policy values as pages and e-mails state them, from the settings that decide them."""

from django import template

from bookings import policies

register = template.Library()


@register.simple_tag
def pending_timeout() -> str:
    """{% pending_timeout %} -> "7 days": how long a request waits for the mentor before it is refunded."""
    return policies.pending_timeout_text()
