from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["kind", "user", "booking", "subject", "created_at", "email_status", "email_attempts", "read_at"]
    list_filter = ["kind", "email_status"]
    search_fields = ["user__email", "subject"]
