"""Money: card payments, refunds, Stripe customers, webhook events and the mentor ledger."""

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum

from bookings.models import Booking, PackagePurchase
from mentorship.models import MentorProfile


class StripeCustomer(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stripe_customer")
    customer_id = models.CharField(max_length=64, unique=True)
    # The card that last paid, offered again at the next checkout (it lives on Stripe; we keep a label).
    saved_payment_method_id = models.CharField(max_length=64, blank=True)
    saved_card_brand = models.CharField(max_length=20, blank=True)
    saved_card_last4 = models.CharField(max_length=4, blank=True)


class Payment(models.Model):
    """One attempt to charge a card for a booking or a package. Written before Stripe is called."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        REQUIRES_ACTION = "requires_action", "Needs authentication"
        SUCCEEDED = "succeeded", "Paid"
        FAILED = "failed", "Failed"

    # An attempt still under way: one at a time per booking.
    IN_FLIGHT = (Status.PROCESSING, Status.REQUIRES_ACTION)

    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    purchase = models.ForeignKey(
        PackagePurchase, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROCESSING)
    stripe_payment_intent_id = models.CharField(max_length=64, blank=True, db_index=True)
    payment_method_id = models.CharField(max_length=64, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The admin list: newest first, whole or by status.
            models.Index(fields=["created_at"], name="payment_created"),
            models.Index(fields=["status", "created_at"], name="payment_status_created"),
            # The stuck-payment sweeper's range (payments.stuck.stuck_payments_resolve).
            models.Index(fields=["updated_at"], condition=Q(status="processing"), name="payment_processing"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["booking"],
                condition=Q(status__in=["processing", "requires_action"]),
                name="one_payment_attempt_at_a_time",
            ),
            models.UniqueConstraint(
                fields=["purchase"],
                condition=Q(status__in=["processing", "requires_action"]),
                name="one_package_payment_attempt_at_a_time",
            ),
            models.CheckConstraint(
                condition=Q(booking__isnull=False, purchase__isnull=True)
                | Q(booking__isnull=True, purchase__isnull=False),
                name="payment_for_a_booking_or_a_package",
            ),
        ]

    def __str__(self):
        what = f"booking #{self.booking_id}" if self.booking_id else f"package purchase #{self.purchase_id}"
        return f"Payment #{self.pk} for {what}: {self.amount_cents} {self.currency} {self.status}"

    def refunded_cents(self) -> int:
        return self.refunds.exclude(status=Refund.Status.FAILED).aggregate(total=Sum("amount_cents"))["total"] or 0


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.PositiveIntegerField()
    reason = models.CharField(max_length=40)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    stripe_refund_id = models.CharField(max_length=64, blank=True, db_index=True)
    # Why Stripe refused or failed it, for staff in admin (the retry and reconciliation go on from there).
    failure_message = models.CharField(max_length=300, blank=True)
    # Set by the worker sending it (a conditional UPDATE), so two workers never send one refund twice.
    send_claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A refund Stripe reported failed is tried again once, as a new row pointing here.
    retry_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="retried_by")
    attempt = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive")]
        # The refund retry sweeper's range (payments.services.refunds_retry).
        indexes = [models.Index(fields=["created_at"], condition=Q(status="pending"), name="refund_pending_created")]

    def __str__(self):
        return f"Refund #{self.pk}: {self.amount_cents} of payment #{self.payment_id} ({self.status})"


class WebhookEvent(models.Model):
    """Each Stripe event id is stored once, so a redelivered event that was handled does nothing."""

    event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)
    # Set once the handler finished; an event left unhandled (its process died) is handled on redelivery.
    handled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.type} {self.event_id}"


class ConnectedAccount(models.Model):
    """A mentor's Stripe Express account, where payouts go."""

    mentor = models.OneToOneField(MentorProfile, on_delete=models.CASCADE, related_name="stripe_account")
    stripe_account_id = models.CharField(max_length=64, unique=True)
    details_submitted = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.stripe_account_id} ({'ready' if self.payouts_enabled else 'onboarding'})"


class Payout(models.Model):
    """Money sent from the platform to a mentor's connected account, in two recorded steps.

    Written (pending) before Stripe is called; the transfer to the connected account is
    recorded (transferred) on its own before the bank payout is asked for (paid).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Processing"
        TRANSFERRED = "transferred", "Sent to your Stripe account"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"

    # Claimed and not finished: one at a time per mentor, and picked up again by the next run.
    IN_FLIGHT = (Status.PENDING, Status.TRANSFERRED)

    mentor = models.ForeignKey(MentorProfile, on_delete=models.PROTECT, related_name="payouts")
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    stripe_transfer_id = models.CharField(max_length=64, blank=True)
    transferred_at = models.DateTimeField(null=True, blank=True)
    stripe_payout_id = models.CharField(max_length=64, blank=True)
    # Bank steps Stripe refused so far: each new try is a new request (a new idempotency key).
    bank_attempts = models.PositiveSmallIntegerField(default=0)
    failure_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # The sweeper that finishes payouts left half-way reads only these (payments.payouts.payouts_finish).
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(status__in=["pending", "transferred"]), name="payout_unfinished"
            )
        ]

    def __str__(self):
        return f"Payout #{self.pk}: {self.amount_cents} to {self.mentor} ({self.status})"


class LedgerEntry(models.Model):
    """Append-only record of money owed: to a mentor (their balance is the sum) or kept by the platform.

    `source` names what caused the entry, once: running a job twice cannot write it twice.
    """

    class Account(models.TextChoices):
        MENTOR = "mentor", "Mentor"
        PLATFORM = "platform", "Platform"

    class Kind(models.TextChoices):
        SESSION_SHARE = "session_share", "Session earning"
        PLATFORM_FEE = "platform_fee", "Platform fee"
        REFUND = "refund", "Refund after the session"
        REFUND_FAILED = "refund_failed", "Refund failed, share restored"
        PAYOUT = "payout", "Payout"
        PAYOUT_RETURNED = "payout_returned", "Payout failed, returned to balance"
        PACKAGE_EXPIRED = "package_expired", "Unused package credits"

    mentor = models.ForeignKey(MentorProfile, on_delete=models.PROTECT, related_name="ledger_entries")
    account = models.CharField(max_length=10, choices=Account.choices, default=Account.MENTOR)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount_cents = models.IntegerField(help_text="Positive: owed to the account; negative: taken back or paid out.")
    source = models.CharField(max_length=64, unique=True)
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries")
    refund = models.ForeignKey("Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries")
    payout = models.ForeignKey(Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries")
    purchase = models.ForeignKey(
        PackagePurchase, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "ledger entries"
        indexes = [
            # Earnings: a mentor's own entries, newest first, a page at a time.
            models.Index(fields=["mentor", "account", "created_at"], name="ledger_mentor_account_created"),
            # The admin list: newest first, whole or by kind.
            models.Index(fields=["created_at"], name="ledger_created"),
            models.Index(fields=["kind", "created_at"], name="ledger_kind_created"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount_cents} ({self.account}, {self.mentor})"


class Dispute(models.Model):
    """A chargeback (or a bank's inquiry) on one of our payments, as Stripe reports it, until it closes.

    Written by webhooks in any order: a closed dispute never opens again.
    """

    class Outcome(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won: the money stays"
        LOST = "lost", "Lost: the bank took the money back"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes")
    stripe_dispute_id = models.CharField(max_length=64, unique=True)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=30, help_text="Stripe's status, e.g. needs_response, under_review, won, lost.")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OPEN)
    opened_at = models.DateTimeField(help_text="When the bank opened it (Stripe's time).")
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]

    def __str__(self):
        return f"Dispute {self.stripe_dispute_id}: {self.amount_cents} of payment #{self.payment_id} ({self.outcome})"
