from django.contrib import admin

from mentorship.admin_actions import StaffModelAdmin
from mentorship.admin_paging import BigTableAdmin
from mentorship.money import format_cents

from .models import ConnectedAccount, Dispute, LedgerEntry, Payment, Payout, Refund, WebhookEvent


class ReadOnlyMixin:
    """Money rows are written by services only; staff read them here."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, StaffModelAdmin):
    pass


class ReadOnlyBigTableAdmin(ReadOnlyMixin, BigTableAdmin):
    pass


@admin.register(Payment)
class PaymentAdmin(ReadOnlyBigTableAdmin):
    list_display = ["id", "booking", "amount_cents", "currency", "status", "stripe_payment_intent_id", "created_at"]
    list_select_related = ["booking__service", "booking__mentor__user"]
    list_filter = ["status"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    """A failed refund shows Stripe's reason; refunds_retry tries it again as a new row (retry_of)."""

    list_display = [
        "id",
        "payment",
        "amount_cents",
        "reason",
        "status",
        "failure_message",
        "attempt",
        "retry_of",
        "stripe_refund_id",
        "created_at",
    ]
    list_select_related = ["payment", "retry_of"]
    list_filter = ["status", "reason"]
    search_fields = ["stripe_refund_id", "failure_message"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyBigTableAdmin):
    list_display = ["id", "mentor", "account", "kind", "amount_cents", "source", "created_at"]
    list_select_related = ["mentor__user"]
    list_filter = ["account", "kind"]
    search_fields = ["mentor__user__email", "source"]


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    """Transferred but not paid: the bank step failed (failure_message) and the next run retries it."""

    list_display = [
        "id",
        "mentor",
        "amount_cents",
        "currency",
        "status",
        "failure_message",
        "stripe_transfer_id",
        "transferred_at",
        "stripe_payout_id",
        "created_at",
        "paid_at",
    ]
    list_select_related = ["mentor__user"]
    list_filter = ["status"]


@admin.register(ConnectedAccount)
class ConnectedAccountAdmin(ReadOnlyAdmin):
    list_display = ["mentor", "stripe_account_id", "details_submitted", "payouts_enabled", "updated_at"]
    list_select_related = ["mentor__user"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "received_at"]


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    """Chargebacks as Stripe reports them; evidence is answered in the Stripe dashboard."""

    list_display = ["stripe_dispute_id", "booking", "payment", "amount", "reason", "status", "outcome", "opened_at"]
    list_filter = ["outcome", "status", "reason"]
    search_fields = ["stripe_dispute_id", "booking__mentee__email", "booking__mentor__user__email"]
    list_select_related = ["booking__service", "booking__mentor__user", "payment"]

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, dispute):
        return format_cents(dispute.amount_cents, dispute.currency)
