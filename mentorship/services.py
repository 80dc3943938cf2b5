"""Writes on the people side: accounts, mentor applications, services and hours."""

import logging
from datetime import date, time

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils import timezone

from . import listing, media_storage, outbox, table_versions
from .directory_version import directory_changed
from .models import AvailabilityRule, DateOverride, MentorProfile, Service, User, Vacation

log = logging.getLogger(__name__)


def availability_changed(mentor_id: int) -> None:
    """Something that can change the mentor's free time changed (a booking, hours, days off, a session type,
    a booking rule, an imported calendar): call it in the transaction that made the change.

    The mentor's availability version goes up, so cached slot lists of the old version are never read again,
    and the directory recomputes the next free time after commit (bookings, which builds on this app,
    handles the topic).
    """
    MentorProfile.objects.filter(pk=mentor_id).update(availability_version=F("availability_version") + 1)
    table_versions.changed(free_time_version(mentor_id))
    outbox.record("mentor.free_time_changed", mentor_id=mentor_id)


def free_time_version(mentor_id: int) -> str:
    """The name of the cached counterpart of the mentor's availability version: kept pages read it without a
    query (mentorship.table_versions)."""
    return f"mentor-free-time:{mentor_id}"


def availabilities_changed(mentor_ids) -> None:
    """availability_changed for many mentors at once (a sweep's batch): one update, one insert."""
    mentor_ids = sorted(set(mentor_ids))
    if mentor_ids:
        MentorProfile.objects.filter(pk__in=mentor_ids).update(availability_version=F("availability_version") + 1)
        for mentor_id in mentor_ids:
            table_versions.changed(free_time_version(mentor_id))
        outbox.record_many("mentor.free_time_changed", [{"mentor_id": mentor_id} for mentor_id in mentor_ids])


def _free_time_changed(profile_id: int) -> None:
    """Hours, days off, session types, booking rules or approval changed: besides the new availability version,
    the stored listing and lowest price are recomputed, and the directory's cached pages are dropped."""
    availability_changed(profile_id)
    listing.refresh(profile_id)  # listed or not, and the lowest price
    directory_changed()


class MentorError(Exception):
    """Something a mentor or applicant asked for that cannot happen; the message says why."""


def account_update(user: User, *, display_name: str, time_zone: str, accessibility_needs: str | None = None) -> User:
    user.display_name = display_name
    user.time_zone = time_zone
    fields = ["display_name", "time_zone"]
    if accessibility_needs is not None:
        user.accessibility_needs = accessibility_needs.strip()
        fields.append("accessibility_needs")
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        zone_moved = User.objects.filter(pk=user.pk).exclude(time_zone=time_zone).exists()
        user.save(update_fields=fields)
        if zone_moved and (profile_id := MentorProfile.objects.filter(user=user).values_list("pk", flat=True).first()):
            availability_changed(profile_id)  # the weekly hours are kept in the mentor's own zone
    if hasattr(user, "mentor_profile"):  # the name and zone show on the directory's cards
        directory_changed()
    return user


def mentor_apply(
    user: User, *, headline: str, bio: str, expertise: str, motivation: str, languages: str = "English"
) -> MentorProfile:
    """Apply to become a mentor; a refused applicant may apply again."""
    with transaction.atomic():
        profile = MentorProfile.objects.select_for_update().filter(user=user).first()
        if profile is not None and profile.status != MentorProfile.Status.REJECTED:
            raise MentorError("You have already applied. We'll e-mail you when staff have reviewed it.")
        profile = profile or MentorProfile(user=user)
        profile.headline, profile.bio, profile.expertise, profile.motivation = headline, bio, expertise, motivation
        profile.languages = languages
        profile.status = MentorProfile.Status.APPLIED
        profile.applied_at = timezone.now()
        profile.review_note = ""
        profile.save()
    return profile


def mentor_application_review(profile: MentorProfile, *, approve: bool, note: str = "") -> bool:
    """Staff decide on an application; the applicant hears either way. False if already decided.

    A refusal needs a reason: the applicant reads it in the e-mail and on the application page.
    """
    if not approve and not note.strip():
        raise MentorError("Write the reason for the applicant in “Review note” first.")
    new_status = MentorProfile.Status.APPROVED if approve else MentorProfile.Status.REJECTED
    with transaction.atomic():
        changed = MentorProfile.objects.filter(pk=profile.pk, status=MentorProfile.Status.APPLIED).update(
            status=new_status, review_note=note, reviewed_at=timezone.now()
        )
        if changed:
            _tell_applicant(profile.pk)
            _free_time_changed(profile.pk)
    return bool(changed)


def _tell_applicant(profile_id: int) -> None:
    """Record the decision's notice in the transaction that made it; notifications stores and e-mails it."""
    profile = MentorProfile.objects.select_related("user").get(pk=profile_id)
    if profile.is_approved:
        kind, subject, link = "application_approved", "You're approved as a mentor", reverse("mentor_services")
        body = (
            f"Hi {profile.user},\n\nWelcome aboard! Next: add your session types and prices, and set your weekly "
            f"hours so mentees can book you: {settings.SITE_URL}{link}\n"
        )
    else:
        kind, subject, link = "application_refused", "About your mentor application", reverse("become_mentor")
        body = f"Hi {profile.user},\n\nThank you for applying. We can't approve it yet.\n\n{profile.review_note}\n"
    # Stored, shown under the bell and retried like every other notice.
    key = f"application-{profile.pk}-{kind}-{profile.reviewed_at:%Y%m%d%H%M%S%f}"
    outbox.record("user.notice", user_id=profile.user_id, kind=kind, key=key, subject=subject, body=body, link=link)


PHOTO_NOT_STORED = "We couldn't store your photo just now, so nothing was saved. Please try again in a minute."


def mentor_profile_update(
    profile: MentorProfile,
    *,
    headline: str,
    bio: str,
    expertise: str,
    languages: str = "English",
    photo=None,
    remove_photo: bool = False,
) -> MentorProfile:
    """Save the public profile. `photo` is an already checked and re-encoded image (mentorship.photos)."""
    profile.headline, profile.bio, profile.expertise, profile.languages = headline, bio, expertise, languages
    fields = ["headline", "bio", "expertise", "languages"]
    old_photo = profile.photo.name if profile.photo else ""
    if photo is not None:
        try:
            profile.photo.save(f"{profile.pk}-{photo.name}", photo, save=False)
        except media_storage.storage_errors() as error:
            log.warning("Could not store the photo of mentor %s: %r", profile.pk, error)
            raise MentorError(PHOTO_NOT_STORED) from None
        fields.append("photo")
    elif remove_photo and old_photo:
        profile.photo = None
        fields.append("photo")
    profile.save(update_fields=fields)
    directory_changed()
    if "photo" in fields and old_photo:
        try:
            profile.photo.storage.delete(old_photo)
        except media_storage.storage_errors() as error:  # the profile is saved; an old file is left over
            log.warning("Could not delete the old photo %s of mentor %s: %r", old_photo, profile.pk, error)
    return profile


def service_save(
    profile: MentorProfile,
    *,
    service: Service | None = None,
    title: str,
    description: str,
    duration_minutes: int,
    price_cents: int,
    is_active: bool,
    format: str = Service.Format.ONLINE,
    address: str = "",
    access_notes: str = "",
    policy: str = "",
    buffer_before_minutes: int | None = None,
    buffer_after_minutes: int | None = None,
    cancellation_window_hours: int | None = None,
    free_sessions_per_mentee: int | None = None,
) -> Service:
    """Create or change a session type. A price of 0 makes it free: booked without a card (bookings.services)."""
    service = service or Service(mentor=profile)
    if service.mentor_id != profile.pk:
        raise MentorError("That session type belongs to another mentor.")
    service.title, service.description = title, description
    service.format, service.address, service.access_notes = format, address.strip(), access_notes.strip()
    service.policy = policy.strip()
    if service.pk is None:  # new session types go last
        service.position = (profile.services.aggregate(last=Max("position"))["last"] or 0) + 1
    service.duration_minutes, service.price_cents, service.is_active = duration_minutes, price_cents, is_active
    service.buffer_before_minutes, service.buffer_after_minutes = buffer_before_minutes, buffer_after_minutes
    service.cancellation_window_hours = cancellation_window_hours
    service.free_sessions_per_mentee = free_sessions_per_mentee
    service.full_clean()
    service.save()
    _free_time_changed(profile.pk)
    return service


def service_move(profile: MentorProfile, *, service_id: int, step: int) -> bool:
    """Move a session type one place up (step -1) or down (+1) on the profile. False at either end."""
    with transaction.atomic():
        MentorProfile.objects.select_for_update().get(pk=profile.pk)  # one reorder at a time
        ordered = list(profile.services.order_by("position", "duration_minutes", "price_cents", "pk"))
        index = next((i for i, service in enumerate(ordered) if service.pk == service_id), None)
        if index is None:
            raise MentorError("That session type belongs to another mentor.")
        other = index + step
        if not 0 <= other < len(ordered):
            return False
        ordered[index], ordered[other] = ordered[other], ordered[index]
        for position, service in enumerate(ordered, start=1):
            service.position = position
        Service.objects.bulk_update(ordered, ["position"])
    return True


def schedule_update(profile: MentorProfile, *, time_zone: str, weekly: list[tuple[int, time, time]], rules: dict):
    """Save the mentor's zone, weekly hours and booking rules together, or nothing."""
    with transaction.atomic():
        MentorProfile.objects.select_for_update().get(pk=profile.pk)
        account_update(profile.user, display_name=profile.user.display_name, time_zone=time_zone)
        for name, value in rules.items():
            setattr(profile, name, value)
        profile.full_clean(exclude=["user"])
        profile.save(update_fields=list(rules))
        profile.availability.all().delete()
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(mentor=profile, weekday=weekday, start_time=start, end_time=end)
            for weekday, start, end in weekly
        )
        _free_time_changed(profile.pk)


def date_override_set(profile: MentorProfile, *, day: date, ranges: list[tuple[time, time]]) -> None:
    """Replace the hours of one date: the given ranges, or a day off when there are none."""
    with transaction.atomic():
        profile.date_overrides.filter(date=day).delete()
        DateOverride.objects.bulk_create(
            [DateOverride(mentor=profile, date=day, start_time=start, end_time=end) for start, end in ranges]
            or [DateOverride(mentor=profile, date=day)]
        )
        _free_time_changed(profile.pk)


def date_override_remove(profile: MentorProfile, *, day: date) -> None:
    profile.date_overrides.filter(date=day).delete()
    _free_time_changed(profile.pk)


def vacation_add(profile: MentorProfile, *, start_date: date, end_date: date, note: str = "") -> Vacation:
    vacation = Vacation(mentor=profile, start_date=start_date, end_date=end_date, note=note)
    vacation.full_clean()
    vacation.save()
    _free_time_changed(profile.pk)
    return vacation


def vacation_remove(profile: MentorProfile, *, vacation_id: int) -> bool:
    deleted, _ = profile.vacations.filter(pk=vacation_id).delete()
    _free_time_changed(profile.pk)
    return bool(deleted)
