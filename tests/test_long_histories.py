"""Earnings, Notifications and the staff's lists cost the same with a long history as with a short one: paged in
the database, totals from one aggregate query, a fixed number of queries whatever the number of rows."""

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.urls import reverse

from bookings.models import Booking
from mentorship.admin_paging import EstimatedCountPaginator
from notifications.models import Notification
from payments import ledger
from payments.models import LedgerEntry
from payments.views import EARNINGS_PAGE_SIZE

from .factories import UserFactory, bookable_mentor
from .test_booking_lists import KINDS, sessions

pytestmark = pytest.mark.django_db


@pytest.fixture
def mentor():
    return bookable_mentor(user__display_name="Maya Mentor")


@pytest.fixture
def history(mentor, django_capture_on_commit_callbacks):
    """`history(n)`: n paid requests of one mentee through the real services, answered in turn (pending,
    confirmed, completed, declined), with what follows each commit done as it would be (notices, ledger)."""

    def make(count: int, kinds: tuple[str, ...] = KINDS) -> list[Booking]:
        with django_capture_on_commit_callbacks(execute=True):
            made = sessions(mentor, UserFactory(), count, kinds)
        return list(Booking.objects.filter(pk__in=[b.pk for b in made]))

    return make


@pytest.fixture
def completed(history):
    """`completed(n)`: n sessions completed, each with its share in the ledger."""

    def make(count: int) -> list[Booking]:
        done = history(count, ("completed",))
        assert {b.status for b in done} == {Booking.Status.COMPLETED}
        return done

    return make


def table_rows(page: str, section_id: str) -> int:
    section = page.split(f'<section class="card" id="{section_id}"', 1)[1].split("</section>", 1)[0]
    return len(re.findall(r"<tr><td>", section))


def test_earnings_pages_the_sessions_and_totals_them_all(client, mentor, completed):
    done = completed(EARNINGS_PAGE_SIZE + 3)
    shares = LedgerEntry.objects.filter(mentor=mentor, account="mentor")
    assert shares.count() == len(done)
    totals = ledger.summary(mentor)
    assert totals["listed_entries"] == len(done)
    assert totals["earned_cents"] == totals["balance_cents"] == sum(shares.values_list("amount_cents", flat=True))

    client.force_login(mentor.user)
    page = client.get(reverse("earnings")).content.decode()
    assert table_rows(page, "entries") == EARNINGS_PAGE_SIZE
    assert "Page 1 of 2" in page and 'href="?entries_page=2#entries"' in page
    page = client.get(reverse("earnings"), {"entries_page": 2}).content.decode()
    assert table_rows(page, "entries") == 3
    assert client.get(reverse("earnings"), {"entries_page": "x" * 20}).status_code == 200  # shows page 1


@pytest.mark.parametrize("count", [3, 60])
def test_earnings_costs_the_same_queries_at_any_size(client, mentor, completed, count, django_assert_max_num_queries):
    completed(count)
    client.force_login(mentor.user)
    # The session, the user and their mentor profile, the header's counts, the totals with the entries' number
    # (one aggregate), a page of entries with what they name, the payouts' count and page, the Stripe account.
    with django_assert_max_num_queries(11):
        page = client.get(reverse("earnings")).content.decode()
    assert table_rows(page, "entries") == min(count, EARNINGS_PAGE_SIZE)


@pytest.mark.parametrize("count", [3, 60])
def test_notifications_cost_the_same_queries_at_any_size(client, mentor, history, count, django_assert_max_num_queries):
    history(count)  # each paid request tells the mentor
    client.force_login(mentor.user)
    # The session, the user, the header's counts, the list's count and one page with each notice's booking.
    with django_assert_max_num_queries(7):
        page = client.get(reverse("notifications")).content.decode()
    shown = page.count('<li class="unread">') + page.count('<li class="">')
    assert shown == min(Notification.objects.filter(user=mentor.user).count(), 25)


def test_notifications_are_paged(client, mentor, history):
    history(30)
    total = Notification.objects.filter(user=mentor.user).count()
    client.force_login(mentor.user)
    page = client.get(reverse("notifications")).content.decode()
    assert f"Page 1 of {-(-total // 25)}" in page and 'href="?notifications_page=2#notifications"' in page
    last = client.get(reverse("notifications"), {"notifications_page": 99}).content.decode()
    newest = Notification.objects.filter(user=mentor.user).order_by("created_at", "pk").first()
    assert f'value="{newest.pk}"' not in page and f'value="{newest.pk}"' in last


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("count", [3, 60])
def test_the_staff_bookings_list_costs_the_same_queries_at_any_size(
    staff_client, mentor, count, django_assert_max_num_queries
):
    sessions(mentor, UserFactory(), count)
    # The session, the staff user and their mentor profile, the header's counts, the count (on PostgreSQL its
    # estimate first, exact below the threshold), one page with its mentors, mentees and session types joined.
    with django_assert_max_num_queries(8):
        page = staff_client.get(reverse("admin:bookings_booking_changelist")).content.decode()
    assert page.count('class="field-start') == count
    assert f"{count} bookings" in page


@pytest.mark.parametrize("name", ["payments_payment", "payments_ledgerentry", "notifications_notification"])
def test_the_other_big_lists_open(staff_client, completed, name):
    completed(2)
    assert staff_client.get(reverse(f"admin:{name}_changelist")).status_code == 200
    assert staff_client.get(reverse(f"admin:{name}_changelist"), {"q": "x"}).status_code == 200


def test_the_bookings_list_counts_exactly_when_filtered_or_small(staff_client, mentor, settings):
    sessions(mentor, UserFactory(), 8)  # two of each: pending, confirmed, completed, declined
    settings.ADMIN_ESTIMATED_COUNT_ABOVE = 1_000_000
    assert "8 bookings" in staff_client.get(reverse("admin:bookings_booking_changelist")).content.decode()
    settings.ADMIN_ESTIMATED_COUNT_ABOVE = 2
    page = staff_client.get(reverse("admin:bookings_booking_changelist"), {"status__exact": "completed"})
    assert "2 bookings" in page.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the estimate is PostgreSQL's")
def test_a_big_unfiltered_list_shows_the_estimate_postgresql_keeps(staff_client, mentor, settings):
    sessions(mentor, UserFactory(), 8)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bookings_booking")  # the estimate is now the 8 there are
    sessions(mentor, UserFactory(), 4)  # 12 now, which the estimate does not know until the next ANALYZE
    settings.ADMIN_ESTIMATED_COUNT_ABOVE = 5
    assert EstimatedCountPaginator(Booking.objects.all(), 100).count == 8
    assert "8 bookings" in staff_client.get(reverse("admin:bookings_booking_changelist")).content.decode()
    # Below the threshold, or filtered, the count is exact.
    settings.ADMIN_ESTIMATED_COUNT_ABOVE = 10
    caches["pages"].clear()  # a setting changes with a deploy; a list kept before it lasts out its minute
    assert "12 bookings" in staff_client.get(reverse("admin:bookings_booking_changelist")).content.decode()
    settings.ADMIN_ESTIMATED_COUNT_ABOVE = 5
    assert EstimatedCountPaginator(Booking.objects.filter(status="completed"), 100).count == 3
