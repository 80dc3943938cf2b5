"""A private Redis server for tests that need a broker to fail: started on a free port, stopped and
started again at will, never the shared one."""

import shutil
import subprocess
import time
from contextlib import contextmanager

import kombu.pools
import redis

from mentorship.celery import app as celery_app

from .stripe_server import free_port


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "PrivateRedis":
        executable = shutil.which("redis-server")
        self.process = subprocess.Popen(
            [executable, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # waiting for another process to listen
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start within 10 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def queued(self, queue: str = "celery") -> int:
        return redis.Redis.from_url(self.url).llen(queue)


def _forget_connections() -> None:
    """Drop every pooled broker connection, so the next publish connects to the current broker_url."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def celery_broker(url: str):
    """Celery publishes to `url` for real (not eagerly) inside the block."""
    old_url, old_eager = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = False
    _forget_connections()
    try:
        yield
    finally:
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = old_url, old_eager
        _forget_connections()
