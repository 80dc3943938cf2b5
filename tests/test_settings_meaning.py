"""Policy settings mean what the README says: the cancellation window and the pending timeout
come from their settings, in the rules and in every page and e-mail that states them."""

import os
import subprocess
import sys
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from bookings import reminders, selectors
from bookings import services as booking_services
from mentorship import services as mentor_services
from mentorship.models import MentorProfile

from .factories import UserFactory, bookable_mentor, weekly_hours
from .test_payments import held_and_paid

pytestmark = pytest.mark.django_db(transaction=True)


def _settings_in_a_fresh_process(**env) -> str:
    """What a new process makes of the environment (settings are read once, at start)."""
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from mentorship.models import MentorProfile; "
        "print(MentorProfile().cancellation_window_hours, settings.BOOKING_PENDING_TIMEOUT)"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "mentorship.settings", "DEBUG": "true", **env}
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_environment_sets_the_cancellation_window_of_new_mentors_and_the_pending_timeout():
    done = _settings_in_a_fresh_process(BOOKING_CANCELLATION_WINDOW_HOURS="48", BOOKING_PENDING_TIMEOUT_DAYS="3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["48", "3", "days,", "0:00:00"]


@pytest.mark.parametrize("hours", ["1.5", "-1", "337"])
def test_a_cancellation_window_the_app_cannot_keep_stops_it_at_start(hours):
    done = _settings_in_a_fresh_process(BOOKING_CANCELLATION_WINDOW_HOURS=hours)
    assert done.returncode != 0
    assert "BOOKING_CANCELLATION_WINDOW_HOURS" in done.stderr


@pytest.mark.stripe
def test_a_new_mentor_starts_with_the_configured_window_and_bookings_keep_it(client, settings, stripe_server):
    settings.BOOKING_CANCELLATION_WINDOW_HOURS = 48
    applicant = UserFactory()
    profile = mentor_services.mentor_apply(applicant, headline="Coach", bio="Hi", expertise="Go", motivation="Why not")
    mentor_services.mentor_application_review(profile, approve=True)
    profile = MentorProfile.objects.get(pk=profile.pk)
    assert profile.cancellation_window_hours == 48
    service = mentor_services.service_save(
        profile, title="Intro", description="", duration_minutes=30, price_cents=4000, is_active=True
    )
    weekly_hours(profile)
    assert service.effective_cancellation_window_hours == 48  # a service without its own window follows
    # Changing the setting later does not rewrite a policy mentees were already shown.
    settings.BOOKING_CANCELLATION_WINDOW_HOURS = 12
    page = client.get(reverse("mentor_profile", args=[profile.pk])).content.decode()
    assert "Cancel more than 48 hours before the start for a full refund" in page
    now = timezone.now()
    start = selectors.open_slots(service, start=now + timedelta(days=3), end=now + timedelta(days=10))[0]
    booking = booking_services.booking_hold(mentee=UserFactory(), service=service, start=start)
    assert booking.cancellation_window_hours == 48
    client.force_login(booking.mentee)
    page = client.get(reverse("checkout", args=[booking.pk])).content.decode()
    assert "Cancel more than 48 hours before the start for a full refund" in page


@pytest.fixture
def three_day_timeout(settings):
    settings.BOOKING_PENDING_TIMEOUT = timedelta(days=3)


def _paid_booking(stripe_server):
    return held_and_paid(stripe_server, days_ahead=9)


def _local(moment, zone, fmt):
    return date_format(timezone.localtime(moment, zone), fmt)


@pytest.mark.stripe
def test_pages_and_emails_state_the_configured_pending_timeout(client, stripe_server, three_day_timeout):
    booking = _paid_booking(stripe_server)
    expires = booking.created_at + timedelta(days=3)
    assert booking.pending_expires_at == expires  # the session starts later than that
    mentee, mentor = booking.mentee, booking.mentor.user
    bodies = {message.to[0]: message.body for message in mail.outbox}
    # The mentee's "payment received" and the mentor's "new request" name the moment, in each one's zone.
    assert f"doesn't answer by {_local(expires, mentee.zone, 'l j F, H:i')}" in bodies[mentee.email]
    assert f"If you don't answer by {_local(expires, mentor.zone, 'l j F, H:i')}" in bodies[mentor.email]
    for body in bodies.values():
        assert "7 days" not in body

    client.force_login(mentee)
    page = unescape(client.get(reverse("booking_detail", args=[booking.pk])).content.decode())
    assert f"doesn't answer by {_local(expires, mentee.zone, 'D j M, H:i')}" in page and "7 days" not in page

    client.force_login(mentor)
    page = client.get(reverse("mentor_bookings")).content.decode()
    assert "cancelled, and paid ones refunded, automatically after 3 days or at the start time" in page
    page = client.get(reverse("how_it_works_mentors")).content.decode()
    assert "Requests you don't answer within 3 days are cancelled and refunded" in page

    # The nudge the mentor gets a day after the request names the same moment.
    mail.outbox.clear()
    with time_machine.travel(booking.created_at + timedelta(hours=25), tick=False):
        assert reminders.send_pending_nudges() == 1
    (nudge,) = mail.outbox
    assert f"If you don't answer by {_local(expires, mentor.zone, 'l j F, H:i')}" in nudge.body
    assert "7 days" not in nudge.body


@pytest.mark.stripe
def test_checkout_states_the_configured_pending_timeout(client, settings, stripe_server):
    settings.BOOKING_PENDING_TIMEOUT = timedelta(hours=36)
    mentor = bookable_mentor()
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(intro, start=now + timedelta(days=3), end=now + timedelta(days=10))[0]
    booking = booking_services.booking_hold(mentee=UserFactory(), service=intro, start=start)
    client.force_login(booking.mentee)
    page = client.get(reverse("checkout", args=[booking.pk])).content.decode()
    assert "if they decline or don't answer within 36 hours, you get a full refund" in page


def test_the_default_pending_timeout_reads_seven_days(client):
    assert django_settings.BOOKING_PENDING_TIMEOUT.total_seconds() == 7 * 24 * 3600
    page = client.get(reverse("how_it_works_mentors")).content.decode()
    assert "Requests you don't answer within 7 days are cancelled and refunded" in page


@pytest.mark.stripe
def test_with_a_one_day_timeout_the_mentor_is_not_nudged_at_once_only_the_day_it_is_open(stripe_server, settings):
    settings.BOOKING_PENDING_TIMEOUT = timedelta(days=1)
    booking = _paid_booking(stripe_server)
    mail.outbox.clear()
    assert reminders.send_pending_nudges() == 0  # "the day before it expires" would be its very start
    with time_machine.travel(booking.created_at + timedelta(hours=23)):
        assert reminders.send_pending_nudges() == 0
    assert mail.outbox == []
