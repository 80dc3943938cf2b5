from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpResponse

from . import beat, connected_calendars, data_rights, outbox, services
from .admin_actions import CheckedSelection, StaffModelAdmin
from .models import AvailabilityRule, ConnectedCalendar, MentorProfile, OutboxEntry, Service, User


@admin.register(User)
class UserAdmin(CheckedSelection, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "display_name", "time_zone", "is_staff", "date_joined"]
    search_fields = ["email", "display_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["display_name", "time_zone"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "display_name", "time_zone", "password1", "password2"]})
    ]
    actions = ["download_data", "delete_accounts"]

    def get_actions(self, request):
        """Accounts are deleted by erasing what identifies the person (the books point at the row), never
        by removing the row: Django's own "Delete selected" is not offered."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Download the data of the selected person (a zip of JSON files)", permissions=["change"])
    def download_data(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one person to download their data.", messages.ERROR)
            return None
        name, content = data_rights.export_zip(queryset.get())
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @admin.action(
        description="Delete the selected person's account (open bookings end by the normal rules; the books stay)",
        permissions=["delete"],
    )
    def delete_accounts(self, request, queryset):
        """One person at a time: a slip of "select all" never deletes a list of people."""
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one person to delete their account.", messages.ERROR)
            return
        user = queryset.get()
        try:
            data_rights.account_delete(user.pk)
        except data_rights.DeletionRefused as refused:
            self.message_user(request, f"{user.email}: {refused}", messages.ERROR)
            return
        user.refresh_from_db()  # the log keeps "Former member", not the name just erased
        self.log_change(request, user, "Account deleted: personal data erased, the books kept.")
        self.message_user(request, f"Deleted the account of user #{user.pk}.", messages.SUCCESS)


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0


class AvailabilityInline(admin.TabularInline):
    model = AvailabilityRule
    extra = 0


@admin.register(MentorProfile)
class MentorProfileAdmin(StaffModelAdmin):
    list_display = ["user", "headline", "status", "applied_at", "reviewed_at"]
    list_select_related = ["user"]
    list_filter = ["status"]
    search_fields = ["user__email", "user__display_name", "headline", "expertise"]
    readonly_fields = ["status", "applied_at", "reviewed_at"]
    inlines = [ServiceInline, AvailabilityInline]
    actions = ["approve", "reject"]

    def save_related(self, request, form, formsets, change):
        """Staff may edit the rules, hours and session types here: cached free time of the old ones goes."""
        super().save_related(request, form, formsets, change)
        services.availability_changed(form.instance.pk)

    @admin.action(description="Approve selected applications")
    def approve(self, request, queryset):
        done = sum(services.mentor_application_review(p, approve=True) for p in queryset)
        self.message_user(request, f"Approved {done} application(s); each applicant gets an e-mail.", messages.SUCCESS)

    @admin.action(description="Refuse selected applications (write the reason in “Review note” first)")
    def reject(self, request, queryset):
        done = 0
        for profile in queryset:
            try:
                done += services.mentor_application_review(profile, approve=False, note=profile.review_note)
            except services.MentorError as error:
                self.message_user(request, f"{profile.user}: {error}", messages.ERROR)
        if done:
            self.message_user(
                request, f"Refused {done} application(s); each applicant gets an e-mail.", messages.WARNING
            )


admin.site.site_header = "Mentorship staff"
admin.site.site_title = "Mentorship staff"
admin.site.index_title = "Mentors, bookings and money"
# The front page says whether beat is ticking (mentorship.beat): without it holds and reminders stop silently.
admin.site.index_template = "admin/mentorship_index.html"
_index = admin.site.index


def _index_with_beat(request, extra_context=None):
    return _index(request, extra_context={**(extra_context or {}), "beat": beat.status()})


admin.site.index = _index_with_beat


@admin.register(OutboxEntry)
class OutboxEntryAdmin(StaffModelAdmin):
    """Side effects waiting, done or given up. Staff read them and try given-up ones again; nothing is edited."""

    list_display = ["id", "topic", "handler", "status", "attempts", "available_at", "created_at", "last_error"]
    list_filter = ["status", "topic"]
    search_fields = ["handler", "key", "last_error"]
    actions = ["try_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Try again")
    def try_again(self, request, queryset):
        count = outbox.retry(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} given-up side effect(s) queued again.", messages.SUCCESS)


@admin.register(ConnectedCalendar)
class ConnectedCalendarAdmin(StaffModelAdmin):
    """Mentors' own calendars and how their reads go; the address is sealed and never shown (only its host)."""

    list_display = ["id", "mentor", "name", "address_hint", "last_synced_at", "last_tried_at", "last_error"]
    list_filter = ["kind"]
    list_select_related = ["mentor__user"]
    search_fields = ["mentor__user__email", "name", "last_error"]
    fields = ["mentor", "name", "kind", "address_hint", "last_synced_at", "last_tried_at", "last_error"]
    readonly_fields = fields
    actions = ["read_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Read again now")
    def read_now(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        connected_calendars.sync_soon(ids)
        self.message_user(request, f"{len(ids)} calendar(s) queued to be read.", messages.SUCCESS)
