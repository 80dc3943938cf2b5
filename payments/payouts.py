"""Connecting a mentor's Stripe account and paying out their balance.

A payout is claimed in one transaction (a Payout row and a ledger entry that takes
the amount off the balance), then sent to Stripe in two recorded steps, each with an
idempotency key from that row: the transfer to the mentor's connected account (its
id stored and committed on its own), then the payout from there to their bank.

- Stripe refused the transfer: nothing moved, so the money goes back on the balance
  (PAYOUT_RETURNED) and the next run makes a new payout.
- No answer to the transfer: it may have happened, so nothing goes back; the next run
  asks again with the same key and gets the first transfer, never a second one.
- Once a transfer id is stored the payout is never transferred again: a failed bank
  step leaves it "transferred", and the next run retries only that step, same key.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from mentorship import log_context
from mentorship.models import MentorProfile
from mentorship.money import format_cents

from . import gateway, ledger, notices
from .models import ConnectedAccount, LedgerEntry, Payout
from .services import stripe_reason, stripe_refused

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


# A payout claimed this long ago and still pending was left half-way (a worker died): send it again.
LEFT_HALF_WAY = timedelta(minutes=5)


def payouts_run(*, now=None) -> list[Payout]:
    """Pay every connected mentor whose balance reached the minimum; finish payouts left half-way first."""
    done = payouts_finish(now=now)
    ready = ConnectedAccount.objects.filter(payouts_enabled=True).values_list("mentor_id", flat=True)
    for mentor_id in ready:
        payout = _claim(mentor_id)
        if payout is not None:
            done.append(_send(payout))
    return done


def payouts_finish(*, now=None) -> list[Payout]:
    """Finish payouts left half-way: a transfer without an answer (asked again with the same key) or a
    failed bank step. Run every few minutes by beat, well within the 24 hours Stripe keeps a key."""
    now = now or timezone.now()
    unfinished = Payout.objects.filter(
        Q(status=Payout.Status.PENDING, created_at__lte=now - LEFT_HALF_WAY) | Q(status=Payout.Status.TRANSFERRED)
    )
    return [_send(payout) for payout in unfinished.select_related("mentor__stripe_account").order_by("pk")]


def _claim(mentor_id: int) -> Payout | None:
    with transaction.atomic():
        mentor = MentorProfile.objects.select_for_update().get(pk=mentor_id)
        if Payout.objects.filter(mentor=mentor, status__in=Payout.IN_FLIGHT).exists():
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
    with log_context.scoped(payout_id=payout.pk, mentor_id=payout.mentor_id):
        return _send_steps(payout)


def _send_steps(payout: Payout) -> Payout:
    if payout.status == Payout.Status.PENDING and not payout.stripe_transfer_id:
        payout = _transfer(payout)
    if payout.status == Payout.Status.TRANSFERRED:
        payout = _pay_out_to_bank(payout)
    return payout


def _transfer(payout: Payout) -> Payout:
    """Step one: move the money to the mentor's connected account, and record that it moved."""
    try:
        transfer_id = gateway.transfer(
            payout_id=payout.pk,
            account_id=payout.mentor.stripe_account.stripe_account_id,
            amount_cents=payout.amount_cents,
            currency=payout.currency,
        )
    except gateway.GatewayError as error:
        if stripe_refused(error):  # Stripe said no: no money moved
            log.warning("Stripe refused the transfer of payout %s: %s", payout.pk, error)
            return _fail(payout, stripe_reason(error))
        log.warning("No answer to the transfer of payout %s; the next run asks again: %s", payout.pk, error)
        unanswered = Payout.objects.filter(pk=payout.pk, status=Payout.Status.PENDING)
        unanswered.update(failure_message=stripe_reason(error)[:300])
        payout.refresh_from_db()
        return payout
    # Committed on its own, before the bank step: from here on this payout is never transferred again.
    Payout.objects.filter(pk=payout.pk, status=Payout.Status.PENDING, stripe_transfer_id="").update(
        status=Payout.Status.TRANSFERRED, stripe_transfer_id=transfer_id, transferred_at=timezone.now()
    )
    payout.refresh_from_db()
    return payout


def _pay_out_to_bank(payout: Payout) -> Payout:
    """Step two: pay the transferred money out to the mentor's bank; on failure the next run tries again."""
    try:
        stripe_payout_id = gateway.pay_out_connected_account(
            payout_id=payout.pk,
            account_id=payout.mentor.stripe_account.stripe_account_id,
            amount_cents=payout.amount_cents,
            currency=payout.currency,
            attempt=payout.bank_attempts,
        )
    except gateway.GatewayError as error:
        log.warning("Bank payout of payout %s failed; the next run tries again: %s", payout.pk, error)
        # Refused (a 4xx Stripe keeps under the key and would replay): the next try is a new request.
        # No answer or a 5xx: the same request again, which Stripe may have carried out.
        refused = 1 if stripe_refused(error) else 0
        with transaction.atomic():
            Payout.objects.filter(pk=payout.pk, status=Payout.Status.TRANSFERRED).update(
                failure_message=stripe_reason(error)[:300], bank_attempts=F("bank_attempts") + refused
            )
            payout.refresh_from_db()
            if refused and payout.bank_attempts == BANK_REFUSALS_TOLD:
                _tell_staff_bank_refuses(payout)
        return payout
    with transaction.atomic():
        changed = Payout.objects.filter(pk=payout.pk, status=Payout.Status.TRANSFERRED).update(
            status=Payout.Status.PAID, stripe_payout_id=stripe_payout_id, paid_at=timezone.now(), failure_message=""
        )
        if changed:
            _tell_mentor(payout.pk)
    payout.refresh_from_db()
    return payout


# After this many refusals of the bank step a person must look (the mentor's bank details, say): the
# payout keeps being tried, and blocks the mentor's next ones until it is paid.
BANK_REFUSALS_TOLD = 3


def _tell_staff_bank_refuses(payout: Payout) -> None:
    amount = format_cents(payout.amount_cents, payout.currency)
    notices.tell_staff(
        kind="payout_stuck",
        key=f"payout-{payout.pk}-bank-refused",
        subject=f"Payout #{payout.pk} of {amount} is stuck at the bank step",
        body=(
            f"Stripe refused to pay {amount} out to {payout.mentor}'s bank {payout.bank_attempts} times "
            f"(last: {payout.failure_message}). The money is in their Stripe account; their next payouts "
            "wait for this one. Check their payout details in the Stripe dashboard."
        ),
        link=reverse("admin:payments_payout_change", args=[payout.pk]),
    )


def _fail(payout: Payout, message: str) -> Payout:
    """The transfer was refused, so no money moved: put it back on the balance; the next run makes a new payout."""
    with transaction.atomic():
        if Payout.objects.filter(pk=payout.pk, status=Payout.Status.PENDING, stripe_transfer_id="").update(
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
