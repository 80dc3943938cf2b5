from django.contrib import admin
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html_join

from bookings.admin import SupportTicketAdmin
from bookings.models import SupportTicket
from mentorship.admin_actions import StaffModelAdmin

from . import selectors
from .models import Notification


@admin.register(Notification)
class NotificationAdmin(StaffModelAdmin):
    list_display = ["kind", "user", "booking", "subject", "created_at", "email_status", "email_attempts", "read_at"]
    list_filter = ["kind", "email_status"]
    search_fields = ["user__email", "subject"]


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
