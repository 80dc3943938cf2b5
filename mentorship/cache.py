"""The shared cache, kept out of the way when Redis is down.

Everything we cache (directory lists, login-attempt counts, the zone cookie hint) can be
recomputed, so an unreachable cache reads as empty and writes as no-ops, logged, instead of
answering "Server Error" on every page.
"""

import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


def _tolerant(name: str, fallback):
    def method(self, *args, **kwargs):
        try:
            return getattr(super(ResilientRedisCache, self), name)(*args, **kwargs)
        except DOWN as error:
            log.warning("Cache unreachable during %s: %s", name, error)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    method.__name__ = name
    return method


def _default(key, default=None, *args, **kwargs):
    return default


class _OneClientPerPool(RedisCacheClient):
    """Django builds a new redis.Redis around the connection pool for every call (a tenth of a millisecond,
    more than a small GET takes); one per pool is enough (the client is safe to share, the pool does the rest)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerPool

    get = _tolerant("get", _default)
    get_many = _tolerant("get_many", lambda keys, *a, **k: {})
    has_key = _tolerant("has_key", False)
    set = _tolerant("set", None)
    set_many = _tolerant("set_many", lambda data, *a, **k: list(data))
    add = _tolerant("add", True)  # as if stored: locks built on add() (login limits) open rather than refuse all
    touch = _tolerant("touch", False)
    delete = _tolerant("delete", False)
    delete_many = _tolerant("delete_many", None)
    incr = _tolerant("incr", lambda key, delta=1, *a, **k: delta)
    decr = _tolerant("decr", lambda key, delta=1, *a, **k: -delta)
    get_or_set = _tolerant("get_or_set", lambda key, default, *a, **k: default() if callable(default) else default)
