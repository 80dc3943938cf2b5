"""A person's rights over their data: a copy of it (a zip of JSON files) and the deletion of their account.

Each app knows its own data, so each registers, in its `AppConfig.ready()`, what it contributes (as the outbox
handlers do, keeping dependencies pointing one way):

- `@exports("bookings")`: a function of the user giving that file's JSON-able content;
- `@closes`: a function of the user that ends their open business by the normal rules before deletion
  (requests declined or cancelled with the refunds the policies give); it runs in its own transactions;
- `@erases`: a function of the user that erases or anonymises their personal data, inside the deletion's one
  transaction.

Deleting an account never deletes the person's row: bookings, payments and the ledger point at it and are
kept for the books (and for the other person's history). What identifies the person goes: e-mail
addresses, name, words they wrote about themselves, photo, saved card, sign-in factors, sessions.
"""

import io
import json
import zipfile
from collections.abc import Callable

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from . import listing, services
from .directory_version import directory_changed
from .models import AvailabilityRule, ConnectedCalendar, DateOverride, MentorProfile, Service, Vacation

FORMER_MEMBER = "Former member"

_exporters: dict[str, Callable] = {}
_closers: list[Callable] = []
_erasers: list[Callable] = []
_foretellers: list[Callable] = []
_refusers: list[Callable] = []


def _register(registry: list, function: Callable) -> Callable:
    if function not in registry:
        registry.append(function)
    return function


def exports(section: str):
    def register(function):
        _exporters[section] = function
        return function

    return register


def closes(function: Callable) -> Callable:
    return _register(_closers, function)


def erases(function: Callable) -> Callable:
    return _register(_erasers, function)


def foretells(function: Callable) -> Callable:
    """A function of the user giving what deleting the account would end, as lines the person reads first."""
    return _register(_foretellers, function)


def refuses(function: Callable) -> Callable:
    """A function of the user giving why the account cannot be deleted yet (what would be lost), or ""."""
    return _register(_refusers, function)


def why_not_yet(user) -> list[str]:
    reasons = [reason for refuse in _refusers if (reason := refuse(user))]
    if user.is_superuser:
        reasons.insert(0, "A superuser's account is not deleted here: take away superuser status first.")
    return reasons


def what_deleting_ends(user) -> list[str]:
    return [line for foretell in _foretellers for line in foretell(user)]


# --- A copy of one's data -----------------------------------------------------------------------------


def iso(value) -> str | None:
    """A time in the copy: ISO 8601 in UTC, or null."""
    return value.isoformat() if value else None


@exports("profile")
def _profile(user) -> dict:
    profile = MentorProfile.objects.filter(user=user).first()
    return {
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "time_zone": user.time_zone,
            "accessibility_needs": user.accessibility_needs,
            "date_joined": iso(user.date_joined),
            "last_login": iso(user.last_login),
            "email_addresses": [
                {"email": address.email, "verified": address.verified, "primary": address.primary}
                for address in EmailAddress.objects.filter(user=user)
            ],
        },
        "mentor_profile": None
        if profile is None
        else {
            "status": profile.status,
            "headline": profile.headline,
            "bio": profile.bio,
            "expertise": profile.expertise,
            "languages": profile.languages,
            "motivation": profile.motivation,
            "applied_at": iso(profile.applied_at),
            "has_photo": bool(profile.photo),
            "session_types": [
                {"title": s.title, "duration_minutes": s.duration_minutes, "price_cents": s.price_cents}
                for s in Service.objects.filter(mentor=profile)
            ],
            # The address itself is a secret key to the calendar: named by its host only, like on the page.
            "connected_calendars": [
                {"name": c.name, "address": c.address_hint, "last_synced_at": iso(c.last_synced_at)}
                for c in ConnectedCalendar.objects.filter(mentor=profile)
            ],
        },
    }


def export_zip(user) -> tuple[str, bytes]:
    """The file name and bytes of the zip: one JSON file per section, and a note on what they hold."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            "Your data from Mentorship, as of "
            f"{timezone.now():%Y-%m-%d %H:%M} UTC. One JSON file per part: {', '.join(sorted(_exporters))}.\n"
            "Times are in UTC (ISO 8601); amounts in cents of the currency given.\n",
        )
        for section, exporter in sorted(_exporters.items()):
            content = json.dumps(exporter(user), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
            archive.writestr(f"{section}.json", content)
    return f"mentorship-data-{timezone.localdate():%Y-%m-%d}.zip", out.getvalue()


# --- Deleting one's account ---------------------------------------------------------------------------


@erases
def _erase_mentor_profile(user) -> None:
    profile = MentorProfile.objects.filter(user=user).first()
    if profile is None:
        return
    photo = profile.photo.name if profile.photo else ""
    Service.objects.filter(mentor=profile).update(
        is_active=False, address="", access_notes="", description="", policy=""
    )
    AvailabilityRule.objects.filter(mentor=profile).delete()
    DateOverride.objects.filter(mentor=profile).delete()
    Vacation.objects.filter(mentor=profile).delete()
    ConnectedCalendar.objects.filter(mentor=profile).delete()  # their busy time goes with them
    profile.headline, profile.bio, profile.expertise, profile.languages = FORMER_MEMBER, "", "", ""
    profile.motivation, profile.review_note, profile.photo = "", "", None
    profile.status = MentorProfile.Status.REJECTED  # the public profile is gone (it answers 404)
    profile.save(
        update_fields=["headline", "bio", "expertise", "languages", "motivation", "review_note", "photo", "status"]
    )
    listing.refresh(profile.pk)  # off the directory at once
    services.availability_changed(profile.pk)  # no slot of theirs is offered from a cache
    directory_changed()
    if photo:  # the file goes once the erasure is committed; a storage that fails then leaves it, logged
        transaction.on_commit(lambda: profile.photo.storage.delete(photo), robust=True)


def _erase_account(user) -> None:
    """Last: the row stays (the books point at it) with nothing that says who it was."""
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.display_name = FORMER_MEMBER
    user.accessibility_needs = ""
    user.time_zone = "UTC"
    user.is_active = user.is_staff = user.is_superuser = False
    if user.has_usable_password():
        user.set_unusable_password()  # every session of theirs ends: its hash no longer matches
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


class DeletionRefused(Exception):
    """The account cannot be deleted (yet); the message says why."""


def account_delete(user_id: int) -> None:
    """Close the person's open business by the normal rules, then erase or anonymise their personal data.

    The account is made inactive first, in its own transaction: they are signed out everywhere, nothing new
    can start, and a payment landing meanwhile is refunded instead of buying a session. Safe to run twice
    (and to run again after a failure half-way): a deleted account has no open business and nothing personal
    left."""
    user = get_user_model().objects.get(pk=user_id)
    reasons = why_not_yet(user)
    if reasons:
        raise DeletionRefused(" ".join(reasons))
    get_user_model().objects.filter(pk=user_id).update(is_active=False)
    for close in _closers:
        close(user)
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user_id)
        for erase in _erasers:
            erase(user)
        _erase_account(user)
