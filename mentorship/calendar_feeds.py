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
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import requests
from django.conf import settings

MAX_REDIRECTS = 3
MAX_OCCURRENCES = 5000  # in the booking horizon; a feed with more is read up to here (the nearest first)
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


def check_host(address: str) -> None:
    host = urlsplit(address).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise FeedError(f"{host} could not be found: check the address.") from None
    if settings.CALENDAR_ALLOW_PRIVATE_ADDRESSES:
        return
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise FeedError(f"{host} is not a public address: we only read calendars on the internet.")


def fetch(address: str, *, etag: str = "", last_modified: str = "", timeout: float = 15.0) -> Fetched:
    """The feed's body within `timeout` seconds in all (connect, each read and the whole download)."""
    deadline = time.monotonic() + timeout
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    url = normalised(address)
    for _ in range(MAX_REDIRECTS + 1):
        check_host(url)
        left = max(deadline - time.monotonic(), 0.1)
        try:
            response = requests.get(
                url, headers=headers, timeout=(min(5.0, left), left), stream=True, allow_redirects=False
            )
        except requests.Timeout:
            raise FeedError(f"The calendar did not answer within {timeout:.0f} seconds.") from None
        except requests.RequestException:
            raise FeedError("The calendar's server could not be reached.") from None
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
            body = _read_capped(response, deadline, timeout)
            return Fetched(
                body, response.headers.get("ETag", "")[:200], response.headers.get("Last-Modified", "")[:100]
            )
    raise FeedError("The address redirects too many times.")


def _read_capped(response: requests.Response, deadline: float, timeout: float) -> bytes:
    cap = settings.CALENDAR_FEED_MAX_BYTES
    too_big = FeedError(f"The calendar is larger than {cap // (1024 * 1024)} MB; we read calendars up to that size.")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise too_big
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise too_big
            if time.monotonic() > deadline:
                raise FeedError(f"The calendar did not finish sending within {timeout:.0f} seconds.")
            chunks.append(chunk)
    except requests.RequestException:
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
    found: list[tuple[datetime, datetime]] = []
    try:
        occurrences = recurring_ical_events.of(calendar, skip_bad_series=True).after(start)
        for count, event in enumerate(occurrences):
            if count >= MAX_OCCURRENCES:
                break
            event_start = _instant(event.start, zone)
            if event_start >= end:
                break
            if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
                continue
            if str(event.get("STATUS", "")).upper() == "CANCELLED" or is_ours(str(event.get("UID", ""))):
                continue
            event_end = _instant(event.end, zone)
            if isinstance(event.start, date) and not isinstance(event.start, datetime) and event_end <= event_start:
                event_end = event_start + timedelta(days=1)
            if event_end > event_start and event_end > start:
                found.append((max(event_start, start), min(event_end, end)))
    except (ValueError, TypeError, KeyError, OverflowError, recurring_ical_events.InvalidCalendar):
        raise FeedError("The calendar has an event we cannot read; fix or remove it and we will try again.") from None
    return merged(found)


def merged(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for interval_start, interval_end in sorted(intervals):
        if out and interval_start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], interval_end))
        else:
            out.append((interval_start, interval_end))
    return out


def our_uid_pattern() -> re.Pattern:
    """The UID of our own .ics invites (notifications.calendar.uid): such a copy is a session we already count."""
    host = settings.SITE_URL.split("//", 1)[-1].split("/")[0].split(":")[0] or "mentorship"
    return re.compile(rf"booking-\d+@{re.escape(host)}")
