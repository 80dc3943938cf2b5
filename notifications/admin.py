from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["kind", "user", "booking", "subject", "created_at", "emailed_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["user__email", "subject"]
