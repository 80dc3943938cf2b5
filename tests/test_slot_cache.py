"""The cached free slots (bookings.selectors.open_slots) and the next-free refresh follow every change at once:
both are keyed by the mentor's availability version, which every change that can move free time puts up."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from bookings import directory, selectors, services
from bookings.models import Booking
from mentorship import services as mentor_services
from mentorship.models import MentorProfile

from .factories import UserFactory, bookable_mentor

pytestmark = pytest.mark.django_db


def week(service):
    now = timezone.now()
    return selectors.open_slots(service, start=now, end=now + timedelta(days=7))


def profile_times(client, mentor, service, on: datetime) -> set[str]:
    """The start times the profile page offers for `service` on the (UTC) day of `on`."""
    query = {"service": service.pk, "day": on.astimezone(UTC).date().isoformat(), "tz": "UTC"}
    response = client.get(reverse("mentor_profile", args=[mentor.pk]), query)
    return {entry[0] for entry in response.context["calendar"]["data"]["times"]}


def test_a_hold_and_its_release_show_on_the_profile_at_once(client):
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    # A day on, so the time is still beyond the notice once the hold has run out.
    first = next(slot for slot in week(intro) if slot > timezone.now() + timedelta(days=2))
    assert first.isoformat() in profile_times(client, mentor, intro, first)  # computed and cached
    held = services.booking_hold(mentee=UserFactory(), service=intro, start=first)
    assert first.isoformat() not in profile_times(client, mentor, intro, first)
    assert first not in week(intro)  # the same (old) service object reads the new version too
    with time_machine.travel(held.hold_expires_at + timedelta(seconds=1), tick=False):
        assert services.release_expired_holds() == 1
        assert first in week(intro)


def test_a_held_time_listed_in_an_old_cached_list_still_cannot_be_held():
    """Booking checks the database under the lock, never the cached list: a time taken behind the
    services' back (no new version, so the cache still offers it) is refused."""
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    first = week(intro)[0]
    Booking.objects.create(
        mentee=UserFactory(),
        mentor=mentor,
        service=intro,
        start=first,
        end=first + timedelta(minutes=30),
        blocked_start=first,
        blocked_end=first + timedelta(minutes=30),
        status=Booking.Status.CONFIRMED,
        price_cents=4000,
        currency="usd",
    )
    assert first in week(intro)  # the stale list, as the profile would show it
    with pytest.raises(services.BookingError, match="just taken"):
        services.booking_hold(mentee=UserFactory(), service=intro, start=first)
    assert not selectors.is_open(intro, first)


def test_a_day_off_empties_that_day_at_once(client):
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    first = week(intro)[0]
    day = first.astimezone(mentor.user.zone).date()
    mentor_services.date_override_set(mentor, day=day, ranges=[])
    assert all(slot.astimezone(mentor.user.zone).date() != day for slot in week(intro))
    assert first.isoformat() not in profile_times(client, mentor, intro, first)
    mentor_services.date_override_remove(mentor, day=day)
    assert first in week(intro)


def test_a_longer_session_type_and_new_rules_show_at_once():
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    before = week(intro)
    last_of_day = max(s for s in before if s.date() == before[0].date())  # 16:30 New York: a 30-min session fits
    mentor_services.service_save(
        mentor, service=intro, title=intro.title, description="", duration_minutes=60, price_cents=4000, is_active=True
    )
    assert last_of_day not in week(intro)
    rules = {"minimum_notice_hours": 24 * 5}
    mentor_services.schedule_update(mentor, time_zone=mentor.user.time_zone, weekly=[], rules=rules)
    assert week(intro) == []


def test_the_notice_is_kept_as_time_passes_although_the_list_is_cached():
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    first, second = week(intro)[:2]
    with time_machine.travel(first - mentor.minimum_notice + timedelta(seconds=1), tick=False):
        assert week(intro)[0] == second


# --- The next free time: only mentors whose time changed -------------------------------------------


@time_machine.travel(datetime(2026, 3, 2, 12, tzinfo=ZoneInfo("America/New_York")), tick=False)
def test_the_refresh_recomputes_only_the_mentor_whose_time_changed_and_those_come_due():
    # Noon on a Monday in New York, hours 09:00-17:00: with 12 to 16 hours' notice all are next free at
    # 09:00 tomorrow, and the one with the longest notice is due again first (at 17:00 today).
    mentors = [bookable_mentor(minimum_notice_hours=12 + n) for n in range(5)]
    assert directory.refresh_stale_next_free() == 5  # never computed
    assert directory.refresh_stale_next_free() == 0  # nothing changed
    changed = mentors[2]
    mentor_services.vacation_add(changed, start_date=timezone.localdate(), end_date=timezone.localdate())
    assert directory.stale_next_free_ids() == [changed.pk]
    assert directory.refresh_stale_next_free() == 1
    assert directory.refresh_stale_next_free() == 0

    longest = MentorProfile.objects.get(pk=mentors[4].pk)
    with time_machine.travel(longest.next_free_at - longest.minimum_notice + timedelta(seconds=1), tick=False):
        assert directory.stale_next_free_ids() == [longest.pk]
        assert directory.refresh_stale_next_free() == 1
        longest.refresh_from_db()
        assert longest.next_free_at >= timezone.now() + longest.minimum_notice
        assert directory.stale_next_free_ids() == []


def test_a_mentor_without_free_time_is_looked_at_again_a_day_later():
    mentor = bookable_mentor()
    mentor_services.vacation_add(
        mentor, start_date=timezone.localdate(), end_date=timezone.localdate() + timedelta(days=90)
    )
    directory.refresh_stale_next_free()
    mentor.refresh_from_db()
    assert mentor.next_free_at is None and directory.stale_next_free_ids() == []
    with time_machine.travel(timezone.now() + directory.NO_FREE_TIME_RECHECK + timedelta(minutes=1), tick=False):
        assert directory.stale_next_free_ids() == [mentor.pk]
