from django.contrib import admin, messages
from django.core.cache import cache
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html_join

from bookings.admin import SupportTicketAdmin
from bookings.models import SupportTicket
from mentorship.admin_paging import BigTableAdmin

from . import selectors, services
from .models import Notification, UndeliverableAddress


class KindFilter(admin.SimpleListFilter):
    """The kinds there are, read once an hour: listing them reads the whole table (a new kind comes with a
    release, so at worst it is offered an hour late)."""

    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        kinds = cache.get_or_set(
            "admin-notification-kinds",
            lambda: list(Notification.objects.order_by("kind").values_list("kind", flat=True).distinct()),
            3600,
        )
        return [(kind, kind) for kind in kinds]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(BigTableAdmin):
    """Filter by "Failed for good" to see e-mails the retry job gave up on, with the last error; send them again."""

    list_display = ["subject", "user", "email_status", "email_attempts", "email_error", "kind", "created_at"]
    list_select_related = ["user"]
    list_filter = ["email_status", KindFilter]
    search_fields = ["user__email", "subject"]
    actions = ["send_email_again"]

    @admin.action(description="Send the e-mail again (failed ones)")
    def send_email_again(self, request, queryset):
        sent, failed = services.send_failed_emails_again(queryset.values_list("pk", flat=True))
        level = messages.SUCCESS if sent == failed else messages.WARNING
        self.message_user(request, f"Sent {sent} of {failed} failed e-mails.", level)


@admin.register(UndeliverableAddress)
class UndeliverableAddressAdmin(admin.ModelAdmin):
    """Addresses the e-mail provider reported as bouncing or complaining: our notices skip them (allauth's mails
    don't). Delete a row to e-mail that address again, say once its owner has fixed their mailbox."""

    list_display = ["email", "reason", "provider", "description", "updated_at", "created_at"]
    list_filter = ["reason", "provider"]
    search_fields = ["email"]
    readonly_fields = ["created_at", "updated_at"]


class SupportTicketWithConversationAdmin(SupportTicketAdmin):
    """The ticket page also shows the pair's messages. Messages belong to this app, which builds on bookings."""

    readonly_fields = [*SupportTicketAdmin.readonly_fields, "conversation"]

    @admin.display(description="Messages between mentee and mentor")
    def conversation(self, ticket):
        """Staff read the pair's conversation here, and only here: through a ticket about their booking."""
        booking = ticket.booking
        found = selectors.conversation_between(booking.mentee, booking.mentor)
        if found is None:
            return "They have not written to each other on the platform."
        return format_html_join(
            "\n",
            '<p class="ticket-message"><strong>{}</strong> <span class="quiet">{}</span><br>{}</p>',
            (
                (message.sender, f"{message.created_at:%Y-%m-%d %H:%M} UTC", linebreaksbr(message.body))
                for message in selectors.messages_in(found)
            ),
        )


admin.site.unregister(SupportTicket)
admin.site.register(SupportTicket, SupportTicketWithConversationAdmin)
