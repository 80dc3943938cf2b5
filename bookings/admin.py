from django import forms
from django.contrib import admin, messages

from mentorship.admin_actions import StaffModelAdmin
from mentorship.admin_paging import BigTableAdmin
from mentorship.input_rules import BoundedForm

from . import reviews, services
from .models import Booking, BookingEvent, Package, PackagePurchase, Review, SupportTicket


class BookingEventInline(admin.TabularInline):
    model = BookingEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "actor", "from_status", "to_status", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(BigTableAdmin):
    """Read-only here: status changes go through the booking services, never a form."""

    list_display = ["id", "start", "mentor", "mentee", "service", "status", "price_cents"]
    list_select_related = ["mentor__user", "mentee", "service"]
    # A date filter of fixed choices rather than a date hierarchy, whose year and month links read every row.
    list_filter = ["status", ("start", admin.DateFieldListFilter)]
    search_fields = ["mentee__email", "mentor__user__email"]
    inlines = [BookingEventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(SupportTicket)
class SupportTicketAdmin(StaffModelAdmin):
    """No-show reports and disputes. The actions call the same services as the rest of the app."""

    list_display = ["id", "kind", "booking", "opened_by", "status", "resolution", "created_at"]
    list_select_related = ["booking__service", "booking__mentor__user", "opened_by"]
    list_filter = ["status", "kind"]
    search_fields = ["booking__mentee__email", "booking__mentor__user__email", "note"]
    readonly_fields = [
        "booking",
        "opened_by",
        "kind",
        "note",
        "status",
        "resolution",
        "resolved_by",
        "resolved_at",
        "created_at",
    ]
    actions = ["mentor_no_show_refund", "mentee_no_show", "full_refund", "reject_claim"]

    def has_add_permission(self, request):
        return False

    def _resolve(self, request, queryset, resolution):
        done = 0
        for ticket in queryset:
            try:
                services.ticket_resolve(ticket.pk, staff=request.user, resolution=resolution)
                done += 1
            except services.BookingError as error:
                self.message_user(request, f"Ticket #{ticket.pk}: {error}", messages.ERROR)
        if done:
            label = SupportTicket.Resolution(resolution).label
            self.message_user(request, f"{label}: {done} ticket(s) resolved; both parties are told.", messages.SUCCESS)

    @admin.action(description="Mentor no-show — full refund")
    def mentor_no_show_refund(self, request, queryset):
        self._resolve(request, queryset, SupportTicket.Resolution.MENTOR_NO_SHOW_REFUND)

    @admin.action(description="Mentee no-show — per policy")
    def mentee_no_show(self, request, queryset):
        self._resolve(request, queryset, SupportTicket.Resolution.MENTEE_NO_SHOW)

    @admin.action(description="Dispute — full refund")
    def full_refund(self, request, queryset):
        self._resolve(request, queryset, SupportTicket.Resolution.FULL_REFUND)

    @admin.action(description="Reject claim")
    def reject_claim(self, request, queryset):
        self._resolve(request, queryset, SupportTicket.Resolution.REJECTED)


class ReviewModerationForm(BoundedForm, forms.ModelForm):
    hide = forms.BooleanField(required=False, label="Hide from the profile")

    class Meta:
        model = Review
        fields = ["hide", "hidden_reason"]
        labels = {"hidden_reason": "Reason (shown to the mentee and the mentor)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hide"].initial = self.instance.hidden_at is not None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("hide") and not (cleaned.get("hidden_reason") or "").strip():
            self.add_error("hidden_reason", "Say why the review is hidden.")
        return cleaned


@admin.register(Review)
class ReviewAdmin(StaffModelAdmin):
    """Staff read reviews and hide one with a reason; nothing else about a review is edited here."""

    form = ReviewModerationForm
    list_display = ["id", "mentor", "mentee", "rating", "created_at", "hidden_at"]
    list_select_related = ["mentor__user", "mentee"]
    list_filter = ["rating", ("hidden_at", admin.EmptyFieldListFilter)]
    search_fields = ["mentor__user__email", "mentee__email", "text"]
    readonly_fields = [
        "booking",
        "mentor",
        "mentee",
        "rating",
        "text",
        "created_at",
        "reply",
        "replied_at",
        "hidden_at",
    ]
    fields = readonly_fields + ["hide", "hidden_reason"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if form.cleaned_data["hide"]:
            reviews.review_hide(obj.pk, reason=form.cleaned_data["hidden_reason"])
        else:
            reviews.review_unhide(obj.pk)


@admin.register(Package)
class PackageAdmin(StaffModelAdmin):
    list_display = ["id", "mentor", "service", "sessions", "price_cents", "valid_days", "is_active"]
    list_select_related = ["mentor__user", "service"]
    list_filter = ["is_active"]
    search_fields = ["mentor__user__email", "service__title"]


@admin.register(PackagePurchase)
class PackagePurchaseAdmin(StaffModelAdmin):
    """Read-only: purchases change through checkout, credits through bookings."""

    list_display = [
        "id",
        "mentee",
        "mentor",
        "service",
        "sessions",
        "price_cents",
        "status",
        "expires_at",
        "settled_at",
    ]
    list_select_related = ["mentee", "mentor__user", "service"]
    list_filter = ["status"]
    search_fields = ["mentee__email", "mentor__user__email"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
