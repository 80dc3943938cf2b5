"""Names and titles that reach e-mail headers: refused with line breaks at the form, folded if stored anyway,
and an e-mail that still fails is retried, then shown to staff, who can send it again."""

import socket
from datetime import timedelta
from email import message_from_bytes

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bookings import selectors
from bookings import services as booking_services
from mentorship.forms import ServiceForm
from mentorship.models import User
from notifications import email
from notifications import services as notification_services
from notifications.models import Notification

from .factories import UserFactory, bookable_mentor
from .test_payments import pay

pytestmark = pytest.mark.django_db(transaction=True)

BAD_NAMES = ["Eve\r\nBcc: victim@example.com", "Eve\nX", "Eve\rX", "Eve\u2028X", "Eve\x0bX", "Eve\tX"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_sign_up_refuses_a_name_with_a_line_break(client, name):
    response = client.post(
        reverse("account_signup"),
        {
            "display_name": name,
            "email": "eve@example.com",
            "password1": "a-long-new-password-1",
            "password2": "a-long-new-password-1",
            "time_zone": "Europe/Berlin",
        },
    )
    assert response.status_code == 200
    assert "Write this on one line." in response.content.decode()
    assert not User.objects.filter(email="eve@example.com").exists()


def test_sign_up_with_an_ordinary_name_still_works(client):
    response = client.post(
        reverse("account_signup"),
        {
            "display_name": "Ève O'Brien-Łukasz",
            "email": "eve@example.com",
            "password1": "a-long-new-password-1",
            "password2": "a-long-new-password-1",
            "time_zone": "Europe/Berlin",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="eve@example.com").display_name == "Ève O'Brien-Łukasz"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_settings_refuse_a_name_with_a_line_break(client, name):
    user = UserFactory(display_name="Eve")
    client.force_login(user)
    response = client.post(reverse("account_settings"), {"display_name": name, "time_zone": "UTC"})
    assert response.status_code == 200 and "Write this on one line." in response.content.decode()
    user.refresh_from_db()
    assert user.display_name == "Eve"


def test_a_service_title_with_a_line_break_is_refused():
    form = ServiceForm(
        data={
            "title": "Intro\r\nBcc: x@example.com",
            "format": "online",
            "duration_minutes": 30,
            "price": "40",
            "buffer_before_minutes": 0,
            "buffer_after_minutes": 0,
            "cancellation_window_hours": 24,
        },
        instance=None,
    )
    assert not form.is_valid() and "Write this on one line." in str(form.errors["title"])


def test_a_subject_built_from_long_names_is_shortened_to_fit_and_still_sent():
    user = UserFactory()
    long = "New booking request from " + "Maximiliane " * 20 + "about " + "a very long title " * 10
    notice = notification_services.notify(user, kind="booking_requested", key="k-1", subject=long, body="Hi")
    notice.refresh_from_db()
    assert len(notice.subject) <= 200 and notice.subject.endswith("…")
    assert notice.email_status == "sent" and mail.outbox[0].subject == notice.subject


def test_header_values_are_folded_onto_one_line():
    assert email.header_value("Eve\r\nBcc: x@example.com\u2028\x00 ok") == "Eve Bcc: x@example.com ok"
    assert email.header_address(" eve@example.com\r\n") == "eve@example.com"


@pytest.mark.stripe
def test_a_mentee_whose_stored_name_has_a_line_break_still_reaches_the_mentor(stripe_server):
    mentor = bookable_mentor()
    mentee = UserFactory()
    # Stored before the rule existed, or written around the forms: straight into the database.
    User.objects.filter(pk=mentee.pk).update(display_name="Eve\r\nBcc: victim@example.com")
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    start = selectors.open_slots(intro, start=now + timedelta(days=2), end=now + timedelta(days=5))[0]
    booking = booking_services.booking_hold(mentee=User.objects.get(pk=mentee.pk), service=intro, start=start)
    pay(stripe_server, booking)

    (request,) = [m for m in mail.outbox if m.to == [mentor.user.email]]
    assert request.subject == "New booking request from Eve Bcc: victim@example.com"
    parsed = message_from_bytes(request.message().as_bytes())
    assert parsed["Subject"] == "New booking request from Eve Bcc: victim@example.com"
    assert parsed["Bcc"] is None and parsed["To"] == mentor.user.email
    assert sorted(parsed.keys()) == ["Content-Type", "Date", "From", "MIME-Version", "Message-ID", "Subject", "To"]
    notice = Notification.objects.get(user=mentor.user, kind="booking_requested")
    assert notice.email_status == "sent"


def _unreachable_smtp(settings):
    with socket.socket() as probe:  # a port nothing listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2


def test_an_e_mail_given_up_on_is_shown_to_staff_who_can_send_it_again(settings, client):
    user = UserFactory(display_name="Eve")
    _unreachable_smtp(settings)
    notice = notification_services.notify(user, kind="payout_processed", key="p-1", subject="Payout sent", body="Hi")
    now = timezone.now()
    for hours in range(1, 8):
        with time_machine.travel(now + timedelta(hours=hours)):
            notification_services.retry_failed_emails()
    notice.refresh_from_db()
    assert notice.email_status == "gave_up" and notice.email_error

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    changelist = reverse("admin:notifications_notification_changelist")
    page = client.get(changelist, {"email_status__exact": "gave_up"}).content.decode()
    assert "Payout sent" in page and "Failed for good" in page and notice.email_error[:20] in page

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the mail server is back
    response = client.post(changelist, {"action": "send_email_again", "_selected_action": [notice.pk]}, follow=True)
    assert "Sent 1 of 1 failed e-mails." in response.content.decode()
    assert [m.subject for m in mail.outbox] == ["Payout sent"]
    notice.refresh_from_db()
    assert notice.email_status == "sent"
