from django import template

from mentorship.zones import zone_label

register = template.Library()


@register.filter
def zonelabel(name: str, at=None) -> str:
    """{{ viewer_zone|zonelabel }} -> "New York (EST, UTC−5)" now; {{ zone|zonelabel:booking.start }} at that time."""
    return zone_label(str(name), at or None) if name else ""
