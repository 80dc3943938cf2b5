"""CalDAV (iCloud, Fastmail, Nextcloud, …) through the `caldav` client: find an account's calendars, read their
events for busy time, and write our sessions into one of them.

Every call has a timeout and checks the host as calendar addresses are checked (no private networks in
production). Failures are FeedError with words for the mentor.
"""

import json
from dataclasses import dataclass
from datetime import datetime

import caldav
import icalendar
import requests
from caldav.lib import error as dav_error
from django.conf import settings

from . import deadline
from .calendar_feeds import FeedError, check_host, check_peer

TIMEOUT = 15  # seconds for each request; a page that asks (finding calendars) makes a handful


@dataclass(frozen=True)
class Account:
    url: str  # the server's address, or one calendar's
    username: str
    password: str

    def sealable(self) -> str:
        return json.dumps({"url": self.url, "username": self.username, "password": self.password})

    @classmethod
    def from_sealed(cls, text: str) -> "Account":
        values = json.loads(text)
        return cls(values["url"], values["username"], values["password"])

    def at(self, url: str) -> "Account":
        return Account(url, self.username, self.password)


def _client(account: Account, timeout: float, max_bytes: int | None = None) -> caldav.DAVClient:
    if not account.url.lower().startswith(("https://", "http://")):
        raise FeedError("Use the server's address that starts with https://.")
    check_host(account.url)
    client = caldav.DAVClient(url=account.url, username=account.username, password=account.password, timeout=timeout)
    cap = max_bytes or settings.CALENDAR_FEED_MAX_BYTES

    def not_too_large(response, *args, **kwargs):
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            response.close()
            raise FeedError(
                f"The calendar is larger than {cap // (1024 * 1024) or 1} MB; we read calendars up to that."
            )
        return response

    # Every hop, redirects and the servers discovery leads to included, must be a public address.
    client.session.hooks["response"] = [check_peer, not_too_large]
    return client


def _bounded(seconds: float, call):
    """A CalDAV exchange (several requests) within `seconds` in all."""
    try:
        return deadline.within(seconds, call)
    except deadline.TimeUp:
        raise FeedError("The calendar server did not answer in time.") from None


def _words(error: Exception) -> FeedError:
    if isinstance(error, FeedError):
        return error
    if isinstance(error, dav_error.AuthorizationError):
        return FeedError("The server refused that user name and password (iCloud and Fastmail want an app password).")
    if isinstance(error, requests.Timeout):
        return FeedError("The calendar server did not answer in time.")
    if isinstance(error, requests.RequestException):
        return FeedError("The calendar server could not be reached.")
    if isinstance(error, dav_error.NotFoundError):
        return FeedError("Nothing is at that address any more: connect the calendar again.")
    return FeedError("That server does not answer as a CalDAV server; check its address.")


def calendars(account: Account, *, timeout: float = TIMEOUT) -> list[tuple[str, str]]:
    """The account's calendars that hold events: (address, name), within `timeout` seconds in all."""

    def find():
        result = []
        for calendar in _client(account, timeout).principal().calendars():
            if "VEVENT" in calendar.get_supported_components():
                result.append((str(calendar.url), (calendar.name or str(calendar.url))[:80]))
        return result

    try:
        result = _bounded(timeout, find)
    except Exception as error:  # the client's errors are many (XML, HTTP, DAV): each said in words
        raise _words(error) from None
    if not result:
        raise FeedError("That account has no calendar with events.")
    return result


def events_ical(
    account: Account, *, start: datetime, end: datetime, timeout: float = TIMEOUT, max_bytes: int | None = None
) -> bytes:
    """The calendar's events that meet [start, end), recurring ones whole, as one iCal text (expanded by us)."""

    def read():
        whole = icalendar.Calendar()
        whole.add("prodid", "-//Mentorship//CalDAV busy time//EN")
        whole.add("version", "2.0")
        seen_zones = set()
        calendar = _client(account, timeout, max_bytes).calendar(url=account.url)
        for found in calendar.search(start=start, end=end, event=True, expand=False):
            for component in found.icalendar_instance.subcomponents:
                if component.name == "VTIMEZONE":
                    if str(component.get("TZID")) in seen_zones:
                        continue
                    seen_zones.add(str(component.get("TZID")))
                if component.name in ("VEVENT", "VTIMEZONE"):
                    whole.add_component(component)
        return whole.to_ical()

    try:
        return _bounded(timeout, read)
    except Exception as error:
        raise _words(error) from None


def put_event(account: Account, uid: str, ical: bytes, *, timeout: float = TIMEOUT) -> None:
    """Create the event with this UID, or replace the one there (wherever the server keeps it)."""

    def put():
        calendar = _client(account, timeout).calendar(url=account.url)
        try:
            existing = calendar.event_by_uid(uid)
        except dav_error.NotFoundError:
            calendar.save_event(ical.decode())
            return
        existing.data = ical.decode()
        existing.save()

    try:
        _bounded(timeout, put)
    except Exception as error:
        raise _words(error) from None


def delete_event(account: Account, uid: str, *, timeout: float = TIMEOUT) -> None:
    """Remove the event with this UID, if it is there."""

    def delete():
        try:
            _client(account, timeout).calendar(url=account.url).event_by_uid(uid).delete()
        except dav_error.NotFoundError:
            return

    try:
        _bounded(timeout, delete)
    except Exception as error:
        raise _words(error) from None
