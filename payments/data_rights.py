"""Payments' part of a person's data rights (mentorship.data_rights): what they paid and were refunded, and
a mentor's earnings and payouts, in the copy; on deletion the saved card and Stripe's customer go. Payments,
refunds, payouts and the ledger stay: they are the books."""

from django.db.models import Q

from mentorship import data_rights, outbox

from .models import LedgerEntry, Payment, Payout, StripeCustomer


@data_rights.exports("payments")
def _payments(user) -> dict:
    paid = Payment.objects.filter(Q(booking__mentee=user) | Q(purchase__mentee=user)).prefetch_related("refunds")
    return {
        "paid": [
            {
                "id": payment.pk,
                "booking": payment.booking_id,
                "package_purchase": payment.purchase_id,
                "amount_cents": payment.amount_cents,
                "currency": payment.currency,
                "status": payment.status,
                "card": f"{payment.card_brand} ending {payment.card_last4}" if payment.card_last4 else "",
                "at": data_rights.iso(payment.created_at),
                "refunds": [
                    {
                        "amount_cents": refund.amount_cents,
                        "status": refund.status,
                        "at": data_rights.iso(refund.created_at),
                    }
                    for refund in payment.refunds.all()
                ],
            }
            for payment in paid
        ],
        "earnings": [
            {
                "kind": entry.kind,
                "amount_cents": entry.amount_cents,
                "booking": entry.booking_id,
                "at": data_rights.iso(entry.created_at),
            }
            for entry in LedgerEntry.objects.filter(mentor__user=user, account=LedgerEntry.Account.MENTOR)
        ],
        "payouts": [
            {
                "amount_cents": payout.amount_cents,
                "currency": payout.currency,
                "status": payout.status,
                "at": data_rights.iso(payout.created_at),
                "paid_at": data_rights.iso(payout.paid_at),
            }
            for payout in Payout.objects.filter(mentor__user=user)
        ],  # fmt: skip
    }


@data_rights.refuses
def _payment_under_way(user) -> str:
    """A charge whose answer is not in yet is found through the person's Stripe customer: deleting it now
    could leave a charge nobody refunds. The sweeper settles it within minutes."""
    in_flight = Payment.objects.filter(
        Q(booking__mentee=user) | Q(purchase__mentee=user), status__in=Payment.IN_FLIGHT
    ).exists()
    if not in_flight:
        return ""
    return "A payment of yours is still being checked with the card company. Please try again in a few minutes."


@data_rights.erases
def _forget_saved_card(user) -> None:
    """Our link to their Stripe customer goes now; the customer (name, e-mail, saved card) after commit."""
    for customer in StripeCustomer.objects.filter(user=user):
        outbox.record("payments.customer_forget", customer_id=customer.customer_id)
        customer.delete()
