"""Zones in words, the month calendar's data, and what the profile with its calendar costs in queries."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import picker, selectors
from bookings.models import Booking, Package, Review
from mentorship.models import DateOverride, Vacation
from mentorship.zones import zone_choices, zone_label

from .factories import ServiceFactory, UserFactory, bookable_mentor


@pytest.mark.parametrize(
    ("zone", "moment", "label"),
    [
        ("America/New_York", datetime(2026, 1, 15, 12, tzinfo=UTC), "New York (EST, UTC−5)"),
        ("America/New_York", datetime(2026, 7, 15, 12, tzinfo=UTC), "New York (EDT, UTC−4)"),
        # The night the clocks go forward in New York (2026-03-08 07:00 UTC): an hour before and after.
        ("America/New_York", datetime(2026, 3, 8, 6, 30, tzinfo=UTC), "New York (EST, UTC−5)"),
        ("America/New_York", datetime(2026, 3, 8, 7, 30, tzinfo=UTC), "New York (EDT, UTC−4)"),
        ("Europe/London", datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "London (BST, UTC+1)"),
        ("Europe/London", datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "London (GMT, UTC+0)"),
        ("Australia/Sydney", datetime(2026, 1, 15, tzinfo=UTC), "Sydney (AEDT, UTC+11)"),  # summer in January
        ("Australia/Sydney", datetime(2026, 7, 15, tzinfo=UTC), "Sydney (AEST, UTC+10)"),
        ("Asia/Kolkata", datetime(2026, 1, 15, tzinfo=UTC), "Kolkata (IST, UTC+5:30)"),
        ("Asia/Kathmandu", datetime(2026, 1, 15, tzinfo=UTC), "Kathmandu (UTC+5:45)"),  # no letters: no abbreviation
        ("America/St_Johns", datetime(2026, 1, 15, tzinfo=UTC), "St Johns (NST, UTC−3:30)"),
        ("America/Argentina/Buenos_Aires", datetime(2026, 1, 15, tzinfo=UTC), "Buenos Aires (UTC−3)"),
        ("UTC", datetime(2026, 1, 15, tzinfo=UTC), "UTC"),
        ("Etc/UTC", datetime(2026, 1, 15, tzinfo=UTC), "UTC"),
        ("Etc/GMT+5", datetime(2026, 1, 15, tzinfo=UTC), "UTC−5"),  # POSIX signs are the other way round
        ("US/Eastern", datetime(2026, 1, 15, tzinfo=UTC), "US Eastern (EST, UTC−5)"),
        ("Not/A_Zone", datetime(2026, 1, 15, tzinfo=UTC), "Not/A_Zone"),
    ],
)
def test_a_zone_in_words_at_a_moment(zone, moment, label):
    assert zone_label(zone, moment) == label


def test_negative_offsets_use_a_real_minus_sign():
    assert "\u2212" in zone_label("America/New_York") and "-" not in zone_label("America/New_York")


def test_zone_choices_are_every_common_zone_by_place_name():
    choices = zone_choices(datetime(2026, 1, 15, tzinfo=UTC))
    labels = [label for _, label in choices]
    assert labels == sorted(labels, key=str.casefold)
    assert ("Asia/Kolkata", "Kolkata (IST, UTC+5:30)") in choices and ("UTC", "UTC") in choices
    assert len(choices) > 400


def test_the_calendar_names_both_offsets_across_a_dst_change_and_the_mentors_clock_only_when_it_differs():
    new_york, london = ZoneInfo("America/New_York"), ZoneInfo("Europe/London")
    # 1 March (before New York's change on 8 March) and 10 March (after; London changes on 29 March).
    before = datetime(2026, 3, 1, 15, tzinfo=UTC)
    after = datetime(2026, 3, 10, 15, tzinfo=UTC)
    data = picker.month_picker(
        [before, after],
        zone=london,
        mentor_zone=new_york,
        duration=timedelta(minutes=30),
        today=date(2026, 3, 1),
        last=date(2026, 3, 31),
    )
    first, second = data["days"]["2026-03-01"][0], data["days"]["2026-03-10"][0]
    assert first[:3] == [before.isoformat(), "15:00", "15:30"]
    assert data["labels"][first[3]] == "London (GMT, UTC+0)"
    assert first[4:7] == ["10:00", "10:30", ""] and data["labels"][first[7]] == "New York (EST, UTC−5)"
    assert second[4:6] == ["11:00", "11:30"] and data["labels"][second[7]] == "New York (EDT, UTC−4)"

    same_clock = picker.month_picker(
        [before],
        zone=london,
        mentor_zone=ZoneInfo("Europe/Lisbon"),
        duration=timedelta(hours=1),
        today=date(2026, 3, 1),
        last=date(2026, 3, 31),
    )
    assert same_clock["days"]["2026-03-01"] == [[before.isoformat(), "15:00", "16:00", 0]]


def test_the_mentors_day_is_named_when_it_is_another_day():
    data = picker.month_picker(
        [datetime(2026, 3, 2, 2, tzinfo=UTC)],
        zone=ZoneInfo("Asia/Tokyo"),
        mentor_zone=ZoneInfo("America/Los_Angeles"),
        duration=timedelta(minutes=30),
        today=date(2026, 3, 1),
        last=date(2026, 3, 31),
    )
    assert data["days"]["2026-03-02"][0][4:7] == ["18:00", "18:30", "Sunday 1 March"]


def a_busy_mentor():
    """A mentor with a lot of everything the profile reads: bookings all over the calendar's months, reviews,
    date overrides, vacations, more session types and packages."""
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    for n in range(4):
        service = ServiceFactory(mentor=mentor, title=f"Extra {n}", duration_minutes=45, price_cents=5000)
        Package.objects.create(mentor=mentor, service=service, sessions=4, price_cents=18000)
    today = timezone.localdate()
    for n in range(40):
        DateOverride.objects.create(
            mentor=mentor, date=today + timedelta(days=2 * n + 1), start_time=time(10), end_time=time(14)
        )
    for n in range(3):
        Vacation.objects.create(
            mentor=mentor, start_date=today + timedelta(days=20 * n + 5), end_date=today + timedelta(days=20 * n + 7)
        )
    mentee = UserFactory()
    base = datetime.combine(today + timedelta(days=2), time(15), tzinfo=UTC)
    bookings = Booking.objects.bulk_create(
        Booking(
            mentee=mentee,
            mentor=mentor,
            service=intro,
            start=base + timedelta(hours=7 * n),
            end=base + timedelta(hours=7 * n, minutes=30),
            blocked_start=base + timedelta(hours=7 * n),
            blocked_end=base + timedelta(hours=7 * n, minutes=30),
            status=Booking.Status.COMPLETED if n < 30 else Booking.Status.CONFIRMED,
            price_cents=4000,
            currency="usd",
        )
        for n in range(300)
    )
    Review.objects.bulk_create(
        Review(booking=b, mentor=mentor, mentee=mentee, rating=5, text="Great") for b in bookings[:30]
    )
    return mentor


QUERIES = 16  # session, user, nav counts, mentor, services, slots (availability version; on a cache miss rules,
# overrides, vacations, bookings), rating, reviews, packages, response time: the same whatever the amount of data


@pytest.mark.django_db
@pytest.mark.parametrize("busy", [False, True], ids=["a new mentor", "a busy mentor"])
def test_the_profile_with_its_calendar_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries, busy):
    mentor = a_busy_mentor() if busy else bookable_mentor()
    client.force_login(UserFactory(time_zone="Asia/Kolkata"))
    with django_assert_max_num_queries(QUERIES):
        response = client.get(reverse("mentor_profile", args=[mentor.pk]))
    assert response.status_code == 200
    assert b'id="picker-data"' in response.content and b"Book session" in response.content


@pytest.mark.django_db
def test_the_calendar_data_matches_the_slot_engine_for_the_months_shown(client):
    mentor = a_busy_mentor()
    intro = mentor.services.get(duration_minutes=30)
    client.force_login(UserFactory(time_zone="Europe/London"))
    response = client.get(reverse("mentor_profile", args=[mentor.pk]), {"service": intro.pk})
    data = response.context["calendar"]
    now = timezone.now()
    expected = selectors.open_slots(intro, start=now - timedelta(days=1), end=now + timedelta(days=picker.PICKER_DAYS))
    shown = [datetime.fromisoformat(slot[0]) for day in data["days"].values() for slot in day]
    last = date.fromisoformat(data["last"])
    assert shown == [s for s in expected if s.astimezone(ZoneInfo("Europe/London")).date() <= last]
    assert len(data["days"]) > 30  # months, not a week
