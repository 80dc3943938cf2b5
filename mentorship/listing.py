"""Whether a mentor is listed, and their lowest open price: stored on the profile so the directory
filters and sorts on plain indexed columns instead of checking every mentor's session types and hours.

`MentorProfile.listed_until` is the last day the mentor can be found: unset while they are not
approved or have no open session type or no hours; the far future with weekly hours; else the last
of their dated hours. "Listed" is then `listed_until >= today`, so a mentor whose only dated hours
have passed drops off by the date alone, with no job to run.

The services call `refresh()` after each change; saves and deletes of the rows it reads (the admin,
test factories, `QuerySet.delete()`) refresh it through signals. `bulk_create` and
`QuerySet.update()` bypass both: call `refresh()` after them.
"""

from datetime import date

from django.db.models import Case, DateField, Exists, Max, Min, OuterRef, Q, Subquery, Value, When
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from .models import AvailabilityRule, DateOverride, MentorProfile, Service

ALWAYS = date(9999, 12, 31)  # weekly hours never lapse


def listed_q(prefix: str = "") -> Q:
    """Listed today, as a filter on MentorProfile (or on a relation to it, with its prefix)."""
    return Q(**{f"{prefix}listed_until__gte": timezone.localdate()})


def refresh(*mentor_ids: int) -> None:
    """Recompute the stored listing and lowest price of these mentors (all mentors when none are given)."""
    mentors = MentorProfile.objects.all()
    if mentor_ids:
        mentors = mentors.filter(pk__in=mentor_ids)
    open_services = Service.objects.filter(mentor=OuterRef("pk"), is_active=True).order_by().values("mentor")
    dated = (
        DateOverride.objects.filter(mentor=OuterRef("pk"), start_time__isnull=False)
        .order_by()
        .values("mentor")
        .annotate(last=Max("date"))
        .values("last")
    )
    mentors.update(
        lowest_price_cents=Subquery(open_services.annotate(low=Min("price_cents")).values("low")),
        listed_until=Case(
            When(~Q(status=MentorProfile.Status.APPROVED) | ~Exists(open_services), then=Value(None)),
            When(Exists(AvailabilityRule.objects.filter(mentor=OuterRef("pk"))), then=Value(ALWAYS)),
            default=Subquery(dated),
            output_field=DateField(),
        ),
    )


def _row_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        refresh(instance.mentor_id)


def _profile_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    if not raw and (update_fields is None or "status" in update_fields):
        refresh(instance.pk)


def connect() -> None:
    for model in (Service, AvailabilityRule, DateOverride):
        post_save.connect(_row_changed, sender=model, dispatch_uid=f"listing-{model.__name__}-save")
        post_delete.connect(_row_changed, sender=model, dispatch_uid=f"listing-{model.__name__}-delete")
    post_save.connect(_profile_saved, sender=MentorProfile, dispatch_uid="listing-profile-save")
