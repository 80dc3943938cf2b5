from django.contrib import admin

from .models import Booking, BookingEvent


class BookingEventInline(admin.TabularInline):
    model = BookingEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "actor", "from_status", "to_status", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read-only here: status changes go through the booking services, never a form."""

    list_display = ["id", "start", "mentor", "mentee", "service", "status", "price_cents"]
    list_filter = ["status"]
    search_fields = ["mentee__email", "mentor__user__email"]
    date_hierarchy = "start"
    inlines = [BookingEventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
