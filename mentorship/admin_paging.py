"""Changelists of the tables that grow without end (bookings, payments, ledger entries, notifications).

Counting every row of a big PostgreSQL table reads all of it; an unfiltered changelist only needs to say
"about how many". There the count is PostgreSQL's own estimate (pg_class.reltuples, kept by ANALYZE and
autovacuum) once it is above ADMIN_ESTIMATED_COUNT_ABOVE; a filtered list, a small table and SQLite count
exactly. The pager's last pages may then be a little off, which staff can live with; the rows never are.

A staff member's list is kept for them (mentorship.page_cache.viewer_page) while none of the tables it read
changed, so paging back and forth or reloading an unchanged list draws nothing again.
"""

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

from .admin_actions import StaffModelAdmin
from .page_cache import viewer_page


def estimated_rows(table: str, *, using: str) -> int:
    """PostgreSQL's estimate of a table's rows; -1 before the table was first analysed."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return int(row[0]) if row else -1


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if connections[rows.db].vendor == "postgresql" and not rows.query.where:
            estimate = estimated_rows(rows.model._meta.db_table, using=rows.db)
            if estimate > settings.ADMIN_ESTIMATED_COUNT_ABOVE:
                return estimate
        return super().count


class BigTableAdmin(StaffModelAdmin):
    """A changelist that never counts a whole big table: the estimate above, and no "(N total)" count."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def changelist_view(self, request, extra_context=None):
        return viewer_page(params=None)(super().changelist_view)(request, extra_context=extra_context)
