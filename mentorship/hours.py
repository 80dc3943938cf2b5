"""Reading and writing hours as people type them: "09:00–12:00, 13:00–17:30"."""

import re
from datetime import time

from django.core.exceptions import ValidationError

RANGE_SEPARATORS = re.compile(r"\s*(?:–|—|-|to)\s*")
TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
EXAMPLE = "09:00–12:00, 13:00–17:00"


def _time(text: str) -> time:
    match = TIME.match(text.strip())
    if not match or int(match[1]) > 24 or int(match[2] or 0) > 59:
        raise ValidationError(f"“{text.strip()}” is not a time. Write ranges like {EXAMPLE}.")
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour == 24 and minute == 0:
        return time(23, 59)
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
            raise ValidationError(f"{start:%H:%M}–{end:%H:%M} ends before it starts.")
        ranges.append((start, end))
    ranges.sort()
    for (a_start, a_end), (b_start, b_end) in zip(ranges, ranges[1:], strict=False):
        if b_start < a_end:
            raise ValidationError(f"{a_start:%H:%M}–{a_end:%H:%M} and {b_start:%H:%M}–{b_end:%H:%M} overlap.")
    return ranges


def format_ranges(ranges) -> str:
    return ", ".join(f"{start:%H:%M}–{end:%H:%M}" for start, end in ranges)
