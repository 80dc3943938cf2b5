"""Zones in words, the month calendar's data, and what the profile with its calendar costs in queries."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
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


def local_slots(moments, zone):
    return picker.day_slots(moments, zone=zone, day=moments[0].astimezone(zone).date())


def test_the_calendar_names_both_offsets_across_a_dst_change_and_the_mentors_clock_only_when_it_differs():
    new_york, london = ZoneInfo("America/New_York"), ZoneInfo("Europe/London")
    # 1 March (before New York's change on 8 March) and 10 March (after; London changes on 29 March).
    before = datetime(2026, 3, 1, 15, tzinfo=UTC)
    after = datetime(2026, 3, 10, 15, tzinfo=UTC)
    half_hour = timedelta(minutes=30)
    [first] = picker.day_times(local_slots([before], london), mentor_zone=new_york, duration=half_hour)
    [second] = picker.day_times(local_slots([after], london), mentor_zone=new_york, duration=half_hour)
    assert first == [
        before.isoformat(),
        "15:00",
        "15:30",
        "London (GMT, UTC+0)",
        "10:00",
        "10:30",
        "",
        "New York (EST, UTC−5)",
    ]
    assert second[4:6] == ["11:00", "11:30"] and second[7] == "New York (EDT, UTC−4)"

    same_clock = picker.day_times(
        local_slots([before], london), mentor_zone=ZoneInfo("Europe/Lisbon"), duration=timedelta(hours=1)
    )
    assert same_clock == [[before.isoformat(), "15:00", "16:00", "London (GMT, UTC+0)"]]


def test_a_day_across_a_dst_change_names_both_offsets_and_the_repeated_hour():
    new_york = ZoneInfo("America/New_York")
    # Sunday 1 November 2026: 01:30 happens twice in New York (EDT, then EST).
    first, again = datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    times = picker.day_times(local_slots([first, again], new_york), mentor_zone=new_york, duration=timedelta(hours=1))
    assert [t[1:4] for t in times] == [
        ["01:30 EDT", "01:30", "New York (EDT, UTC−4)"],
        ["01:30 EST", "02:30", "New York (EST, UTC−5)"],
    ]


def test_the_mentors_day_is_named_when_it_is_another_day():
    [entry] = picker.day_times(
        local_slots([datetime(2026, 3, 2, 2, tzinfo=UTC)], ZoneInfo("Asia/Tokyo")),
        mentor_zone=ZoneInfo("America/Los_Angeles"),
        duration=timedelta(minutes=30),
    )
    assert entry[4:7] == ["18:00", "18:30", "Sunday 1 March"]


def test_free_days_are_the_viewers_days_in_order_up_to_the_last():
    tokyo = ZoneInfo("Asia/Tokyo")
    slots = [
        datetime(2026, 3, 1, 14, tzinfo=UTC),
        datetime(2026, 3, 1, 16, tzinfo=UTC),
        datetime(2026, 3, 3, tzinfo=UTC),
    ]
    # 23:00 on 1 March and 01:00 on 2 March in Tokyo; 3 March is past the last day.
    assert picker.free_days(slots, zone=tokyo, last=date(2026, 3, 2)) == [date(2026, 3, 1), date(2026, 3, 2)]


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
TIMES_QUERIES = 9  # session, user, mentor, service, slots (availability version; on a cache miss rules, overrides,
# vacations, bookings)


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
@pytest.mark.parametrize("busy", [False, True], ids=["a new mentor", "a busy mentor"])
def test_a_days_times_cost_a_fixed_number_of_queries(client, django_assert_max_num_queries, busy):
    mentor = a_busy_mentor() if busy else bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    client.force_login(UserFactory(time_zone="Asia/Kolkata"))
    day = timezone.localdate() + timedelta(days=3)
    with django_assert_max_num_queries(TIMES_QUERIES):
        response = client.get(times_url(mentor), {"service": intro.pk, "day": day.isoformat()})
    assert response.status_code == 200 and response.json()["times"]


def times_url(mentor) -> str:
    return reverse("mentor_times", args=[mentor.pk])


def page_calendar(client, mentor, **query) -> dict:
    response = client.get(reverse("mentor_profile", args=[mentor.pk]), query)
    assert response.status_code == 200
    return response.context["calendar"]


@pytest.mark.django_db
def test_the_page_carries_the_free_days_of_the_months_and_one_days_times(client):
    mentor = a_busy_mentor()
    intro = mentor.services.get(duration_minutes=30)
    london = ZoneInfo("Europe/London")
    client.force_login(UserFactory(time_zone="Europe/London"))
    calendar = page_calendar(client, mentor, service=intro.pk)
    data = calendar["data"]
    today = timezone.now().astimezone(london).replace(hour=0, minute=0, second=0, microsecond=0)
    last = date.fromisoformat(data["last"])
    expected = [
        s
        for s in selectors.open_slots(intro, start=today, end=today + timedelta(days=picker.PICKER_DAYS))
        if s.astimezone(london).date() <= last
    ]
    assert data["free"] == sorted({s.astimezone(london).date().isoformat() for s in expected})
    assert len(data["free"]) > 30  # months, not a week
    first_day = [s for s in expected if s.astimezone(london).date().isoformat() == data["free"][0]]
    assert data["day"] == data["free"][0]
    assert [datetime.fromisoformat(t[0]) for t in data["times"]] == first_day  # that day's times only

    # Another day, asked for by a link of the grid shown without JavaScript: its times on the page.
    other = data["free"][5]
    calendar = page_calendar(client, mentor, service=intro.pk, day=other)
    assert calendar["data"]["day"] == other
    assert [t.start for t in calendar["times"]] == [
        s for s in expected if s.astimezone(london).date().isoformat() == other
    ]
    weeks = calendar["weeks"]
    linked = [c["iso"] for week in weeks for c in week if c and c["free"]]
    assert other in linked and set(linked) <= set(data["free"])


@pytest.mark.django_db
def test_a_day_out_of_the_calendar_or_a_wrong_one_shows_the_first_free_day(client):
    mentor = bookable_mentor()
    first = page_calendar(client, mentor)["data"]["free"][0]
    for day in ["2020-01-01", "2999-01-01", "not-a-day", "2026-02-30", "x" * 500]:
        assert page_calendar(client, mentor, day=day)["data"]["day"] == first


@pytest.mark.django_db
def test_the_times_endpoint_answers_the_days_times_in_the_viewers_zone(client):
    mentor = bookable_mentor(user__time_zone="America/New_York")
    intro = mentor.services.get(duration_minutes=30)
    tokyo = ZoneInfo("Asia/Tokyo")
    data = page_calendar(client, mentor, service=intro.pk, tz="Asia/Tokyo")["data"]
    day = date.fromisoformat(data["free"][2])
    response = client.get(times_url(mentor), {"service": intro.pk, "day": day.isoformat(), "tz": "Asia/Tokyo"})
    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")
    answer = response.json()
    start = datetime.combine(day, time(), tzinfo=tokyo)
    expected = selectors.open_slots(intro, start=start, end=start + timedelta(days=1))
    assert answer["day"] == day.isoformat()
    assert [datetime.fromisoformat(t[0]) for t in answer["times"]] == expected
    assert all(datetime.fromisoformat(t[0]).astimezone(tokyo).date() == day for t in answer["times"])
    assert answer["times"][0][1] == f"{expected[0].astimezone(tokyo):%H:%M}"
    assert answer["times"][0][3].startswith("Tokyo (JST, UTC+9)")


@pytest.mark.django_db
def test_the_times_endpoint_across_a_dst_change_keeps_the_viewers_wall_clock(client):
    """Sunday 29 March 2026 has 23 hours in London: the day's times are that day's, told in BST after 01:00."""
    mentor = bookable_mentor(user__time_zone="Europe/London")
    intro = mentor.services.get(duration_minutes=30)
    london = ZoneInfo("Europe/London")
    with time_machine.travel(datetime(2026, 3, 20, 9, tzinfo=UTC)):
        response = client.get(times_url(mentor), {"service": intro.pk, "day": "2026-03-29", "tz": "Europe/London"})
    times = response.json()["times"]
    assert times and times[0][1] == "09:00" and times[0][3] == "London (BST, UTC+1)"
    assert datetime.fromisoformat(times[0][0]) == datetime(2026, 3, 29, 8, tzinfo=UTC)
    assert all(datetime.fromisoformat(t[0]).astimezone(london).date() == date(2026, 3, 29) for t in times)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"service": "1"},
        {"day": "2026-03-29"},
        {"service": "abc", "day": "2026-03-29"},
        {"service": "-4", "day": "2026-03-29"},
        {"service": str(10**30), "day": "2026-03-29"},
        {"service": "{intro}", "day": "29/03/2026"},
        {"service": "{intro}", "day": "2026-02-30"},
        {"service": "{intro}", "day": "9999-12-31T00:00"},
        {"service": "{intro}", "day": "2026-03-29", "tz": "x" * 200},
        {"service": "{intro}", "day": "2026-03-29\x00"},
    ],
)
def test_wrong_questions_to_the_times_endpoint_are_told_so(client, query):
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    query = {key: value.replace("{intro}", str(intro.pk)) for key, value in query.items()}
    response = client.get(times_url(mentor), query)
    assert response.status_code == 400 and "error" in response.json()


@pytest.mark.django_db
def test_the_times_endpoint_refuses_another_mentors_service_and_unknown_mentors(client):
    mentor, other = bookable_mentor(), bookable_mentor()
    theirs = other.services.get(duration_minutes=30)
    day = (timezone.localdate() + timedelta(days=2)).isoformat()
    assert client.get(times_url(mentor), {"service": theirs.pk, "day": day}).status_code == 404
    assert client.get(times_url(other), {"service": theirs.pk, "day": day}).status_code == 200
    theirs.is_active = False
    theirs.save()
    assert client.get(times_url(other), {"service": theirs.pk, "day": day}).status_code == 404
    assert client.get(reverse("mentor_times", args=[10**6]), {"service": theirs.pk, "day": day}).status_code == 404
    assert client.post(times_url(other), {"service": theirs.pk, "day": day}).status_code == 405


@pytest.mark.django_db
def test_days_out_of_the_calendar_have_no_times(client):
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    today = timezone.localdate()
    horizon = today + timedelta(days=mentor.booking_horizon_days + 2)
    for day in [today - timedelta(days=1), horizon, date(9999, 12, 31), date(1, 1, 1)]:
        response = client.get(times_url(mentor), {"service": intro.pk, "day": day.isoformat(), "tz": "UTC"})
        assert response.status_code == 200 and response.json() == {"day": day.isoformat(), "times": []}
    tomorrow = client.get(times_url(mentor), {"service": intro.pk, "day": (today + timedelta(days=1)).isoformat()})
    assert tomorrow.json()["times"]
