"""Admin actions on ids that exist: a tampered selection gets a message, not a server error.

Django's changelist filters on the posted `_selected_action` values as they come, so a value that is no id
(letters, a number too large for the column) breaks the page. Every ModelAdmin of ours starts from here.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import models

LARGEST_ID = 2**63 - 1


def _is_id(field: models.Field, value: str) -> bool:
    try:
        parsed = field.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    return not isinstance(parsed, int) or 0 < parsed <= LARGEST_ID


class CheckedSelection:
    def response_action(self, request, queryset):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not all(_is_id(self.model._meta.pk, value) for value in selected):
            self.message_user(request, "Some selected items do not exist. No items have been changed.", messages.ERROR)
            return None
        return super().response_action(request, queryset)


class StaffModelAdmin(CheckedSelection, admin.ModelAdmin):
    pass


def check_every_selection(site: admin.AdminSite) -> None:
    """Libraries' ModelAdmins (groups, e-mail addresses, …) get the same check as ours."""
    for model_admin in site._registry.values():
        cls = type(model_admin)
        if not issubclass(cls, CheckedSelection):
            model_admin.__class__ = type(cls.__name__, (CheckedSelection, cls), {"__module__": cls.__module__})
