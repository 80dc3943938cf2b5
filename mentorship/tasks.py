"""Background jobs of this app, found here by Celery's autodiscovery: the outbox's (defined in mentorship.outbox)."""

from .outbox import run_outbox_entries, run_outbox_entry, sweep_outbox

__all__ = ["run_outbox_entries", "run_outbox_entry", "sweep_outbox"]
