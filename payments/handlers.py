"""What payments does when bookings records money decided in a transaction (registered in PaymentsConfig.ready).

Each handler takes ids and calls one service that is safe to run twice: the outbox retries
a handler that raised (Stripe down, say) with backoff until it is done.
"""

from mentorship.outbox import handles

from . import disputes, gateway, ledger, services


@handles("booking.refund_due")
def refund_booking(booking_id: int, reason: str) -> None:
    services.refund_booking_in_full(booking_id, reason=reason)


@handles("payments.refund_decided")
def send_refund(refund_id: int) -> None:
    services.refund_send(refund_id)


@handles("booking.credit_returned")
def credit_returned(booking_id: int) -> None:
    services.credit_returned(booking_id)


@handles("booking.earned")
def record_session_earning(booking_id: int) -> None:
    ledger.record_session_earning(booking_id)
    disputes.disputes_ledger_catch_up(booking_id)  # a chargeback that came before the session was credited


@handles("purchase.expired")
def record_package_expiry(purchase_id: int) -> None:
    ledger.record_package_expiry(purchase_id)


@handles("payments.customer_forget")
def forget_customer(customer_id: str) -> None:
    gateway.delete_customer(customer_id)
