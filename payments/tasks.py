"""Background jobs for money: each takes ids and calls one service; safe to run twice."""

from celery import shared_task

from . import ledger, payouts, reconciliation, services, stuck


@shared_task(
    name="payments.tasks.refund_booking", autoretry_for=(services.RefundFailed,), retry_backoff=30, max_retries=8
)
def refund_booking(booking_id: int, reason: str) -> None:
    services.refund_booking_in_full(booking_id, reason=reason)


@shared_task(name="payments.tasks.record_session_earning")
def record_session_earning(booking_id: int) -> None:
    ledger.record_session_earning(booking_id)


@shared_task(
    name="payments.tasks.credit_returned", autoretry_for=(services.RefundFailed,), retry_backoff=30, max_retries=8
)
def credit_returned(booking_id: int) -> None:
    services.credit_returned(booking_id)


@shared_task(name="payments.tasks.record_package_expiry")
def record_package_expiry(purchase_id: int) -> None:
    ledger.record_package_expiry(purchase_id)


@shared_task(
    name="payments.tasks.refund_payment", autoretry_for=(services.RefundFailed,), retry_backoff=30, max_retries=8
)
def refund_payment(payment_id: int, reason: str) -> None:
    services.refund_payment_in_full(payment_id, reason=reason)


@shared_task(name="payments.tasks.resolve_stuck_payments")
def resolve_stuck_payments() -> int:
    return stuck.stuck_payments_resolve()


@shared_task(name="payments.tasks.retry_refunds")
def retry_refunds() -> int:
    return services.refunds_retry()


@shared_task(name="payments.tasks.pay_out_mentors")
def pay_out_mentors() -> int:
    return len(payouts.payouts_run())


@shared_task(name="payments.tasks.reconcile")
def reconcile() -> list[str]:
    return reconciliation.reconcile().lines()
