"""Background jobs for money: each takes ids and calls one service; safe to run twice.

A refund job writes its rows before it calls Stripe; when Stripe cannot be reached the
rows wait and the retry_refunds sweeper sends them, so these jobs never retry themselves.
"""

import logging

from celery import shared_task

from . import ledger, payouts, reconciliation, services

log = logging.getLogger(__name__)


@shared_task(name="payments.tasks.refund_booking")
def refund_booking(booking_id: int, reason: str) -> None:
    try:
        services.refund_booking_in_full(booking_id, reason=reason)
    except services.RefundFailed as error:
        log.warning("%s; the retry job sends it", error)


@shared_task(name="payments.tasks.record_session_earning")
def record_session_earning(booking_id: int) -> None:
    ledger.record_session_earning(booking_id)


@shared_task(name="payments.tasks.credit_returned")
def credit_returned(booking_id: int) -> None:
    try:
        services.credit_returned(booking_id)
    except services.RefundFailed as error:
        log.warning("%s; the retry job sends it", error)


@shared_task(name="payments.tasks.record_package_expiry")
def record_package_expiry(purchase_id: int) -> None:
    ledger.record_package_expiry(purchase_id)


@shared_task(name="payments.tasks.refund_payment")
def refund_payment(payment_id: int, reason: str) -> None:
    try:
        services.refund_payment_in_full(payment_id, reason=reason)
    except services.RefundFailed as error:
        log.warning("%s; the retry job sends it", error)


@shared_task(name="payments.tasks.send_refund")
def send_refund(refund_id: int) -> None:
    """Send one refund row decided in a transaction that has committed."""
    try:
        services.refund_send(refund_id)
    except services.RefundFailed as error:
        log.warning("%s; the retry job sends it", error)


@shared_task(name="payments.tasks.retry_refunds")
def retry_refunds() -> int:
    return services.refunds_retry()


@shared_task(name="payments.tasks.pay_out_mentors")
def pay_out_mentors() -> int:
    return len(payouts.payouts_run())


@shared_task(name="payments.tasks.finish_payouts")
def finish_payouts() -> int:
    return len(payouts.payouts_finish())


@shared_task(name="payments.tasks.reconcile")
def reconcile() -> list[str]:
    return reconciliation.reconcile().lines()
