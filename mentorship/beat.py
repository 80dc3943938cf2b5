"""Exactly one beat, and a beat that can be seen to be alive.

Holds expire, requests lapse and reminders go out only because beat sends its sweepers on time. Two beats
would send each of them twice (harmless: every sweeper is safe twice, but wasteful); no beat is worse, and
silent. So every beat started (on any machine) runs `OneBeat`:

- it sends nothing unless it holds the lead: a key in the shared cache (Redis in production) taken with
  `add` and renewed on every tick, lapsing LEAD_SECONDS after its holder stops renewing it. A second beat
  waits and takes over within LEAD_SECONDS of the first one dying (at once when it stops cleanly);
- every tick it sends, it records when (`last_tick()`), which /readyz and the staff admin show.

With the cache unreachable no beat leads (the broker shares Redis, so nothing could be sent anyway).
"""

import logging
import secrets
import time

from celery.beat import PersistentScheduler
from django.core.cache import cache

log = logging.getLogger(__name__)

LEAD_KEY = "beat:lead"
TICK_KEY = "beat:last-tick"
LEAD_SECONDS = 120  # a holder renews every tick; ticks are at most CELERY_BEAT_MAX_LOOP_INTERVAL apart
WAIT_SECONDS = 15  # how often a waiting beat tries for the lead
STALE_AFTER_SECONDS = 180  # no tick for this long: beat is down (readiness fails, staff see it)


def take_lead(holder: str) -> bool:
    """Whether `holder` leads now: taken if free, renewed if theirs. Only a lead read back counts, so an
    unreachable cache (whose add answers "stored") leads no one."""
    cache.add(LEAD_KEY, holder, LEAD_SECONDS)
    if cache.get(LEAD_KEY) != holder:
        return False
    cache.touch(LEAD_KEY, LEAD_SECONDS)
    return True


def give_up_lead(holder: str) -> None:
    if cache.get(LEAD_KEY) == holder:
        cache.delete(LEAD_KEY)


def ticked(now: float | None = None) -> None:
    cache.set(TICK_KEY, time.time() if now is None else now, None)


def last_tick() -> float | None:
    """When the leading beat last ticked (a Unix time), or None if none has yet or the cache lost it."""
    return cache.get(TICK_KEY)


def status(now: float | None = None) -> dict:
    """For /readyz and the admin: whether beat ticked lately and how long ago."""
    last = last_tick()
    now = time.time() if now is None else now
    ago = None if last is None else max(0, int(now - last))
    return {"alive": ago is not None and ago < STALE_AFTER_SECONDS, "seconds_since_tick": ago}


class OneBeat(PersistentScheduler):
    """celery beat's scheduler, sending only while it holds the lead (CELERY_BEAT_SCHEDULER)."""

    def __init__(self, *args, **kwargs):
        self.holder = f"{secrets.token_hex(8)}"
        self.leading: bool | None = None
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        leads = take_lead(self.holder)
        if leads != self.leading:  # said once per change, so the log shows which beat sends
            self.leading = leads
            if leads:
                log.info("Beat %s leads: it sends the schedule", self.holder)
            else:
                log.info("Beat %s waits: another beat leads, or the cache cannot be reached", self.holder)
        if not leads:
            return WAIT_SECONDS
        ticked()
        return super().tick(*args, **kwargs)

    def close(self):
        super().close()
        give_up_lead(self.holder)  # a waiting beat takes over at its next try
