"""Calls to other people's servers that must end by a wall-clock deadline, whatever the server does (answers a
byte at a time, resolves slowly, redirects around): the call runs in a thread of its own and the caller stops
waiting when time is up. `abort` then closes what the call holds open, so the thread ends soon after too.
"""

import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class TimeUp(Exception):
    pass


def _quietly(abort: Callable[[], None]) -> None:
    with contextlib.suppress(Exception):  # closing a connection that is already broken
        abort()


def within(seconds: float, call: Callable[[], T], *, abort: Callable[[], None] | None = None) -> T:
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the caller, who decides
            outcome["error"] = error

    thread = threading.Thread(target=run, name="deadline-call", daemon=True)
    thread.start()
    thread.join(max(seconds, 0.0))
    if thread.is_alive():
        if abort is not None:  # in a thread too: closing may wait for the read it interrupts
            threading.Thread(target=_quietly, args=(abort,), name="deadline-abort", daemon=True).start()
        raise TimeUp(f"no answer within {seconds:.0f} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
