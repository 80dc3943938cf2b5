"""A booking chosen before signing in ("book first, sign in after").

A signed-out visitor who picks a time and clicks "Book session" gets the choice kept in their session (ids, an
ISO time and the text they typed: nothing pickled), logs in or signs up (with the e-mail confirmation in between),
and lands on the resume step, which holds the time and opens checkout.

This module lives in `mentorship` because the sign-in side (the account adapter, the sign-in pages) must find the
draft, and `mentorship` may not import `bookings`: it knows the resume step only by its URL name. `bookings` keeps
and claims the draft through the functions here. A draft is read as untrusted input: anything of the wrong shape
counts as no draft at all.

A draft belongs to the person who signs in *from the page that shows it*: the log-in and sign-up forms carry its
one-time token, and that sign-in (or the sign-up whose e-mail is then confirmed) binds it to the member. Any other
sign-in on the browser forgets it, so a choice left on a shared computer is never booked, or shown at checkout,
for the next person.
"""

import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.urls import reverse
from django.utils import timezone

from .input_rules import BoundedForm
from .models import Service

SESSION_KEY = "booking_draft"
LEFTOVER_KEY = "booking_draft_leftover"  # the text typed, for the profile's form when the time is gone
RESUME_URL_NAME = "book_resume"
# Long enough to sign up and confirm the e-mail address; short enough that an old choice does not ambush a
# later sign-in.
KEPT_FOR = timedelta(hours=24)

LARGEST_ID = 2**31 - 1
LIMITS = {"start": 64, "message": 2000, "accessibility_needs": 1000, "tz": 64, "kept_at": 64, "token": 64}
TOKEN_FIELD = "booking_draft"  # the hidden field of the log-in and sign-up forms


@dataclass(frozen=True)
class Draft:
    mentor: int
    service: int
    start: str  # ISO 8601 with an offset, as the calendar sends it
    message: str
    accessibility_needs: str
    tz: str
    week: int
    kept_at: str
    token: str
    member: int = 0  # the member it is bound to; 0 until someone signs in from the page that shows it

    def form_data(self) -> dict[str, str]:
        """The booking form's fields, as the profile page posts them."""
        return {
            "service": str(self.service),
            "start": self.start,
            "message": self.message,
            "accessibility_needs": self.accessibility_needs,
        }

    def calendar_query(self) -> dict[str, str]:
        """The profile's query string as the visitor left it: session type, week, zone."""
        query = {"service": str(self.service), "week": str(self.week) if self.week else "", "tz": self.tz}
        return {key: value for key, value in query.items() if value}


def keep(
    request,
    *,
    mentor: int,
    service: int,
    start: datetime,
    message: str,
    accessibility_needs: str,
    tz: str | None,
    week: int | None,
) -> None:
    request.session[SESSION_KEY] = asdict(
        Draft(
            mentor=mentor,
            service=service,
            start=start.isoformat(),
            message=message,
            accessibility_needs=accessibility_needs,
            tz=tz or "",
            week=week or 0,
            kept_at=timezone.now().isoformat(),
            token=secrets.token_urlsafe(16),
        )
    )


def _parse(value) -> Draft | None:
    """The draft if `value` has exactly its shape and is still fresh; None for anything else."""
    if not isinstance(value, dict) or set(value) != set(Draft.__dataclass_fields__):
        return None
    bounds = (("mentor", 1, LARGEST_ID), ("service", 1, LARGEST_ID), ("week", 0, 52), ("member", 0, LARGEST_ID))
    for name, lowest, highest in bounds:
        if type(value[name]) is not int or not lowest <= value[name] <= highest:
            return None
    for name, limit in LIMITS.items():
        if not isinstance(value[name], str) or len(value[name]) > limit:
            return None
    try:
        kept_at = datetime.fromisoformat(value["kept_at"])
        if kept_at.tzinfo is None or not timedelta(0) <= timezone.now() - kept_at <= KEPT_FOR:
            return None
    except (ValueError, OverflowError):
        return None
    return Draft(**value)


def peek(request) -> Draft | None:
    session = getattr(request, "session", None)
    return _parse(session.get(SESSION_KEY)) if session is not None else None


def claim(request) -> Draft | None:
    """Take the signed-in member's draft out of the session: it is used once, however often the resume address
    is opened. A draft bound to no one, or to someone else, is dropped."""
    draft = _parse(request.session.pop(SESSION_KEY, None))
    return draft if draft is not None and draft.member == request.user.pk else None


class _TokenForm(BoundedForm, forms.Form):
    booking_draft = forms.CharField(max_length=LIMITS["token"], required=False)


def bind(request, member_id: int) -> None:
    """Give the draft to the member who signed in or up with the form that showed it (its token came back);
    forget it if the sign-in came from anywhere else."""
    draft = peek(request)
    if draft is None or draft.member == member_id:
        return
    sent = _TokenForm(request.POST)
    token_sent = sent.cleaned_data[TOKEN_FIELD] if sent.is_valid() else ""
    if draft.member == 0 and token_sent and secrets.compare_digest(token_sent, draft.token):
        request.session[SESSION_KEY] = asdict(draft) | {"member": member_id}
    else:
        discard(request)


def token(request) -> str:
    draft = peek(request)
    return draft.token if draft is not None and draft.member == 0 else ""


def discard(request) -> None:
    """Forget a draft: the member booked another way, so a later sign-in must not bring it back."""
    request.session.pop(SESSION_KEY, None)


def resume_url(request) -> str | None:
    """Where signing in or up should lead: the resume step while the signed-in member's draft is kept."""
    draft = peek(request)
    user = getattr(request, "user", None)
    mine = draft is not None and user is not None and draft.member and draft.member == user.pk
    return reverse(RESUME_URL_NAME) if mine else None


def keep_leftover(request, draft: Draft) -> None:
    """What the visitor typed, for the profile's form when the time can no longer be booked."""
    request.session[LEFTOVER_KEY] = {
        "mentor": draft.mentor,
        "message": draft.message,
        "accessibility_needs": draft.accessibility_needs,
    }


def take_leftover(request, mentor: int) -> dict[str, str]:
    """The text kept for this mentor's booking form, once; empty if none (or not of the expected shape)."""
    session = getattr(request, "session", None)
    value = session.pop(LEFTOVER_KEY, None) if session is not None else None
    if not isinstance(value, dict) or value.get("mentor") != mentor:
        return {}
    return {
        name: value[name]
        for name in ("message", "accessibility_needs")
        if isinstance(value.get(name), str) and len(value[name]) <= LIMITS[name]
    }


def summary(request) -> str | None:
    """The kept choice in one line for the sign-in pages: "Intro call with Ada, Tue 3 Dec 10:00 (your time)"."""
    draft = peek(request)
    if draft is None:
        return None
    service = (
        Service.objects.filter(pk=draft.service, mentor_id=draft.mentor, is_active=True)
        .select_related("mentor__user")
        .first()
    )
    if service is None:
        return None
    zone_name = getattr(request, "viewer_zone", "UTC")
    try:
        start = datetime.fromisoformat(draft.start)
        if start.tzinfo is None:
            return None
        local = start.astimezone(UTC).astimezone(ZoneInfo(zone_name))
    except (ValueError, OverflowError):  # not a time, or one at the edge of the calendar in this zone
        return None
    zone = "your time" if getattr(request, "viewer_zone_known", False) else zone_name
    when = f"{local:%a} {local.day} {local:%b %H:%M}"
    return f"{service.title} with {service.mentor.user.display_name}, {when} ({zone})"
