"""What a log line is about: the request, the person, the booking and the payment, carried through a request
or a job so every line written on the way says so (and the production log is JSON a collector can search).

A request gets an id (the load balancer's X-Request-ID when it is a sane one, else a new one), sent back in
the response's X-Request-ID and quoted on the error page, so a person's "it broke at 10:02" finds its lines.
"""

import contextvars
import functools
import inspect
import json
import logging
import re
import uuid
from collections.abc import Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from types import MappingProxyType

# The ids a line may carry, in the order a JSON line lists them. No names, e-mail addresses or IPs.
FIELDS = (
    "request_id",
    "task",
    "user_id",
    "booking_id",
    "payment_id",
    "refund_id",
    "payout_id",
    "mentor_id",
    "calendar_id",
)
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_URL_IDS = ("booking_id", "payment_id", "mentor_id")  # names of our URL parameters worth a field

_context: contextvars.ContextVar[Mapping] = contextvars.ContextVar("log_context", default=MappingProxyType({}))


def current() -> Mapping:
    return _context.get()


def bind(**ids) -> None:
    """Add ids to what every following line of this request or job carries."""
    _context.set({**_context.get(), **{name: value for name, value in ids.items() if value is not None}})


@contextmanager
def scoped(**ids):
    """Ids for the lines written inside the block only (one of many items a job works through)."""
    token = _context.set({**_context.get(), **{name: value for name, value in ids.items() if value is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def about(**fields: str):
    """A decorator: while the function runs, its lines carry these ids, read from its arguments
    (`@about(payment_id="payment_id")`); what it binds inside is gone when it returns, so the next item a
    job works on never carries this one's ids."""

    def decorate(function):
        signature = inspect.signature(function)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            arguments = signature.bind_partial(*args, **kwargs).arguments
            with scoped(**{field: arguments.get(parameter) for field, parameter in fields.items()}):
                return function(*args, **kwargs)

        return wrapper

    return decorate


def clear() -> None:
    _context.set({})


def request_id_for(incoming: str) -> str:
    """The proxy's id when it looks like one (so its log and ours meet), else a fresh one."""
    return incoming if _SANE_REQUEST_ID.fullmatch(incoming or "") else uuid.uuid4().hex


class RequestContextMiddleware:
    """Binds the request id (and, once the view is known, the person and the booking or payment it is
    about) for the request's log lines; answers with X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_for(request.META.get("HTTP_X_REQUEST_ID", ""))
        request.request_id = request_id
        request.META["HTTP_X_REQUEST_ID"] = request_id  # gunicorn's access line reads the same environ
        token = _context.set({"request_id": request_id})
        try:
            response = self.get_response(request)
        finally:
            _context.reset(token)
        response["X-Request-ID"] = request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "_cached_user", None)  # read already by the middleware before; never a query here
        bind(
            user_id=user.pk if user is not None and user.is_authenticated else None,
            **{name: view_kwargs[name] for name in _URL_IDS if name in view_kwargs},
        )


_job_tokens: dict[str, contextvars.Token] = {}


def job_started(task_id=None, task=None, **_) -> None:
    """Celery's task_prerun: a job's lines carry its name, not the ids of the job before it."""
    _job_tokens[task_id] = _context.set({"task": getattr(task, "name", None) or "task"})


def job_finished(task_id=None, **_) -> None:
    """Celery's task_postrun: back to what was bound before (a job run in place, inside a request)."""
    token = _job_tokens.pop(task_id, None)
    if token is not None:
        try:
            _context.reset(token)
        except ValueError:  # set in another context: nothing of ours to restore
            clear()


class ContextFilter(logging.Filter):
    """Puts the bound ids on each record (a record's own `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """Development: a readable line, with the ids at the end when there are any."""

    def __init__(self):
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        ids = " ".join(f"{name}={getattr(record, name)}" for name in FIELDS[1:] if getattr(record, name, None))
        return f"{text} [{ids}]" if ids else text
