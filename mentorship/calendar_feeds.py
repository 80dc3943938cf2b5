"""Reading a mentor's calendar address (iCal/ICS): fetched within a time and size limit, then turned into busy time.

`fetch` asks conditionally (ETag, Last-Modified), follows a few redirects and refuses addresses in private
networks unless CALENDAR_ALLOW_PRIVATE_ADDRESSES (a mentor must not make our server read an internal
address). `busy_times` expands events with recurring-ical-events (RRULE, RDATE, EXDATE, moved occurrences by
RECURRENCE-ID, X-WR-TIMEZONE through x-wr-timezone); all-day and floating times are read in the mentor's zone;
free (TRANSP:TRANSPARENT) and cancelled events do not count, nor do copies of our own sessions (their UID).
Every failure is a FeedError whose text the mentor can act on.
"""

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import requests
from django.conf import settings

from . import deadline

MAX_REDIRECTS = 3
MAX_BUSY = 5000  # busy events in the booking horizon: more is refused (no person has 80 meetings a day)
# Expanding a repeating event walks from its first occurrence: one that would take more steps than this to reach
# the end of the horizon (every second since 1970, every hour since year 1) is refused before it is expanded.
MAX_RECURRENCE_STEPS = 200_000
_PERIOD = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(weeks=1),
    "MONTHLY": timedelta(days=28),
    "YEARLY": timedelta(days=365),
}
USER_AGENT = "MentorshipCalendarSync/1.0 (+busy time only)"


class FeedError(Exception):
    """What went wrong, in words for the mentor."""


@dataclass(frozen=True)
class Fetched:
    body: bytes | None  # None: not modified since the last read
    etag: str = ""
    last_modified: str = ""


def normalised(address: str) -> str:
    """webcal:// is how calendar apps spell https://; anything but http(s) is refused."""
    address = address.strip()
    scheme, _, rest = address.partition("://")
    scheme = scheme.lower()
    if scheme in ("webcal", "webcals"):
        address = "https://" + rest
    elif scheme not in ("http", "https") or not rest:
        raise FeedError("Use the calendar's address that starts with https:// or webcal://.")
    if not urlsplit(address).hostname:
        raise FeedError("That address has no host name.")
    return address


def hint(address: str) -> str:
    """What may be shown of a secret address: its host and where the path starts."""
    parts = urlsplit(address)
    return f"{parts.hostname}/…"[:120]


def _refused(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    # NAT64 and 6to4 addresses count as global, but lead to IPv4 addresses of any kind.
    tunnels = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("2002::/16"))
    return not address.is_global or address.is_multicast or any(address in net for net in tunnels)


def check_host(address: str) -> None:
    """Refuse a host that resolves to a private address (unless CALENDAR_ALLOW_PRIVATE_ADDRESSES)."""
    host = urlsplit(address).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise FeedError(f"{host} could not be found: check the address.") from None
    if settings.CALENDAR_ALLOW_PRIVATE_ADDRESSES:
        return
    if any(_refused(info[4][0]) for info in infos):
        raise FeedError(f"{host} is not a public address: we only read calendars on the internet.")


def check_peer(response: requests.Response, *args, **kwargs) -> requests.Response:
    """A requests response hook: the address we actually connected to must be public too (a name that resolved
    to a public address a moment ago may resolve to a private one now), on every hop of a redirect."""
    if settings.CALENDAR_ALLOW_PRIVATE_ADDRESSES:
        return response
    connection = getattr(response.raw, "_connection", None) or getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    try:
        peer = sock.getpeername()[0] if sock is not None else None
    except OSError:
        peer = None
    if peer is None or _refused(peer):
        response.close()
        raise FeedError(
            f"{urlsplit(response.url).hostname} is not a public address: we only read calendars on the internet."
        )
    return response


def printable(value: str, limit: int) -> str:
    """A value another server gave us (a header, a calendar's name), as we store it: printable characters only
    (PostgreSQL refuses NUL), cut to the column."""
    return "".join(char for char in value if char.isprintable())[:limit]


def fetch(
    address: str, *, etag: str = "", last_modified: str = "", timeout: float = 15.0, max_bytes: int | None = None
) -> Fetched:
    """The feed's body within `timeout` seconds of wall-clock time in all, however the server answers."""
    held: dict = {}

    def abort():  # shut the socket itself: closing the response would wait for the read it should end
        connection = getattr(held["response"].raw, "_connection", None) if "response" in held else None
        sock = getattr(connection, "sock", None)
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)

    try:
        return deadline.within(
            timeout,
            lambda: _fetch(address, etag, last_modified, timeout, max_bytes or settings.CALENDAR_FEED_MAX_BYTES, held),
            abort=abort,
        )
    except deadline.TimeUp:
        raise FeedError(f"The calendar did not answer within {timeout:.0f} seconds.") from None


def _fetch(address: str, etag: str, last_modified: str, timeout: float, cap: int, held: dict) -> Fetched:
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    url = normalised(address)
    for _ in range(MAX_REDIRECTS + 1):
        check_host(url)
        try:
            response = requests.get(
                url,
                headers=headers,
                timeout=(min(5.0, timeout), timeout),
                stream=True,
                allow_redirects=False,
                hooks={"response": check_peer},
            )
        except requests.Timeout:
            raise FeedError(f"The calendar did not answer within {timeout:.0f} seconds.") from None
        except requests.RequestException:
            raise FeedError("The calendar's server could not be reached.") from None
        held["response"] = response
        with response:
            if response.is_redirect and response.headers.get("Location"):
                url = normalised(urljoin(url, response.headers["Location"]))
                continue
            if response.status_code == 304:
                return Fetched(None, etag, last_modified)
            if response.status_code in (401, 403):
                raise FeedError(f"The calendar refused to be read ({response.status_code}): is it still shared?")
            if response.status_code in (404, 410):
                raise FeedError(f"Nothing is at that address any more ({response.status_code}).")
            if response.status_code != 200:
                raise FeedError(f"The calendar's server answered {response.status_code}; we will try again.")
            body = _read_capped(response, cap, timeout)
            return Fetched(
                body,
                printable(response.headers.get("ETag", ""), 200),
                printable(response.headers.get("Last-Modified", ""), 100),
            )
    raise FeedError("The address redirects too many times.")


class TooLarge(FeedError):
    pass


def _read_capped(response: requests.Response, cap: int, timeout: float) -> bytes:
    too_big = TooLarge(
        f"The calendar is larger than {cap // (1024 * 1024) or 1} MB; we read calendars up to that size."
    )
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise too_big
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise too_big
            chunks.append(chunk)
    except requests.RequestException:
        raise FeedError(f"The calendar did not finish sending within {timeout:.0f} seconds.") from None
    except (OSError, ValueError, AttributeError):  # closed under us when the time was up
        raise FeedError(f"The calendar did not finish sending within {timeout:.0f} seconds.") from None
    return b"".join(chunks)


def _instant(value, zone: ZoneInfo) -> datetime:
    """An event edge in UTC: an all-day date starts at the mentor's midnight, a floating time is theirs."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def busy_times(
    body: bytes,
    *,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    is_ours: Callable[[str], bool] = lambda uid: False,
) -> list[tuple[datetime, datetime]]:
    """The busy intervals (UTC, merged, sorted) the calendar in `body` has in [start, end)."""
    try:
        calendar = icalendar.Calendar.from_ical(body)
    except (ValueError, IndexError, KeyError, TypeError, UnicodeDecodeError):
        if body.lstrip()[:1] == b"<":
            raise FeedError("That address gives a web page, not a calendar: copy the iCal (.ics) address.") from None
        raise FeedError("What that address gives is not a calendar we can read (iCal).") from None
    if calendar.name != "VCALENDAR":
        raise FeedError("What that address gives is not a calendar we can read (iCal).")
    _refuse_costly_repeats(calendar, end)
    found: list[tuple[datetime, datetime]] = []
    try:
        for event in recurring_ical_events.of(calendar).between(start, end):
            if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
                continue
            if str(event.get("STATUS", "")).upper() == "CANCELLED" or is_ours(str(event.get("UID", ""))):
                continue
            event_start, event_end = _instant(event.start, zone), _instant(event.end, zone)
            if isinstance(event.start, date) and not isinstance(event.start, datetime) and event_end <= event_start:
                event_end = event_start + timedelta(days=1)
            if event_end > event_start and event_end > start and event_start < end:
                found.append((event_start, event_end))  # not cut to the window: an event under way stays the same
                if len(found) > MAX_BUSY:
                    raise FeedError(
                        f"The calendar has more than {MAX_BUSY} busy events in the time mentees can book; we read "
                        "calendars up to that many."
                    )
    except FeedError:
        raise
    except Exception:  # the library's errors on a feed it cannot expand are many and undocumented
        raise FeedError("The calendar has an event we cannot read; fix or remove it and we will try again.") from None
    return merged(found)


def _refuse_costly_repeats(calendar: icalendar.Calendar, end: datetime) -> None:
    """A repeating event is expanded from its first occurrence: refuse one that would take too long to reach the
    end of the horizon (FREQ=SECONDLY since 1970), before any time is spent on it."""
    for event in calendar.walk("VEVENT"):
        for rule in event.get("RRULE", []) if isinstance(event.get("RRULE"), list) else [event.get("RRULE")]:
            if rule is None:
                continue
            frequency = str((rule.get("FREQ") or [""])[0]).upper()
            period = _PERIOD.get(frequency)
            try:
                first = _instant(event.start, UTC)
                interval = max(int((rule.get("INTERVAL") or [1])[0]), 1)
            except (ValueError, TypeError, KeyError, OverflowError):
                raise FeedError("The calendar has a repeating event we cannot read; fix or remove it.") from None
            if period is None:
                raise FeedError("The calendar has a repeating event we cannot read; fix or remove it.")
            per_period = 1
            for part in ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH"):
                per_period *= max(len(rule.get(part) or []), 1)
            steps = max((end - first) / (period * interval), 0) * per_period
            if steps > MAX_RECURRENCE_STEPS:
                raise FeedError(
                    f"The calendar has an event that repeats too often for too long ({frequency.lower()} since "
                    f"{first:%Y}); end it or split it and we will read the calendar again."
                )


def merged(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for interval_start, interval_end in sorted(intervals):
        if out and interval_start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], interval_end))
        else:
            out.append((interval_start, interval_end))
    return out


def _uid_host() -> str:
    # As the invites sent so far spelled it (case kept): a UID must never change.
    return settings.SITE_URL.split("//", 1)[-1].split("/")[0].split(":")[0] or "mentorship"


def booking_uid(booking_id: int) -> str:
    """A booking's UID in every calendar: our .ics invites (notifications.calendar), copies written back, and
    how we know a copy when we read a mentor's calendar."""
    return f"booking-{booking_id}@{_uid_host()}"


def our_uid_pattern() -> re.Pattern:
    """Matches booking_uid; the group is the booking's id."""
    return re.compile(rf"booking-(\d+)@{re.escape(_uid_host())}")
