"""Reads about payments that other apps show (registered with bookings in PaymentsConfig.ready())."""

from .models import Payment


def refund_card_last4(booking) -> str:
    """The last four digits of the card a booking's refunds go back to: the card of its successful payment."""
    payment = Payment.objects.filter(booking=booking, status=Payment.Status.SUCCEEDED).exclude(card_last4="")
    return payment.values_list("card_last4", flat=True).first() or ""
