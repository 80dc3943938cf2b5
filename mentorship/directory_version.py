"""The version of what the mentor directory and public profiles show, so their cached pages can be shared safely.

Every change that shows on a mentor's card or profile or moves them in the list (profile, name or zone,
session types, packages, hours, approval, reviews, the next free time) calls `directory_changed()`; the
cached pages are keyed by the version and so stop being used at once. Changes made outside the
services (the admin's edit forms) show when the short-lived pages expire.
"""

import uuid

from django.core.cache import cache
from django.db import transaction

KEY = "directory:version"


def directory_version() -> str:
    version = cache.get(KEY)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(KEY, version, timeout=None):
            version = cache.get(KEY) or version
    return version


def directory_changed() -> None:
    """After commit (at once outside a transaction): readers must not cache the old rows under the new version."""
    transaction.on_commit(lambda: cache.set(KEY, uuid.uuid4().hex, timeout=None))
