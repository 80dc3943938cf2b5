"""Finding mentors: the directory's search, and the stored next free time it filters and sorts on.

Search runs as one query for the page plus one for the count, however many mentors
there are: whether a mentor is listed, their rating, lowest price and next free time are
stored columns (mentorship.listing, bookings.reviews and the refresh below), indexed for
the sorts, never computed per mentor while searching.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from mentorship.directory_version import directory_changed
from mentorship.models import MentorProfile, Service, User
from mentorship.selectors import listed_mentors

from . import selectors

# "Recommended" (no sort given) is the best match when searching, else the highest rated.
SORTS = {
    "relevance": "Best match",
    "rating": "Highest rated",
    "price": "Lowest price",
    "soonest": "Soonest free time",
}


@dataclass(frozen=True)
class Query:
    text: str = ""
    expertise: str = ""
    language: str = ""
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    min_rating: float | None = None
    format: str = ""  # "online" or "in_person"
    free_within_days: int | None = None
    sort: str = "relevance"


def search(query: Query, *, now: datetime | None = None) -> QuerySet[MentorProfile]:
    now = now or timezone.now()
    mentors = listed_mentors().annotate(
        rating=F("rating_average"), review_count=F("rating_count"), min_price_cents=F("lowest_price_cents")
    )
    words = query.text.split()[:8]
    for word in words:
        mentors = mentors.filter(_matches(word))
    if query.expertise:
        mentors = mentors.filter(expertise__icontains=query.expertise)
    if query.language:
        mentors = mentors.filter(languages__icontains=query.language)
    if query.max_price_cents is not None:  # some open session type costs at most this: the lowest one does
        mentors = mentors.filter(lowest_price_cents__lte=query.max_price_cents)
    if query.min_price_cents is not None:  # one open session type within both bounds
        priced = Service.objects.filter(mentor=OuterRef("pk"), is_active=True, price_cents__gte=query.min_price_cents)
        if query.max_price_cents is not None:
            priced = priced.filter(price_cents__lte=query.max_price_cents)
        mentors = mentors.filter(Exists(priced))
    if query.min_rating is not None:
        mentors = mentors.filter(rating_average__gte=query.min_rating)
    if query.format:
        mentors = mentors.filter(
            Exists(Service.objects.filter(mentor=OuterRef("pk"), is_active=True, format=query.format))
        )
    if query.free_within_days is not None:
        mentors = mentors.filter(next_free_at__gte=now, next_free_at__lte=now + timedelta(days=query.free_within_days))
    return _sorted(mentors, query, words)


def _matches(word: str) -> Q:
    """Mentors with the word in their name, headline or expertise.

    On PostgreSQL a whole word is looked up in full-text indexes (migration 0009) as the start of a
    word ("pyth" finds "Python"); elsewhere, and for words with punctuation ("C++"), anywhere in the text.
    """
    if connection.vendor == "postgresql" and word.isalnum():
        terms = SearchQuery(f"{word}:*", search_type="raw", config="simple")
        profiles = MentorProfile.objects.annotate(found=SearchVector("headline", "expertise", config="simple"))
        users = User.objects.annotate(found=SearchVector("display_name", config="simple"))
        return Q(pk__in=profiles.filter(found=terms).order_by().values("pk")) | Q(
            user_id__in=users.filter(found=terms).order_by().values("pk")
        )
    return Q(user__display_name__icontains=word) | Q(headline__icontains=word) | Q(expertise__icontains=word)


def _sorted(mentors: QuerySet, query: Query, words: list[str]) -> QuerySet:
    if query.sort == "rating":
        return mentors.order_by(
            F("rating_average").desc(nulls_last=True), F("rating_count").desc(), "user__display_name"
        )
    if query.sort == "price":
        return mentors.order_by("lowest_price_cents", "user__display_name")
    if query.sort == "soonest":
        return mentors.order_by(F("next_free_at").asc(nulls_last=True), "user__display_name")
    # Relevance: a word in the name counts most, then the headline, then the expertise; ties go to rating.
    score = Value(0)
    for word in words:
        for field, weight in (("user__display_name", 3), ("headline", 2), ("expertise", 2)):
            score = score + Case(When(**{f"{field}__icontains": word}, then=Value(weight)), default=Value(0))
    return mentors.annotate(relevance=ExpressionWrapper(score, output_field=IntegerField())).order_by(
        "-relevance", F("rating_average").desc(nulls_last=True), "user__display_name"
    )


def topics(field: str, limit: int = 40) -> list[str]:
    """The expertise topics (or languages) of listed mentors, for the filter lists.

    Reading every listed mentor's text grows with the directory, so the lists are cached for a few
    minutes rather than rebuilt on each page view.
    """
    return cache.get_or_set(f"directory:topics:{field}", lambda: _count_topics(field, limit), TOPICS_TTL)


TOPICS_TTL = 300


def forget_topics() -> None:
    """Drop the cached filter lists (tests, or after a bulk change); they rebuild on the next view."""
    cache.delete_many(["directory:topics:expertise", "directory:topics:languages"])


def _count_topics(field: str, limit: int) -> list[str]:
    counts: dict[str, tuple[int, str]] = {}
    for text in listed_mentors().values_list(field, flat=True):
        for item in {part.strip() for part in text.split(",") if part.strip()}:
            count, label = counts.get(item.lower(), (0, item))
            counts[item.lower()] = (count + 1, label)
    ranked = sorted(counts.values(), key=lambda pair: (-pair[0], pair[1].lower()))
    return sorted(label for _, label in ranked[:limit])


# --- Keeping the next free time fresh -----------------------------------------------------


def next_free_start(mentor: MentorProfile, *, now: datetime | None = None) -> datetime | None:
    """The earliest time any open session type of the mentor can be booked, within their horizon."""
    now = now or timezone.now()
    horizon = now + timedelta(days=mentor.booking_horizon_days)
    services = list(mentor.services.filter(is_active=True).select_related("mentor__user"))
    window_start = now
    for span in (timedelta(days=7), timedelta(days=30), timedelta(days=366)):  # look close first: it's cheaper
        window_end = min(now + span, horizon)
        starts = [
            slots[0]
            for service in services
            if (slots := selectors.open_slots(service, start=window_start, end=window_end, now=now))
        ]
        if starts:
            return min(starts)
        if window_end >= horizon:
            return None
        window_start = window_end
    return None


def refresh_next_free(mentor_id: int, *, now: datetime | None = None) -> datetime | None:
    """Compute and store the mentor's next free time, with the availability version it was computed at and
    when it needs computing again although nothing changed: when it comes within the minimum notice, or,
    with none, a day on (the horizon moves)."""
    now = now or timezone.now()
    mentor = MentorProfile.objects.select_related("user").get(pk=mentor_id)
    # The version read before the slots: a change made meanwhile leaves the mentor stale for the next run.
    value = next_free_start(mentor, now=now)
    due = value - mentor.minimum_notice if value is not None else now + NO_FREE_TIME_RECHECK
    MentorProfile.objects.filter(pk=mentor_id).update(
        next_free_at=value, next_free_version=mentor.availability_version, next_free_due_at=due
    )
    if value != mentor.next_free_at:  # the card's "Next free" and the soonest-first order
        directory_changed()
    return value


# A mentor with no free time within the horizon is looked at again after this (the horizon moved on a day).
NO_FREE_TIME_RECHECK = timedelta(days=1)


def stale_next_free_ids(*, now: datetime | None = None) -> list[int]:
    """Listed mentors whose stored next free time may be wrong: their free time changed since it was computed
    (the availability version moved), or it is due again (within the minimum notice, or a day without any).
    One query on two indexes, however many mentors there are; unlisted mentors lose a stale value on the way."""
    now = now or timezone.now()
    stale = MentorProfile.objects.filter(
        Q(next_free_version__lt=F("availability_version")) | Q(next_free_due_at__lte=now)
    )
    listed = listed_mentors()
    MentorProfile.objects.filter(next_free_at__isnull=False).exclude(pk__in=listed.values("pk")).update(
        next_free_at=None
    )
    return list(listed.filter(pk__in=stale.values("pk")).values_list("pk", flat=True))


def listed_mentor_ids() -> list[int]:
    """Listed mentors' ids; the others lose a stale next free time on the way."""
    listed = listed_mentors()
    MentorProfile.objects.exclude(pk__in=listed.values("pk")).exclude(next_free_at=None).update(next_free_at=None)
    return list(listed.values_list("pk", flat=True))


def refresh_all_next_free(*, now: datetime | None = None) -> int:
    """Recompute every listed mentor's next free time at once (demo data, tests); safe to run twice."""
    ids = listed_mentor_ids()
    for mentor_id in ids:
        refresh_next_free(mentor_id, now=now)
    return len(ids)


def refresh_stale_next_free(*, now: datetime | None = None) -> int:
    """Recompute the next free time of the mentors whose time changed or came due (stale_next_free_ids)."""
    ids = stale_next_free_ids(now=now)
    for mentor_id in ids:
        refresh_next_free(mentor_id, now=now)
    return len(ids)
