"""Periodic jobs for money (beat). Side effects decided in a transaction arrive through the outbox
instead (payments.handlers); each job here is safe to run twice."""

from celery import shared_task

from . import payouts, reconciliation, services, stuck


@shared_task(name="payments.tasks.resolve_stuck_payments")
def resolve_stuck_payments() -> int:
    return stuck.stuck_payments_resolve()


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
