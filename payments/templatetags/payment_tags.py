from django import template

from .. import services
from ..models import Refund

register = template.Library()


@register.inclusion_tag("payments/_refund_form.html")
def refund_form(booking):
    """The mentor's "give a refund" form on a booking, when there is money left to give back."""
    open_choice = booking.rebook_until is not None  # the mentee may still take a new time or the full refund
    left = services.refundable_cents(booking) if booking.status in services.GRANTABLE and not open_choice else 0
    return {"booking": booking, "left_cents": left}


def _refunds(booking) -> list[Refund]:
    """The booking's refunds as the person sees them: a failed one that was tried again shows as its retry.

    Reads what was prefetched (`payments__refunds` on a list), else asks the database."""
    refunds = []
    for payment in booking.payments.all():
        if payment.status != payment.Status.SUCCEEDED:
            continue
        for refund in payment.refunds.all():
            if refund.status == Refund.Status.FAILED and hasattr(refund, "retried_by"):
                continue
            refund.card_payment = payment
            refunds.append(refund)
    return sorted(refunds, key=lambda refund: refund.created_at)


@register.inclusion_tag("payments/_refund_lines.html")
def refund_lines(booking, *, for_mentor: bool = False):
    """ "Refunded $75.00 to Visa ending 4242 on 2 Dec" for each refund of the booking's card payment.

    The card is the mentee's: the mentor reads the amount only."""
    return {"refunds": _refunds(booking), "for_mentor": for_mentor, "booking": booking}


@register.simple_tag
def refunded_cents(booking) -> int:
    """What went back to the card so far (sent or on its way), for "Refunded $75.00" beside a receipt."""
    return sum(refund.amount_cents for refund in _refunds(booking) if refund.status != Refund.Status.FAILED)
