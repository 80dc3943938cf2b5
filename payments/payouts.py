"""Connecting a mentor's Stripe account and paying out their balance.

A payout is claimed in one transaction (a Payout row and a ledger entry that takes
the amount off the balance), then sent to Stripe with idempotency keys from that
row. A failure puts the money back on the balance, and the next run tries again.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from mentorship.models import MentorProfile
from mentorship.money import format_cents

from . import gateway, ledger, notices
from .models import ConnectedAccount, LedgerEntry, Payout

log = logging.getLogger(__name__)


def connect_start(mentor: MentorProfile, *, return_url: str, refresh_url: str) -> str:
    """The Stripe onboarding page for this mentor (their Express account is made the first time)."""
    account = ConnectedAccount.objects.filter(mentor=mentor).first()
    if account is None:
        account_id = gateway.create_connected_account(mentor_id=mentor.pk, email=mentor.user.email)
        account, _ = ConnectedAccount.objects.get_or_create(mentor=mentor, defaults={"stripe_account_id": account_id})
    return gateway.account_onboarding_link(
        account_id=account.stripe_account_id, return_url=return_url, refresh_url=refresh_url
    )


def connect_refresh(mentor: MentorProfile) -> ConnectedAccount | None:
    """Ask Stripe whether onboarding is done and payouts can go to this account."""
    account = ConnectedAccount.objects.filter(mentor=mentor).first()
    if account is not None:
        account.details_submitted, account.payouts_enabled = gateway.account_status(account.stripe_account_id)
        account.save(update_fields=["details_submitted", "payouts_enabled", "updated_at"])
    return account


def payouts_run() -> list[Payout]:
    """Pay every connected mentor whose balance reached the minimum; resend payouts left half-way."""
    done = []
    for payout in Payout.objects.filter(
        status=Payout.Status.PENDING, created_at__lte=timezone.now() - timezone.timedelta(minutes=5)
    ):
        done.append(_send(payout))
    ready = ConnectedAccount.objects.filter(payouts_enabled=True).values_list("mentor_id", flat=True)
    for mentor_id in ready:
        payout = _claim(mentor_id)
        if payout is not None:
            done.append(_send(payout))
    return done


def _claim(mentor_id: int) -> Payout | None:
    with transaction.atomic():
        mentor = MentorProfile.objects.select_for_update().get(pk=mentor_id)
        if Payout.objects.filter(mentor=mentor, status=Payout.Status.PENDING).exists():
            return None  # one at a time
        balance = ledger.balance_cents(mentor)
        if balance < settings.PAYOUT_MINIMUM_CENTS:
            return None
        payout = Payout.objects.create(mentor=mentor, amount_cents=balance, currency=settings.PLATFORM_CURRENCY)
        LedgerEntry.objects.create(
            mentor=mentor,
            kind=LedgerEntry.Kind.PAYOUT,
            amount_cents=-balance,
            source=f"payout-{payout.pk}",
            payout=payout,
        )
    return payout


def _send(payout: Payout) -> Payout:
    account = payout.mentor.stripe_account
    try:
        transfer_id = gateway.transfer(
            payout_id=payout.pk,
            account_id=account.stripe_account_id,
            amount_cents=payout.amount_cents,
            currency=payout.currency,
        )
        Payout.objects.filter(pk=payout.pk).update(stripe_transfer_id=transfer_id)
        stripe_payout_id = gateway.pay_out_connected_account(
            payout_id=payout.pk,
            account_id=account.stripe_account_id,
            amount_cents=payout.amount_cents,
            currency=payout.currency,
        )
    except gateway.GatewayError as error:
        log.warning("Payout %s failed: %s", payout.pk, error)
        return _fail(payout, str(error))
    with transaction.atomic():
        changed = Payout.objects.filter(pk=payout.pk, status=Payout.Status.PENDING).update(
            status=Payout.Status.PAID, stripe_payout_id=stripe_payout_id, paid_at=timezone.now()
        )
        if changed:
            transaction.on_commit(lambda: _tell_mentor(payout.pk))
    payout.refresh_from_db()
    return payout


def _fail(payout: Payout, message: str) -> Payout:
    """Put the money back on the balance; the next run makes a new payout."""
    with transaction.atomic():
        if Payout.objects.filter(pk=payout.pk, status=Payout.Status.PENDING).update(
            status=Payout.Status.FAILED, failure_message=message[:300]
        ):
            LedgerEntry.objects.create(
                mentor_id=payout.mentor_id,
                kind=LedgerEntry.Kind.PAYOUT_RETURNED,
                amount_cents=payout.amount_cents,
                source=f"payout-{payout.pk}-returned",
                payout=payout,
            )
    payout.refresh_from_db()
    return payout


def _tell_mentor(payout_id: int) -> None:
    """Tell the mentor (notifications stores and e-mails it, through the outbox)."""
    payout = Payout.objects.select_related("mentor__user").get(pk=payout_id)
    user = payout.mentor.user
    amount = format_cents(payout.amount_cents, payout.currency)
    body = render_to_string(
        "notifications/email/payout_processed.txt", {"payout": payout, "recipient": user, "amount": amount}
    )
    notices.tell(
        user.pk,
        kind="payout_processed",
        key=f"payout-{payout.pk}",
        subject=f"Payout of {amount} is on its way",
        body=body,
        link=reverse("earnings"),
    )
