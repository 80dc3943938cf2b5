from django import template

from .. import services

register = template.Library()


@register.inclusion_tag("payments/_refund_form.html")
def refund_form(booking):
    """The mentor's "give a refund" form on a booking, when there is money left to give back."""
    left = services.refundable_cents(booking) if booking.status in services.GRANTABLE else 0
    return {"booking": booking, "left_cents": left}
