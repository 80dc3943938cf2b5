"""`{% booking_draft_summary as kept %}`: the booking a signed-out visitor chose, for the sign-in pages."""

from django import template

from mentorship import booking_draft

register = template.Library()


@register.simple_tag(takes_context=True)
def booking_draft_summary(context) -> str | None:
    request = context.get("request")
    return booking_draft.summary(request) if request is not None else None
