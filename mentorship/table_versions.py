"""A version per database table, moved by every write to it, so a kept page knows when what it read changed.

Every SQL statement passes through `_watch` (installed on each connection as it opens). A write (INSERT,
UPDATE, DELETE) moves its table's version in the shared cache: at once outside a transaction; inside one, at
commit for everyone, and before this process next reads a version (it alone sees the change before commit,
and tests never commit). `QuerySet.update()`, `bulk_create`, deletes and raw cursor writes are seen as well
as `save()`: nothing has to remember to call us.

While `recording()` is open, the tables its SELECTs read are collected: the page kept under them stores each
table's version as it was before drawing began (`snapshot()`), and is served again only while every one of
them is unchanged (`unchanged()`).

Named versions (`changed(name)`, `snapshot([name])`) work the same way for things finer than a table, such
as one mentor's free time.

A version is a number that never repeats (the clock in nanoseconds and a random part), so a key lost from
the cache (evicted, Redis restarted) starts again from a value no old page was stored with. With the cache
unreachable nothing reads as unchanged, so nothing kept is served; a write made while it was unreachable moves
nothing, so a page kept before it may show for the rest of its minute.
"""

import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache as cache_once

from django.core.cache import caches
from django.db import connection, transaction
from django.db.backends.signals import connection_created

# Every write Django makes: INSERT (SQLite's INSERT OR IGNORE too), UPDATE, DELETE, a schema before the table.
_WRITE = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+(?:"?\w+"?\.)?"?(\w+)', re.IGNORECASE)
_READ = re.compile(r'\b(?:FROM|JOIN)\s+"([\w.]+)"', re.IGNORECASE)
_reads: ContextVar[set | None] = ContextVar("table_reads", default=None)


log = logging.getLogger(__name__)


def store():
    """The cache kept pages and versions live in (settings.CACHES["pages"])."""
    return caches["pages"]


def _key(table: str) -> str:
    return f"table-version:{table}"


_unmoved: set[str] = set()  # written in a transaction still open: moved before this process next looks


class _BumpOnCommit:
    """The move at commit of one table written in a transaction (found again by its name, so registered once)."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self):
        bump([self.name])


def _moved(name: str, used) -> None:
    """`name` was written on connection `used`: outside a transaction, move its version now. Inside one, only
    this process can see the change before commit: it is moved before this process next reads a version
    (`_catch_up`), and for everyone when the transaction commits. So a transaction writing a table many
    times moves its version once."""
    if not used.in_atomic_block:
        bump([name])
        return
    _unmoved.add(name)
    if not any(getattr(c, "name", None) == name for _, c, _ in used.run_on_commit):
        transaction.on_commit(_BumpOnCommit(name), using=used.alias)


def _catch_up() -> None:
    global _unmoved
    if _unmoved:
        names, _unmoved = _unmoved, set()
        bump(names)


def changed(name: str) -> None:
    """A named version moves: now and again when the transaction commits."""
    _moved(name, connection)


def _new_version() -> int:
    """Never the same twice (a version only has to differ from every earlier one): the clock and chance."""
    return time.time_ns() * 1000 + secrets.randbelow(1000)


def bump(names: Iterable[str]) -> None:
    """Never raises: the write it follows has happened (perhaps committed); a version that could not move
    shows its kept pages for the rest of their minute at most."""
    try:
        store().set_many({_key(name): _new_version() for name in names}, None)
    except Exception:
        log.exception("Could not move the versions of %s", ", ".join(names))


def _watch(execute, sql, params, many, context):
    reads = _reads.get()
    if reads is not None:
        reads.update(_READ.findall(sql))
    result = execute(sql, params, many, context)
    written = _WRITE.match(sql)
    if written and written.group(1) in _known_tables():  # not the database cache's own table, say
        _moved(written.group(1), context["connection"])
    return result


def _install(sender, **kwargs):
    opened = kwargs["connection"]
    if _watch not in opened.execute_wrappers:
        opened.execute_wrappers.append(_watch)


def connect() -> None:
    connection_created.connect(_install, dispatch_uid="table_versions")


@contextmanager
def recording():
    """Collect the tables the SELECTs inside read; yields the set they are added to."""
    tables: set[str] = set()
    token = _reads.set(tables)
    try:
        yield tables
    finally:
        _reads.reset(token)


@cache_once
def _all_tables() -> tuple[str, ...]:
    return tuple(sorted(connection.introspection.django_table_names(only_existing=False)))


@cache_once
def _known_tables() -> frozenset[str]:
    return frozenset(_all_tables())


def snapshot(names: Iterable[str] | None = None) -> dict[str, int]:
    """The named versions now, or every table's (taken before a page is drawn: a write after it then reads as
    a change); one not there yet gets one."""
    _catch_up()
    tables = _all_tables() if names is None else list(names)
    found = store().get_many([_key(t) for t in tables])
    versions = {}
    for table in tables:
        version = found.get(_key(table))
        if version is None:
            version = _new_version()
            if not store().add(_key(table), version, None):
                version = store().get(_key(table))
        versions[table] = version
    return versions


def kept(key: str, ttl: int, compute: Callable[[], object], *, keep=lambda value: True, also_read=()):
    """compute()'s value, kept under `key` for `ttl` seconds while no table it read (nor those in
    `also_read`, read before it ran) changed; a value `keep` refuses is not kept."""
    stored = store().get(key)
    if stored is not None:
        read, value = stored
        if unchanged(read):
            return value
    before = snapshot()
    if others := [name for name in also_read if name not in before]:
        before.update(snapshot(others))
    with recording() as tables:
        value = compute()
    if keep(value) and tables <= before.keys():  # a table we keep no version of: never kept
        tables.update(also_read)
        store().set(key, ({table: before[table] for table in tables if table in before}, value), ttl)
    return value


def lookup(key: str, names: Iterable[str]) -> tuple[object | None, dict[str, int]]:
    """What the cache holds under `key` and the named versions now, in one round trip (a version not there
    yet is started)."""
    _catch_up()
    names = list(names)
    found = store().get_many([key, *map(_key, names)])
    versions = {name: found.get(_key(name)) for name in names}
    if missing := [name for name, version in versions.items() if version is None]:
        versions.update(snapshot(missing))
    return found.get(key), versions


def unchanged(versions: dict[str, int]) -> bool:
    _catch_up()
    now = store().get_many([_key(t) for t in versions])
    return all(now.get(_key(table)) == version for table, version in versions.items())
