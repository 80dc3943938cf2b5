"""`{% booking_draft_summary as kept %}`: the booking a signed-out visitor chose, for the sign-in pages;
`{% booking_draft_field %}`: the hidden field that lets the sign-in from this page take it on."""

from django import template
from django.utils.html import format_html

from mentorship import booking_draft

register = template.Library()


@register.simple_tag(takes_context=True)
def booking_draft_summary(context) -> str | None:
    request = context.get("request")
    return booking_draft.summary(request) if request is not None else None


@register.simple_tag(takes_context=True)
def booking_draft_field(context) -> str:
    request = context.get("request")
    token = booking_draft.token(request) if request is not None else ""
    return format_html('<input type="hidden" name="{}" value="{}">', booking_draft.TOKEN_FIELD, token) if token else ""
