"""My Bookings and the mentor's Bookings stay usable with many sessions: each section counted in its heading and
paged on its own, a fixed number of queries whatever the number of bookings, and empty states that say what to do."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import selectors
from bookings import services as booking_services
from bookings.models import Booking
from bookings.views import SECTION_PAGE_SIZE

from .factories import UserFactory, bookable_mentor

pytestmark = pytest.mark.django_db

KINDS = ("pending", "confirmed", "completed", "declined")


def sessions(mentor, mentee, count: int, kinds: tuple[str, ...] = KINDS) -> list[Booking]:
    """`count` paid requests of `mentee` with `mentor` at the next free times, made through the real services,
    then answered in turn as `kinds` says: pending, confirmed, completed (at its end) and declined."""
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    starts = selectors.open_slots(intro, start=now + timedelta(days=1), end=now + timedelta(days=30))[:count]
    assert len(starts) == count
    made = []
    for index, start in enumerate(starts):
        booking = booking_services.booking_hold(mentee=mentee, service=intro, start=start)
        booking_services.booking_mark_paid(booking.pk)
        kind = kinds[index % len(kinds)]
        if kind in ("confirmed", "completed"):
            booking_services.booking_confirm(booking.pk, actor=mentor.user)
        if kind == "completed":
            booking_services.booking_complete(booking.pk, actor=mentor.user, now=booking.end)
        if kind == "declined":
            booking_services.booking_decline(booking.pk, actor=mentor.user, reason="Away that week")
        made.append(booking)
    return made


def heading_count(page: str, heading: str) -> int:
    match = re.search(rf">{heading} <span class=\"count\">(\d+)</span></h2>", page)
    assert match, f"no heading {heading!r} with a count"
    return int(match.group(1))


def rows_in(page: str, section_id: str) -> int:
    """How many bookings the section with this id lists."""
    section = page.split(f'<section class="card" id="{section_id}"', 1)[1].split("</section>", 1)[0]
    return section.count('class="booking-row"')


@pytest.fixture
def mentor():
    return bookable_mentor(user__display_name="Maya Mentor")


def test_my_bookings_counts_each_section_and_pages_one_without_moving_the_others(client, mentor):
    mentee = UserFactory()
    sessions(mentor, mentee, 4 * SECTION_PAGE_SIZE + 4)  # 11 of each kind
    client.force_login(mentee)

    page = client.get(reverse("my_bookings")).content.decode()
    assert heading_count(page, "Upcoming") == 22  # pending and confirmed
    assert heading_count(page, "Past") == 11
    assert heading_count(page, "Cancelled and declined") == 11
    assert rows_in(page, "upcoming") == SECTION_PAGE_SIZE and rows_in(page, "past") == SECTION_PAGE_SIZE
    assert "Page 1 of 3" in page and 'href="?past_page=2#past"' in page

    page = client.get(reverse("my_bookings"), {"past_page": 2, "upcoming_page": 3}).content.decode()
    assert rows_in(page, "past") == 1 and rows_in(page, "upcoming") == 2
    assert rows_in(page, "cancelled") == SECTION_PAGE_SIZE
    # The other section's page stays where it was in each link.
    assert 'href="?upcoming_page=3&amp;past_page=1#past"' in page


def test_the_mentors_bookings_count_each_section_and_page_each_on_its_own(client, mentor):
    sessions(mentor, UserFactory(), 4 * SECTION_PAGE_SIZE + 4)
    client.force_login(mentor.user)

    page = client.get(reverse("mentor_bookings")).content.decode()
    for heading, count in (("Pending", 11), ("Upcoming", 11), ("Past", 11), ("Cancelled", 11), ("To mark complete", 0)):
        assert heading_count(page, heading) == count
    assert rows_in(page, "pending") == SECTION_PAGE_SIZE
    page = client.get(reverse("mentor_bookings"), {"pending_page": 2}).content.decode()
    assert rows_in(page, "pending") == 1 and rows_in(page, "past") == SECTION_PAGE_SIZE
    # Confirm from page 2 comes back to page 2.
    assert 'name="next" value="/mentor/bookings/?pending_page=2"' in page


@pytest.mark.parametrize("bad", ["0", "-1", "999", "abc", "2.5", "1e9", "%00", ""])
def test_a_bad_page_number_shows_a_page_instead_of_an_error(client, mentor, bad):
    mentee = UserFactory()
    sessions(mentor, mentee, 3)
    client.force_login(mentee)
    assert client.get(reverse("my_bookings"), {"upcoming_page": bad, "past_page": bad}).status_code == 200
    client.force_login(mentor.user)
    assert client.get(reverse("mentor_bookings"), {"pending_page": bad, "cancelled_page": bad}).status_code == 200


def test_empty_lists_say_what_to_do_next(client, mentor):
    mentee = UserFactory()
    client.force_login(mentee)
    page = client.get(reverse("my_bookings")).content.decode()
    assert "No sessions yet." in page and f'<a href="{reverse("home")}">Find a mentor</a>' in page
    assert "Past" not in page  # no empty sections to read through

    sessions(mentor, mentee, 4)
    Booking.objects.filter(status__in=["pending", "confirmed"]).update(status="cancelled")
    page = client.get(reverse("my_bookings")).content.decode()
    assert "Nothing coming up." in page and "No sessions yet." not in page

    client.force_login(bookable_mentor().user)
    page = client.get(reverse("mentor_bookings")).content.decode()
    assert "No requests yet. Share your profile link" in page
    assert re.search(r'class="share-link" href="http://testserver/mentors/\d+/"', page)
    client.force_login(mentor.user)
    assert "No pending requests." in client.get(reverse("mentor_bookings")).content.decode()


@pytest.mark.parametrize("page_name", ["my_bookings", "mentor_bookings"])
@pytest.mark.parametrize("count", [3, 40])
def test_the_lists_cost_the_same_queries_at_any_size(client, mentor, page_name, count, django_assert_max_num_queries):
    mentee = UserFactory()
    sessions(mentor, mentee, count)
    client.force_login(mentee if page_name == "my_bookings" else mentor.user)
    with django_assert_max_num_queries(QUERY_BUDGET[page_name]):
        assert client.get(reverse(page_name)).status_code == 200


# Every section full: the session, the user, the header's counts, every section's size in one aggregate query,
# then one page per section (and the reviews' count and the receipts' payments on My Bookings). 3 bookings leave
# some sections empty, so they cost a little less.
QUERY_BUDGET = {"my_bookings": 13, "mentor_bookings": 10}
