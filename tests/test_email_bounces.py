"""Bounces and complaints: the e-mail provider's signed webhook marks an address undeliverable, our notices then
stay in the app without an e-mail (and are never retried), the person sees a banner to fix their address, and
"It works now" lifts it. Sign-in and password mails still go.

The webhook is anymail's own view, reached through our URLs and middleware, with bodies as Mailgun sends them:
"event-data" plus a "signature" block (HMAC-SHA256 of timestamp and token with the webhook signing key), behind
the basic-auth credentials of WEBHOOK_SECRET.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta

import pytest
import time_machine
from anymail.signals import AnymailTrackingEvent
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from mentorship import services as mentor_services
from notifications import email, suppression
from notifications import services as notification_services
from notifications.models import Notification, UndeliverableAddress

from .factories import UserFactory, bookable_mentor
from .test_lifecycle import booked
from .test_notifications import _unreachable_smtp
from .test_secure_defaults import REQUIRED, a_production_environment, settings_in_a_new_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.email_urls")]

SIGNING_KEY = "test-mailgun-webhook-signing-key"
WEBHOOK_SECRET = "mailgun-hooks:a-long-random-password"
WEBHOOK = "/anymail/mailgun/tracking/"
BANNER = "We couldn't deliver e-mail to"


@pytest.fixture(autouse=True)
def mailgun(settings):
    """What EMAIL_PROVIDER=mailgun with its keys puts in the settings (the webhook half; e-mail stays in locmem)."""
    settings.EMAIL_PROVIDER = "mailgun"
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def mailgun_report(event: str, recipient: str, *, signing_key: str = SIGNING_KEY, **event_data) -> dict:
    """A Mailgun webhook body, signed as Mailgun signs it."""
    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    signature = hmac.new(signing_key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event,
            "id": secrets.token_urlsafe(16),
            "timestamp": time.time(),
            "recipient": recipient,
            "recipient-domain": recipient.rpartition("@")[2],
            "message": {
                "headers": {
                    "to": recipient,
                    "message-id": "20261202.1@mentorship.example.com",
                    "from": "Mentorship <no-reply@mentorship.example.com>",
                    "subject": "Maya Mentor confirmed your session",
                }
            },
            "tags": [],
            "user-variables": {},
            **event_data,
        },
    }


def hard_bounce(recipient: str, **signing) -> dict:
    return mailgun_report(
        "failed",
        recipient,
        severity="permanent",
        reason="bounce",
        **{
            "log-level": "error",
            "delivery-status": {
                "attempt-no": 1,
                "code": 550,
                "message": "5.1.1 The email account that you tried to reach does not exist.",
                "description": "",
            },
        },
        **signing,
    )


def post_report(client, body: dict, *, credentials: str | None = WEBHOOK_SECRET):
    headers = {}
    if credentials is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    return client.post(WEBHOOK, data=json.dumps(body), content_type="application/json", **headers)


def test_a_signed_permanent_bounce_suppresses_the_address_and_every_page_then_shows_the_banner(client):
    person = UserFactory(email="Sam.Bounce@example.com")
    response = post_report(client, hard_bounce("sam.bounce@example.com"))
    assert response.status_code == 200
    address = UndeliverableAddress.objects.get()
    assert (address.email, address.reason, address.provider) == ("sam.bounce@example.com", "bounced", "Mailgun")
    assert "does not exist" in address.description

    client.force_login(person)
    for page in (reverse("home"), reverse("my_bookings"), reverse("notifications")):
        html = client.get(page).content.decode()
        assert f"{BANNER} <strong>Sam.Bounce@example.com</strong> (it bounced)." in html
        assert f'<a href="{reverse("account_email")}">Change your e-mail address</a>' in html
        assert f'action="{reverse("email_works_again")}"' in html and "It works now</button>" in html

    # The provider sends the report again (it got no answer in time): still one row.
    assert post_report(client, hard_bounce("SAM.BOUNCE@example.com")).status_code == 200
    assert UndeliverableAddress.objects.count() == 1


def test_a_complaint_suppresses_the_address_and_a_second_report_updates_the_one_row(client):
    person = UserFactory()
    assert post_report(client, hard_bounce(person.email)).status_code == 200
    assert post_report(client, mailgun_report("complained", person.email)).status_code == 200
    (address,) = UndeliverableAddress.objects.all()
    assert (address.email, address.reason) == (person.email, "complained")
    client.force_login(person)
    html = client.get(reverse("home")).content.decode()
    assert f"We stopped e-mailing <strong>{person.email}</strong> (our e-mail to it was reported as spam)." in html


def test_a_wrong_signature_is_refused_and_suppresses_nothing(client):
    person = UserFactory()
    forged = hard_bounce(person.email, signing_key="someone-elses-key")
    assert post_report(client, forged).status_code == 400
    tampered = hard_bounce(person.email)
    tampered["signature"]["token"] += "0"
    assert post_report(client, tampered).status_code == 400
    unsigned = hard_bounce(person.email)
    del unsigned["signature"]
    assert post_report(client, unsigned).status_code == 400
    assert not UndeliverableAddress.objects.exists()


def test_a_report_without_the_basic_auth_credentials_is_refused(client):
    person = UserFactory()
    assert post_report(client, hard_bounce(person.email), credentials=None).status_code == 400
    assert post_report(client, hard_bounce(person.email), credentials="mailgun-hooks:guess").status_code == 400
    assert client.get(WEBHOOK).status_code == 405  # only POST (and HEAD, which providers use to check the address)
    assert not UndeliverableAddress.objects.exists()


def test_temporary_failures_and_other_reports_suppress_nothing(client):
    person = UserFactory()
    temporary = mailgun_report(
        "failed",
        person.email,
        severity="temporary",
        reason="generic",
        **{"delivery-status": {"code": 452, "message": "4.2.2 The email account is over quota.", "attempt-no": 1}},
    )
    for body in (
        temporary,
        mailgun_report("delivered", person.email),
        mailgun_report("opened", person.email),
        mailgun_report("rejected", person.email, reject={"reason": "Sending limit exceeded"}),  # our account's fault
    ):
        assert post_report(client, body).status_code == 200
    assert not UndeliverableAddress.objects.exists()


def test_reports_count_only_from_the_provider_we_send_through(client, settings):
    person = UserFactory()
    settings.EMAIL_PROVIDER = ""  # SMTP: nobody should be reporting to us
    assert post_report(client, hard_bounce(person.email)).status_code == 200
    settings.EMAIL_PROVIDER = "postmark"
    assert post_report(client, hard_bounce(person.email)).status_code == 200
    assert not UndeliverableAddress.objects.exists()


def test_a_hostile_report_is_answered_and_stores_nothing_unusable(client):
    for recipient in ("a" * 10_000 + "@example.com", "nul\x00@example.com", "no-at-sign", ""):
        assert post_report(client, hard_bounce(recipient)).status_code == 200
    assert not UndeliverableAddress.objects.exists()
    person = UserFactory()
    body = hard_bounce(person.email)
    body["event-data"]["delivery-status"]["message"] = "550\x00 gone\r\n" + "x" * 10_000
    assert post_report(client, body).status_code == 200
    address = UndeliverableAddress.objects.get()
    assert address.description.startswith("550 gone x") and len(address.description) == 300


@pytest.mark.stripe
def test_a_later_booking_notice_stays_in_the_app_and_is_not_e_mailed(client, stripe_server):
    mentee = UserFactory()
    post_report(client, hard_bounce(mentee.email))
    mentor = bookable_mentor()
    mail.outbox.clear()
    booking = booked(mentor, stripe_server, mentee=mentee)  # paid and confirmed: both sides are told
    notices = Notification.objects.filter(user=mentee, booking=booking)
    assert sorted(notices.values_list("kind", "email_status")) == [
        ("booking_confirmed", "suppressed"),
        ("booking_paid", "suppressed"),
    ]
    assert mail.outbox and all(m.to == [mentor.user.email] for m in mail.outbox)  # the mentor still hears
    client.force_login(mentee)
    assert "confirmed your session" in client.get(reverse("notifications")).content.decode()
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert email.due_for_retry() == []  # the retry job never takes them up
        assert notification_services.retry_failed_emails() == 0


def test_a_notice_that_failed_before_the_bounce_is_not_sent_by_the_retry_job(client, settings):
    person = UserFactory()
    _unreachable_smtp(settings)
    notice = notification_services.notify(person, kind="payout_processed", key="p-1", subject="Payout", body="Hi")
    notice.refresh_from_db()
    assert notice.email_status == "failed"
    post_report(client, hard_bounce(person.email))
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert notification_services.retry_failed_emails() == 0
        assert email.due_for_retry() == []
    notice.refresh_from_db()
    assert notice.email_status == "suppressed" and mail.outbox == []


def test_it_works_now_lifts_the_hold_and_e_mail_flows_again(client):
    person = UserFactory()
    post_report(client, hard_bounce(person.email))
    client.force_login(person)
    response = client.post(
        reverse("email_works_again"), {"email": person.email, "next": reverse("notifications")}, follow=True
    )
    assert response.redirect_chain == [(reverse("notifications"), 302)]
    html = response.content.decode()
    assert f"Thank you. We&#x27;ll e-mail {person.email} again." in html and BANNER not in html
    assert not UndeliverableAddress.objects.exists()
    # A real notice path: staff approve their mentor application, and they are told by e-mail again.
    profile = mentor_services.mentor_apply(person, headline="Coach", bio="Hi", expertise="Go", motivation="Why not")
    mail.outbox.clear()
    mentor_services.mentor_application_review(profile, approve=True)
    assert [m.to for m in mail.outbox] == [[person.email]]
    assert Notification.objects.get(user=person, kind="application_approved").email_status == "sent"


def test_while_suppressed_a_real_notice_is_kept_in_the_app_without_an_e_mail(client):
    person = UserFactory()
    post_report(client, mailgun_report("complained", person.email))
    profile = mentor_services.mentor_apply(person, headline="Coach", bio="Hi", expertise="Go", motivation="Why not")
    mail.outbox.clear()
    mentor_services.mentor_application_review(profile, approve=True)
    assert mail.outbox == []
    assert Notification.objects.get(user=person, kind="application_approved").email_status == "suppressed"


def test_it_works_now_lifts_only_the_persons_own_current_address(client):
    person, other = UserFactory(), UserFactory()
    for address in (person.email, other.email):
        post_report(client, hard_bounce(address))
    url = reverse("email_works_again")
    assert client.post(url, {"email": person.email}).url.startswith(reverse("account_login"))  # signed out
    client.force_login(person)
    assert client.get(url).status_code == 405
    for hostile in (other.email, "x" * 300 + "@example.com", person.email + "\x00", ["a", "b"], ""):
        response = client.post(url, {"email": hostile, "next": "https://evil.example/"})
        assert response.status_code == 302 and response.url == reverse("home")  # never off-site
    assert UndeliverableAddress.objects.count() == 2
    response = client.post(url, {"email": person.email.upper(), "next": "/" + "a" * 5000}, follow=True)
    assert response.redirect_chain == [(reverse("home"), 302)]
    assert list(UndeliverableAddress.objects.values_list("email", flat=True)) == [other.email]
    html = client.post(url, {"email": person.email}, follow=True).content.decode()
    assert f"We already e-mail {person.email}." in html


def test_a_new_primary_address_makes_the_banner_go(client):
    person = UserFactory()
    post_report(client, hard_bounce(person.email))
    client.force_login(person)
    assert BANNER in client.get(reverse("home")).content.decode()
    person.email = "sam.new@example.com"  # what allauth's "Make primary" does to the user
    person.save(update_fields=["email"])
    assert BANNER not in client.get(reverse("home")).content.decode()


def test_a_password_reset_still_reaches_a_suppressed_address(client):
    person = UserFactory()
    post_report(client, hard_bounce(person.email))
    mail.outbox.clear()
    response = client.post(reverse("account_reset_password"), {"email": person.email})
    assert response.status_code == 302
    (reset,) = mail.outbox
    assert reset.to == [person.email] and "/accounts/password/reset/key/" in reset.body


def test_staff_find_addresses_in_admin_and_deleting_one_e_mails_it_again(client, settings):
    settings.STAFF_REQUIRE_MFA = False
    person = UserFactory()
    post_report(client, hard_bounce(person.email))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    changelist = reverse("admin:notifications_undeliverableaddress_changelist")
    assert person.email in client.get(changelist, {"q": person.email.upper()}).content.decode()
    added = client.post(
        reverse("admin:notifications_undeliverableaddress_add"),
        {"email": " Loud@Example.com ", "reason": "complained", "provider": "Staff", "description": "Asked us to"},
    )
    assert added.status_code == 302
    assert suppression.is_undeliverable("loud@example.com")
    assert UndeliverableAddress.objects.filter(email="loud@example.com").exists()  # stored as the webhook stores
    address = UndeliverableAddress.objects.get(email=person.email)
    deleting = reverse("admin:notifications_undeliverableaddress_delete", args=[address.pk])
    assert client.post(deleting, {"post": "yes"}).status_code == 302
    assert not suppression.is_undeliverable(person.email)


def _event(event_type: str, esp_event: dict | None = None, reject_reason: str | None = None) -> AnymailTrackingEvent:
    return AnymailTrackingEvent(event_type=event_type, esp_event=esp_event or {}, reject_reason=reject_reason)


@pytest.mark.parametrize(
    ("provider", "event", "reason"),
    [
        ("Postmark", _event("bounced", {"Type": "HardBounce"}), "bounced"),
        ("Postmark", _event("bounced", {"Type": "SoftBounce"}), None),
        ("Postmark", _event("rejected", {"Type": "BadEmailAddress"}, "invalid"), "rejected"),
        ("Postmark", _event("rejected", {"Type": "DMARCPolicy"}, "blocked"), None),  # our domain's fault
        ("Amazon SES", _event("bounced", {"bounce": {"bounceType": "Permanent"}}), "bounced"),
        ("Amazon SES", _event("bounced", {"bounce": {"bounceType": "Transient"}}), None),
        ("Amazon SES", _event("complained", {"complaint": {}}), "complained"),
        ("Amazon SES", _event("rejected", {"reject": {"reason": "Bad content"}}, "blocked"), None),  # a virus
        ("Brevo", _event("bounced", {"event": "hard_bounce"}), "bounced"),
        ("Brevo", _event("bounced", {"event": "soft_bounce"}), None),
        ("SendGrid", _event("bounced", {"event": "bounce", "type": "bounce"}), "bounced"),
        ("SendGrid", _event("bounced", {"event": "bounce", "type": "blocked"}), None),
        ("SendGrid", _event("rejected", {"event": "dropped", "reason": "Bounced Address"}, "bounced"), "rejected"),
        ("Mailgun", _event("deferred"), None),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_provider_s_hard_failures_count_and_its_soft_ones_do_not(provider, event, reason):
    assert suppression.reason_for(event, provider) == reason


def test_with_a_provider_set_the_app_sends_through_anymail_with_a_timeout():
    env = a_production_environment(
        DEBUG="true",
        EMAIL_PROVIDER="mailgun",
        EMAIL_PROVIDER_API_KEY="key-test",
        MAILGUN_SENDER_DOMAIN="mg.example.com",
    )
    done = settings_in_a_new_process(
        env,
        "settings.EMAIL_BACKEND, settings.ANYMAIL['MAILGUN_API_KEY'], settings.ANYMAIL['MAILGUN_SENDER_DOMAIN'], "
        "settings.ANYMAIL['REQUESTS_TIMEOUT'], settings.ANYMAIL['WEBHOOK_SECRET']",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "anymail.backends.mailgun.EmailBackend",
        "key-test",
        "mg.example.com",
        "10",
        "development:webhook-secret",
    ]
    done = settings_in_a_new_process(a_production_environment(DEBUG="true"), "settings.EMAIL_BACKEND")
    assert done.stdout.strip() == "django.core.mail.backends.console.EmailBackend"  # none set: EMAIL_URL, as before


PROVIDER_ENVIRONMENT = {
    **REQUIRED,
    "EMAIL_PROVIDER": "mailgun",
    "EMAIL_PROVIDER_API_KEY": "key-deploy",
    "EMAIL_WEBHOOK_SECRET": "hooks:deploy-password",
    "MAILGUN_WEBHOOK_SIGNING_KEY": "signing-deploy",
}


def test_with_debug_off_a_provider_with_its_keys_starts():
    done = settings_in_a_new_process(
        a_production_environment(**PROVIDER_ENVIRONMENT),
        "settings.EMAIL_BACKEND, settings.ANYMAIL['WEBHOOK_SECRET'], settings.ANYMAIL['MAILGUN_WEBHOOK_SIGNING_KEY']",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["anymail.backends.mailgun.EmailBackend", "hooks:deploy-password", "signing-deploy"]


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("EMAIL_PROVIDER_API_KEY", "EMAIL_PROVIDER=mailgun needs EMAIL_PROVIDER_API_KEY"),
        ("EMAIL_WEBHOOK_SECRET", "EMAIL_WEBHOOK_SECRET must be set when DEBUG is off"),
        ("MAILGUN_WEBHOOK_SIGNING_KEY", "MAILGUN_WEBHOOK_SIGNING_KEY must be set when DEBUG is off"),
    ],
)
def test_with_debug_off_a_provider_without_its_keys_refuses_to_start(missing, message):
    env = a_production_environment(**{k: v for k, v in PROVIDER_ENVIRONMENT.items() if k != missing})
    done = settings_in_a_new_process(env, "settings.EMAIL_BACKEND")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and message in done.stderr


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"EMAIL_PROVIDER": "pigeon"}, "EMAIL_PROVIDER must be empty or one of: mailgun, postmark"),
        ({"EMAIL_WEBHOOK_SECRET": "no-colon"}, "EMAIL_WEBHOOK_SECRET must be user:password"),
    ],
)
def test_a_provider_setting_the_app_cannot_use_stops_it_at_start(values, message):
    done = settings_in_a_new_process(a_production_environment(**{**PROVIDER_ENVIRONMENT, **values}), "1")
    assert done.returncode != 0 and message in done.stderr


@pytest.mark.urls("mentorship.urls")
def test_without_a_provider_the_site_has_no_webhook_to_fail(client):
    """Without EMAIL_PROVIDER (and so without its keys) the webhook is not there: a 404, never a server error."""
    assert client.post(WEBHOOK, data=b"{}", content_type="application/json").status_code == 404
