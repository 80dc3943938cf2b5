"""Reading and writing hours as people type them: "09:00–12:00, 13:00–17:30"."""

import re
from datetime import time

from django.core.exceptions import ValidationError

RANGE_SEPARATORS = re.compile(r"\s*(?:–|—|-|to)\s*")
TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
EXAMPLE = "09:00–12:00, 13:00–17:00"
# "24:00", the midnight that ends a day, is stored as the last time of the day.
END_OF_DAY = time.max


def _time(text: str) -> time:
    match = TIME.match(text.strip())
    if not match or int(match[1]) > 24 or int(match[2] or 0) > 59:
        raise ValidationError(f"“{text.strip()}” is not a time. Write ranges like {EXAMPLE}.")
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour == 24 and minute == 0:
        return END_OF_DAY
    if hour == 24:
        raise ValidationError(f"“{text.strip()}” is not a time. Write ranges like {EXAMPLE}.")
    return time(hour, minute)


def parse_ranges(text: str) -> list[tuple[time, time]]:
    """'9-12, 13:00–17:30' -> [(09:00, 12:00), (13:00, 17:30)]; empty text means no hours."""
    ranges = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;]", text or ""))):
        pieces = RANGE_SEPARATORS.split(part)
        if len(pieces) != 2:
            raise ValidationError(f"“{part}” is not a range. Write ranges like {EXAMPLE}.")
        start, end = _time(pieces[0]), _time(pieces[1])
        if end <= start:
            raise ValidationError(f"{_text(start)}–{_text(end)} ends before it starts.")
        ranges.append((start, end))
    ranges.sort()
    joined: list[tuple[time, time]] = []
    for start, end in ranges:
        if joined and start < joined[-1][1]:
            a_start, a_end = joined[-1]
            raise ValidationError(f"{_text(a_start)}–{_text(a_end)} and {_text(start)}–{_text(end)} overlap.")
        if joined and start == joined[-1][1]:
            joined[-1] = (joined[-1][0], end)  # 09:00–12:00, 12:00–17:00 is one range
        else:
            joined.append((start, end))
    return joined


def _text(at: time) -> str:
    return "24:00" if at == END_OF_DAY else f"{at:%H:%M}"


def format_ranges(ranges) -> str:
    return ", ".join(f"{_text(start)}–{_text(end)}" for start, end in ranges)
