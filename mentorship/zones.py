"""Time-zone names: browsers (ICU) still report some old IANA names; we store the current ones. Zones in words."""

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import pytz

# Old name -> current IANA name, for the links browsers are known to report.
BROWSER_ALIASES = {
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Ulan_Bator": "Asia/Ulaanbaatar",
    "Europe/Kiev": "Europe/Kyiv",
    "Europe/Uzhgorod": "Europe/Kyiv",
    "Europe/Zaporozhye": "Europe/Kyiv",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Catamarca": "America/Argentina/Catamarca",
    "America/Cordoba": "America/Argentina/Cordoba",
    "America/Jujuy": "America/Argentina/Jujuy",
    "America/Mendoza": "America/Argentina/Mendoza",
    "America/Indianapolis": "America/Indiana/Indianapolis",
    "America/Louisville": "America/Kentucky/Louisville",
    "America/Godthab": "America/Nuuk",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Africa/Asmera": "Africa/Asmara",
    "Pacific/Truk": "Pacific/Chuuk",
    "Pacific/Ponape": "Pacific/Pohnpei",
    "Pacific/Enderbury": "Pacific/Kanton",
}


def canonical_zone(name: str) -> str:
    return BROWSER_ALIASES.get(name, name)


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    """Every IANA name this machine's time-zone database has, read once per process.

    `zoneinfo.available_timezones()` rescans the database on each call (about 8 ms); the middleware asks on
    every request with a zone cookie. The database changes only with a package upgrade, which restarts us.
    """
    return frozenset(available_timezones())


def is_known_zone(name: str) -> bool:
    return name in known_zones()


# First parts of an IANA name that are a region, not a place: "America/New_York" is New York.
REGIONS = {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
UTC_NAMES = {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu", "Z"}
MINUS = "\u2212"  # a real minus sign: "UTC−5", not a hyphen


def zone_place(name: str) -> str:
    """The place an IANA name is called after: "America/Argentina/Buenos_Aires" -> "Buenos Aires".

    Names that are not region/place ("US/Eastern", "GMT") keep all their parts, spaced.
    """
    parts = name.split("/")
    if parts[0] in REGIONS and len(parts) > 1:
        parts = parts[-1:]
    return " ".join(parts).replace("_", " ")


def utc_offset(offset: timedelta) -> str:
    """timedelta(hours=-5) -> "UTC−5"; 5h30 -> "UTC+5:30"; zero -> "UTC+0"."""
    minutes = round(offset.total_seconds() / 60)
    sign = MINUS if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_label(name: str, at: datetime | None = None) -> str:
    """A zone in words at a moment (now by default): "New York (EST, UTC−5)", "Kolkata (IST, UTC+5:30)", "UTC".

    The abbreviation is left out where the zone has none but a number ("Dubai (UTC+4)"). An unknown name is
    returned as it is.
    """
    if name in UTC_NAMES:
        return "UTC"
    if name.startswith("Etc/GMT"):  # "Etc/GMT+5" is UTC−5: the sign of these names is the other way round
        return utc_offset(ZoneInfo(name).utcoffset(datetime.now(UTC)) or timedelta(0))
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return name
    moment = (at or datetime.now(UTC)).astimezone(zone)
    offset = utc_offset(moment.utcoffset() or timedelta(0))
    abbreviation = moment.tzname() or ""
    place = zone_place(name)
    named = abbreviation[:1].isalpha() and abbreviation != place
    words = f"{abbreviation}, {offset}" if named else offset
    return f"{place} ({words})"


def zone_choices(at: datetime | None = None) -> list[tuple[str, str]]:
    """(IANA name, label) of the common zones for a zone select, in the order of the places' names, so people
    find their city. The labels are told at `at` (now), to the hour."""
    at = (at or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    return _zone_choices_at(at)


@lru_cache(maxsize=4)
def _zone_choices_at(at: datetime) -> list[tuple[str, str]]:
    choices = ((name, zone_label(name, at)) for name in pytz.common_timezones)
    return sorted(choices, key=lambda choice: choice[1].casefold())
