"""Background jobs of this app, found here by Celery's autodiscovery: the outbox's (defined in mentorship.outbox)
and the reads of mentors' own calendars (mentorship.connected_calendars)."""

from .connected_calendars import sync_calendar, sync_calendars
from .outbox import run_outbox_entries, run_outbox_entry, sweep_outbox

__all__ = ["run_outbox_entries", "run_outbox_entry", "sweep_outbox", "sync_calendar", "sync_calendars"]
