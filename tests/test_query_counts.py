"""Every page the benchmark measures costs the same number of queries with a little data and with more: the
same bound at both sizes (bench/data.py builds the sets; bench/web.py measures speed, not this file).

Pinned elsewhere at two sizes, so not here: My Bookings and the mentor's Bookings (test_booking_lists), the
directory's search (test_directory), the profile for visitors (test_bookings). The calendar feed and the
hello view are the benchmark's only.
"""

import pytest
from django.core.cache import cache, caches

from bench.data import Made, Size, build, pages
from mentorship.models import User

pytestmark = pytest.mark.django_db

SIZES = {
    "small": Size(
        mentors=6,
        mentees=3,
        busy_bookings=6,
        feed_bookings=3,
        mentee_bookings=4,
        total_bookings=30,
        notifications=4,
    ),  # fmt: skip
    "larger": Size(  # seven times the bookings, ten times the mentors: built for each page, so no bigger
        mentors=60,
        mentees=10,
        busy_bookings=60,
        feed_bookings=10,
        mentee_bookings=30,
        total_bookings=200,
        notifications=40,
    ),  # fmt: skip
}

# A first visit, caches cold. Signed in, that includes the session, the user and the header's two counts.
QUERY_BUDGET = {
    "home": 4,
    "home (signed in)": 8,
    "directory sorted by price": 4,
    "directory filters (signed in)": 8,
    "mentor profile with slots (signed in)": 16,  # with the availability version the slot cache is keyed by, and
    # the busy time from the mentor's own calendars
    "checkout": 13,  # the Stripe customer is made on the first visit
    "session page (mentor)": 18,  # its times to suggest count the mentor's own calendars
    "session page (mentee)": 11,
    "Earnings": 8,
    "Notifications": 6,  # with the page's count
    "admin bookings list": 6,
}


def _visit(client, made: Made, name: str, django_assert_max_num_queries):
    path, user_id = next((path, user_id) for page, path, user_id in pages(made) if page == name)
    cache.clear()  # cold, but for the session just made (cached_db keeps it in the cache too)
    caches["pages"].clear()
    client.logout()
    if user_id is not None:
        client.force_login(User.objects.get(pk=user_id))
    with django_assert_max_num_queries(QUERY_BUDGET[name]):
        response = client.get(path)
    assert response.status_code == 200
    return response


def _small_then_larger(client, name, django_assert_max_num_queries):
    """The page for the small set, then for a larger one added next to it: the same bound for both."""
    for tag, size in SIZES.items():
        made = build(size, tag=tag)
        yield made, _visit(client, made, name, django_assert_max_num_queries)


@pytest.mark.parametrize("name", [name for name in QUERY_BUDGET if name != "checkout"])
def test_each_page_costs_the_same_queries_at_both_sizes(client, settings, django_assert_max_num_queries, name):
    settings.STAFF_REQUIRE_MFA = False  # the admin list, not the second-factor gate
    sizes = [made.bookings for made, _ in _small_then_larger(client, name, django_assert_max_num_queries)]
    assert sizes == [30, 200]


@pytest.mark.stripe
def test_checkout_costs_the_same_queries_at_both_sizes(client, stripe_server, django_assert_max_num_queries):
    for made, response in _small_then_larger(client, "checkout", django_assert_max_num_queries):
        assert response.context["booking"].pk == made.held_booking_id
