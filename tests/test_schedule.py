"""The mentor's Schedule page: typed hours, rules, date overrides and vacations; bad input saves nothing."""

import re
from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from mentorship.hours import parse_ranges

from .factories import MentorProfileFactory, weekly_hours

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("9-12", [(time(9), time(12))]),
        ("13:00–17:30, 09:00 to 12:00", [(time(9), time(12)), (time(13), time(17, 30))]),
        ("20:00-24:00", [(time(20), time.max)]),
        ("09:00-12:00, 12:00-17:00", [(time(9), time(17))]),
    ],
)
def test_hours_are_read_the_way_people_type_them(text, expected):
    assert parse_ranges(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("17:00-09:00", "17:00–09:00 ends before it starts."),
        ("09:00-12:00, 11:00-13:00", "09:00–12:00 and 11:00–13:00 overlap."),
        ("9am-5pm", "“9am” is not a time."),
        ("09:00", "“09:00” is not a range."),
        ("25:00-26:00", "“25:00” is not a time."),
    ],
)
def test_bad_hours_say_what_is_wrong(text, message):
    with pytest.raises(ValidationError, match=message):
        parse_ranges(text)


@pytest.fixture
def mentor(client):
    mentor = MentorProfileFactory(user__time_zone="Europe/Berlin")
    weekly_hours(mentor, days=[0])
    client.force_login(mentor.user)
    return mentor


def schedule_post(**changes):
    data = {f"day_{d}": "" for d in range(7)} | {
        "time_zone": "Europe/Berlin",
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 10,
        "minimum_notice_hours": 12,
        "booking_horizon_days": 60,
        "slot_interval_minutes": 30,
        "max_sessions_per_day": "",
        "slot_display_zone": "viewer",
        "cancellation_window_hours": 24,
        "reschedule_limit": 2,
        "no_show_policy": "Counts as held.",
        "lateness_policy": "",
    }
    return data | changes


def test_the_schedule_saves_hours_zone_and_rules_together(client, mentor):
    response = client.post(
        reverse("mentor_schedule"),
        schedule_post(day_1="9-12, 13-17", time_zone="America/Chicago", max_sessions_per_day=3),
        follow=True,
    )
    assert re.search(r"Your schedule is saved \(in Chicago \(C[SD]T, UTC−[56]\)\)", response.content.decode())
    mentor.refresh_from_db()
    assert mentor.user.time_zone == "America/Chicago" and mentor.max_sessions_per_day == 3
    assert mentor.buffer_after_minutes == 10
    assert [(r.weekday, r.start_time, r.end_time) for r in mentor.availability.all()] == [
        (1, time(9), time(12)),
        (1, time(13), time(17)),
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"day_2": "12:00-10:00"},
        {"day_2": "09:00-12:00, 11:00-13:00"},
        {"time_zone": "Mars/Olympus_Mons"},
        {"minimum_notice_hours": "-1"},
    ],
)
def test_bad_schedule_input_gets_a_message_and_saves_nothing(client, mentor, changes):
    response = client.post(reverse("mentor_schedule"), schedule_post(**changes))
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    mentor.refresh_from_db()
    assert mentor.user.time_zone == "Europe/Berlin" and mentor.buffer_after_minutes == 0
    assert [r.weekday for r in mentor.availability.all()] == [0]


def test_a_date_override_replaces_one_day_and_can_be_removed(client, mentor):
    day = date.today() + timedelta(days=10)
    url = reverse("mentor_date_override")
    client.post(url, {"date": day.isoformat(), "hours": "10-11"})
    assert [(o.start_time, o.end_time) for o in mentor.date_overrides.all()] == [(time(10), time(11))]
    client.post(url, {"date": day.isoformat(), "hours": ""})
    assert [o.is_day_off for o in mentor.date_overrides.all()] == [True]
    client.post(url, {"remove": day.isoformat()})
    assert not mentor.date_overrides.exists()


def test_vacations_are_added_checked_and_only_the_owner_removes_them(client, mentor):
    url = reverse("mentor_vacation")
    response = client.post(url, {"start_date": "2030-08-10", "end_date": "2030-08-01"})
    assert "The vacation ends before it starts." in response.content.decode()
    assert not mentor.vacations.exists()
    client.post(url, {"start_date": "2030-08-01", "end_date": "2030-08-10", "note": "Summer"})
    vacation = mentor.vacations.get()
    other = MentorProfileFactory()
    client.force_login(other.user)
    client.post(url, {"remove": vacation.pk})
    assert mentor.vacations.exists()
