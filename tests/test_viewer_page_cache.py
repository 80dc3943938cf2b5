"""A signed-in person's pages kept for them (mentorship.page_cache.viewer_page): served again without drawing
while nothing they read changed, never to anyone else, and redrawn at once after any write to a table the page
read, however it was made (a service's save, a sweep's batched update, the other party's action, staff)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings import selectors, services
from bookings.models import Booking
from mentorship import table_versions

from .factories import UserFactory, bookable_mentor

pytestmark = pytest.mark.django_db(transaction=True)  # commits happen, as in production


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def nonce_of(response) -> str:
    return re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)


def pending_request(mentor, mentee, *, days_ahead=3) -> Booking:
    service = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(service, start=now + timedelta(days=days_ahead), end=now + timedelta(days=9))[0]
    booking = services.booking_hold(mentee=mentee, service=service, start=start)
    return services.booking_mark_paid(booking.pk)


def test_a_page_is_kept_for_its_person_with_their_own_nonce_and_token(django_assert_max_num_queries):
    mentor = bookable_mentor()
    mentee = UserFactory()
    booking = pending_request(mentor, mentee)
    client = signed_in(mentee)
    first = client.get(reverse("booking_detail", args=[booking.pk]))
    with django_assert_max_num_queries(1):  # the session's user; the page itself comes from the cache
        again = client.get(reverse("booking_detail", args=[booking.pk]))
    assert again.status_code == 200
    assert nonce_of(again) != nonce_of(first)
    assert again.content.decode().count(f'nonce="{nonce_of(again)}"') >= 1
    assert nonce_of(first) not in again.content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', again.content.decode()).group(1)
    cancelled = client.post(reverse("booking_cancel", args=[booking.pk]), {"csrfmiddlewaretoken": token})
    assert cancelled.status_code in (200, 302)  # not a CSRF refusal


def test_one_persons_page_is_never_shown_to_another():
    mentor = bookable_mentor()
    mentee, other = UserFactory(), UserFactory()
    pending_request(mentor, mentee)
    mine = signed_in(mentee).get(reverse("my_bookings")).content.decode()
    theirs = signed_in(other).get(reverse("my_bookings")).content.decode()
    assert mentor.user.display_name in mine
    assert mentor.user.display_name not in theirs
    assert signed_in(other).get(reverse("booking_detail", args=[Booking.objects.get().pk])).status_code == 404


def test_the_other_partys_answer_shows_at_once():
    mentor = bookable_mentor()
    mentee = UserFactory()
    booking = pending_request(mentor, mentee)
    client = signed_in(mentee)
    assert "Confirmed" not in client.get(reverse("booking_detail", args=[booking.pk])).content.decode()
    services.booking_confirm(booking.pk, actor=mentor.user)
    assert "Confirmed" in client.get(reverse("booking_detail", args=[booking.pk])).content.decode()


def test_a_sweeps_batched_update_shows_at_once():
    """The expiry sweep changes many bookings with one UPDATE (no save(), no signal): still seen."""
    mentor = bookable_mentor()
    mentee = UserFactory()
    booking = pending_request(mentor, mentee)
    mentor_page = signed_in(mentor.user)
    assert "Confirm" in mentor_page.get(reverse("mentor_bookings")).content.decode()
    assert services.expire_pending_bookings(now=booking.start + timedelta(minutes=1)) == 1
    page = mentor_page.get(reverse("mentor_bookings")).content.decode()
    assert "Expired" in page
    assert f'action="{reverse("booking_confirm", args=[booking.pk])}"' not in page


def test_a_message_shows_once_and_is_not_kept(client):
    mentor = bookable_mentor()
    client.force_login(mentor.user)
    client.get(reverse("notifications"))  # kept, without a message
    shown = client.post(reverse("notifications_read"), follow=True).content.decode()
    assert "Marked 0 notifications as read." in shown
    assert "Marked 0 notifications as read." not in client.get(reverse("notifications")).content.decode()


def test_a_page_that_says_when_is_drawn_again_when_the_minute_turns():
    """No write at all, only time: a session whose end passed moves from "Upcoming" to "To complete"."""
    mentor = bookable_mentor()
    booking = pending_request(mentor, UserFactory())
    services.booking_confirm(booking.pk, actor=mentor.user)
    client = signed_in(mentor.user)
    url = reverse("mentor_bookings")
    confirm_complete = f'action="{reverse("booking_complete", args=[booking.pk])}"'
    assert booking.end.second == 0  # a minute turns at its end; a kept page would still be fresh 5 s later
    with time_machine.travel(booking.end - timedelta(seconds=5), tick=False):
        assert confirm_complete not in client.get(url).content.decode()
        assert confirm_complete not in client.get(url).content.decode()
    with time_machine.travel(booking.end + timedelta(seconds=5), tick=False):
        assert confirm_complete in client.get(url).content.decode()


def test_a_made_up_parameter_draws_the_page_rather_than_keep_a_copy(django_assert_max_num_queries):
    mentor = bookable_mentor()
    client = signed_in(mentor.user)
    client.get(reverse("notifications"), {"made_up": "1"})
    with django_assert_max_num_queries(20) as drawn:
        client.get(reverse("notifications"), {"made_up": "1"})
    assert len(drawn) > 1


def test_a_staff_list_shows_a_change_at_once(settings):
    settings.STAFF_REQUIRE_MFA = False
    mentor = bookable_mentor()
    booking = pending_request(mentor, UserFactory())
    staff = signed_in(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:bookings_booking_changelist") + "?status__exact=expired"
    assert "0 bookings" in staff.get(url).content.decode()
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.EXPIRED)  # as a sweep or a shell would
    assert "1 booking" in staff.get(url).content.decode()


def test_a_write_inside_a_transaction_moves_the_version_for_this_process_and_again_at_commit():
    """Before this process next looks: it sees its own change. At commit: a page another process drew from the
    rows before the commit, under the version after the first move, is not served."""
    from django.db import transaction

    mentor = bookable_mentor()
    table = Booking._meta.db_table
    before = table_versions.snapshot([table])[table]
    with transaction.atomic():
        Booking.objects.filter(mentor=mentor).update(updated_at=timezone.now())
        inside = table_versions.snapshot([table])[table]
        assert inside != before
    assert table_versions.snapshot([table])[table] not in (before, inside)


def test_a_version_lost_from_the_cache_never_matches_a_kept_page():
    table = Booking._meta.db_table
    kept = table_versions.snapshot([table])
    table_versions.store().delete(f"table-version:{table}")
    assert not table_versions.unchanged(kept)  # missing reads as changed
    assert table_versions.snapshot([table]) != kept  # and starts again from a number never used


def secret_of(response) -> str:
    return re.search(r'data-client-secret="([^"]*)"', response.content.decode()).group(1)


@pytest.mark.stripe
def test_a_card_sent_from_a_kept_checkout_gets_a_new_card_form_next_time(stripe_server):
    """The card form's SetupIntent takes one card: once the page sent one, a reload is not the kept copy,
    even when the attempt wrote nothing and its answer never arrived."""
    mentor = bookable_mentor()
    mentee = UserFactory()
    service = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(service, start=now + timedelta(days=3), end=now + timedelta(days=9))[0]
    booking = services.booking_hold(mentee=mentee, service=service, start=start)
    client = signed_in(mentee)
    url = reverse("checkout", args=[booking.pk])
    client.get(url)  # the first visit makes the mentee a Stripe customer: a write, so that page is not kept
    first = secret_of(client.get(url))
    assert first and secret_of(client.get(url)) == first  # a reload within the minute: the same unused form
    stripe_server.confirm_card_setup(first)
    client.post(reverse("checkout_pay", args=[booking.pk]), {"payment_method": ""})
    client.cookies.pop("messages", None)  # its answer was lost on the way
    assert secret_of(client.get(url)) not in ("", first)
