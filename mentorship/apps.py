from django.apps import AppConfig


class MentorshipConfig(AppConfig):
    name = "mentorship"
    verbose_name = "People and mentors"

    def ready(self):
        from django.contrib import admin

        from . import listing, table_versions
        from .admin_actions import check_every_selection

        listing.connect()
        table_versions.connect()

        # The admin app comes first in INSTALLED_APPS, so every ModelAdmin is registered by now.
        check_every_selection(admin.site)
