"""gunicorn's settings for the `web` process (Procfile): from the environment, production defaults.

Every call a page makes to another service gives up well before `timeout` (Stripe at most 9 s, e-mail and
Zoom 10 s, the database's statement timeout): a slow service costs a page an error, never a killed worker.
"""

import json
import os
import time

from gunicorn.glogging import Logger


def _number(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
workers = _number("WEB_CONCURRENCY", 2)
threads = _number("WEB_THREADS", 1)  # above 1: gthread workers, each thread its own database connection
timeout = _number("WEB_TIMEOUT", 30)
graceful_timeout = _number("WEB_GRACEFUL_TIMEOUT", 30)  # a restart lets pages in progress finish
# A worker is replaced after this many requests (give or take the jitter, so they never restart together).
max_requests = _number("WEB_MAX_REQUESTS", 2000)
max_requests_jitter = _number("WEB_MAX_REQUESTS_JITTER", 200)
# The proxies whose X-Forwarded-* headers are believed: the load balancer's address(es), comma-separated.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"


class JsonAccessLog(Logger):
    """One JSON object per request, for a log collector: what Apache's format says, but never broken by a
    quote in a path or a user agent."""

    def access(self, resp, req, environ, request_time):
        if not self.cfg.accesslog:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "remote_addr": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"],
            "status": resp.status_code,
            "bytes": atoms["B"],
            "ms": round(request_time.total_seconds() * 1000, 1),
            "user_agent": atoms["a"],
            "referer": atoms["f"],
            "request_id": environ.get("HTTP_X_REQUEST_ID", ""),
        }
        self.access_log.info(json.dumps(line))


if os.environ.get("DEBUG", "").lower() not in ("1", "true", "yes", "on"):
    logger_class = JsonAccessLog  # production; `make run` (DEBUG=true) keeps the readable lines
