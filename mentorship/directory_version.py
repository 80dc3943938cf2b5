"""The version of what the mentor directory and public profiles show, so their cached pages can be shared safely.

Every change that shows on a mentor's card or profile or moves them in the list (profile, name or zone,
session types, packages, hours, approval, reviews, the next free time) calls `directory_changed()`; the
cached pages are keyed by the version and so stop being used at once. Changes made outside the
services (the admin's edit forms) show when the short-lived pages expire.

It is a named version (mentorship.table_versions): kept pages read it in the same cache round trip as the
page itself.
"""

from . import table_versions

DIRECTORY = "directory"


def directory_version() -> int:
    return table_versions.snapshot([DIRECTORY])[DIRECTORY]


def directory_changed() -> None:
    """For this process before it next looks, for everyone at commit (at once outside a transaction)."""
    table_versions.changed(DIRECTORY)
