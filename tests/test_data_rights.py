"""A person's data rights, from Settings (and by staff in admin): a copy of their data as JSON files in a zip,
and the deletion of their account: open bookings end by the normal rules first, what identifies the person
goes, and the books (bookings, payments, the ledger) and the other person's history stay."""

import io
import json
import zipfile
from datetime import timedelta
from urllib.error import HTTPError

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.core import mail
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import Booking, Review
from mentorship import data_rights
from mentorship.models import MentorProfile, User
from notifications.models import CalendarFeed, Message, Notification, UndeliverableAddress
from payments import services as payment_services
from payments import stuck
from payments.models import LedgerEntry, Payment, Refund, StripeCustomer

from .factories import UserFactory
from .site_data import build_site
from .test_payments import charge_on_stripe
from .test_stripe_faults import card, held_booking, lost_before_stripe  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]  # side effects run after commit
PASSWORD = "a-long-enough-password"


@pytest.fixture
def site(stripe_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    site = build_site(stripe_server, settings)
    for person in (site.mentee, site.mentor.user):
        person.set_password(PASSWORD)
        person.save()
        EmailAddress.objects.get_or_create(
            user=person, email=person.email, defaults={"primary": True, "verified": True}
        )
    return site


def _unzipped(response) -> dict:
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="mentorship-data-')
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {
            name.removesuffix(".json"): json.loads(archive.read(name)) if name.endswith(".json") else archive.read(name)
            for name in archive.namelist()
        }


def test_a_mentee_downloads_everything_we_hold_about_them_and_nothing_of_anyone_else(client, site):
    stranger = UserFactory(display_name="Somebody Else")
    client.force_login(site.mentee)
    assert "Download your data" in client.get(reverse("account_settings")).content.decode()

    data = _unzipped(client.post(reverse("account_data_download")))

    assert set(data) == {
        "README.txt", "profile", "bookings", "messages", "reviews", "payments", "notices", "support_and_packages",
    }  # fmt: skip
    assert data["support_and_packages"]["packages_bought"][0]["sessions"] == 5
    assert data["profile"]["account"]["email"] == "sam.mentee@example.com"
    assert data["profile"]["mentor_profile"] is None
    by_id = {booking["id"]: booking for booking in data["bookings"]}
    assert set(by_id) == {site.pending.pk, site.confirmed.pk, site.completed.pk, site.declined.pk}  # not the hold
    assert by_id[site.pending.pk]["message"].startswith("Could we look at my CV?")
    assert by_id[site.completed.pk]["role"] == "mentee" and by_id[site.completed.pk]["history"]
    [conversation] = data["messages"]
    assert conversation["with"] == "Maya Mentor"
    assert [m["from"] for m in conversation["messages"]] == ["you", "them"]
    assert data["reviews"]["given"][0]["text"].startswith("Sharp and kind.") and data["reviews"]["received"] == []
    paid = {payment["booking"]: payment for payment in data["payments"]["paid"]}
    assert paid[site.completed.pk]["amount_cents"] == site.completed.price_cents
    assert paid[site.declined.pk]["refunds"][0]["amount_cents"] == site.declined.price_cents
    assert {notice["kind"] for notice in data["notices"]} >= {"booking_confirmed", "booking_declined"}
    everything = json.dumps({name: part for name, part in data.items() if name != "README.txt"})
    others = Booking.objects.filter(mentor=site.mentor).exclude(mentee=site.mentee).select_related("mentee")
    assert others and all(other.mentee.display_name not in everything for other in others)
    assert stranger.display_name not in everything


def test_a_mentors_copy_holds_their_profile_sessions_and_earnings(client, site):
    client.force_login(site.mentor.user)
    data = _unzipped(client.post(reverse("account_data_download")))
    assert data["profile"]["mentor_profile"]["headline"].startswith("Staff engineer")
    roles = {booking["role"] for booking in data["bookings"]}
    assert roles == {"mentor"}
    balance = LedgerEntry.objects.filter(mentor=site.mentor, account="mentor").aggregate(s=Sum("amount_cents"))["s"]
    assert sum(entry["amount_cents"] for entry in data["payments"]["earnings"]) == balance
    assert data["payments"]["payouts"] and data["reviews"]["received"][0]["rating"] == 5


def test_downloads_are_limited_per_person(client, site, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "export": (2, 3600)}
    client.force_login(site.mentee)
    statuses = [client.post(reverse("account_data_download")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def _books(mentor: MentorProfile) -> tuple[int, int, list]:
    ledger = LedgerEntry.objects.aggregate(s=Sum("amount_cents"))["s"]
    paid = Payment.objects.filter(status="succeeded").aggregate(s=Sum("amount_cents"))["s"]
    return ledger, paid, sorted(Booking.objects.filter(mentor=mentor).values_list("pk", flat=True))


def test_a_mentee_deletes_their_account_open_bookings_end_by_the_rules_and_the_books_stay(client, site, stripe_server):
    ledger_before, paid_before, bookings_before = _books(site.mentor)
    customer_id = StripeCustomer.objects.get(user=site.mentee).customer_id
    assert stripe_server.get(f"/v1/customers/{customer_id}")["email"] == "sam.mentee@example.com"
    UndeliverableAddress.objects.create(email="sam.mentee@example.com", reason="bounced", provider="Mailgun")
    client.force_login(site.mentee)
    page = client.get(reverse("account_delete")).content.decode()
    assert "Your session with Maya Mentor on" in page and "is cancelled" in page  # said before it is done
    refused = client.post(reverse("account_delete"), {"password": "wrong", "understood": "on"})
    assert refused.status_code == 400 and "That is not your password." in refused.content.decode()
    assert User.objects.get(pk=site.mentee.pk).is_active

    response = client.post(reverse("account_delete"), {"password": PASSWORD, "understood": "on"}, follow=True)

    assert "Your account is deleted." in response.content.decode()
    assert "_auth_user_id" not in client.session
    gone = User.objects.get(pk=site.mentee.pk)
    assert (gone.email, gone.display_name, gone.is_active) == (
        f"deleted-{gone.pk}@deleted.invalid",
        "Former member",
        False,
    )
    assert not gone.has_usable_password() and not EmailAddress.objects.filter(user=gone).exists()
    assert not client.login(email="sam.mentee@example.com", password=PASSWORD)
    # Requests not yet held: the pending one and the confirmed one (before its window) are cancelled, in full.
    for booking in (site.pending, site.confirmed):
        booking.refresh_from_db()
        assert booking.status == "cancelled" and booking.cancelled_by == "mentee"
        assert Refund.objects.get(payment__booking=booking).amount_cents == booking.price_cents
    assert Booking.objects.get(pk=site.held.pk).status == "abandoned"
    assert Booking.objects.get(pk=site.completed.pk).status == "completed"
    assert Booking.objects.get(pk=site.pending.pk).message == ""  # what they wrote about themselves
    review = Review.objects.get(booking=site.completed)
    assert (review.rating, review.text) == (5, "")
    # The books: every booking, payment and ledger entry is still there; the refunds are the only change.
    ledger_after, paid_after, bookings_after = _books(site.mentor)
    assert (ledger_after, paid_after, bookings_after) == (ledger_before, paid_before, bookings_before)
    assert not Notification.objects.filter(user=gone).exists() and not CalendarFeed.objects.filter(user=gone).exists()
    assert not StripeCustomer.objects.filter(user=gone).exists() and not UndeliverableAddress.objects.exists()
    with pytest.raises(HTTPError) as missing:  # Stripe forgot their name, e-mail and card
        stripe_server.get(f"/v1/customers/{customer_id}")
    assert missing.value.code == 404
    # The mentor's history is intact, with the person as "Former member".
    client.force_login(site.mentor.user)
    detail = client.get(reverse("booking_detail", args=[site.completed.pk])).content.decode()
    assert "Former member" in detail and "Sam Mentee" not in detail
    thread = client.get(reverse("conversation", args=[site.conversation.pk])).content.decode()
    assert "Here is my portfolio" in thread and "Looks great, see you soon." in thread
    assert Message.objects.filter(conversation=site.conversation).count() == 2


def test_a_mentor_deletes_their_account_requests_are_declined_sessions_cancelled_in_full_and_earnings_kept(
    client, site, tmp_path
):
    profile = site.mentor
    profile.photo.save("face.jpg", io.BytesIO(b"\xff\xd8 not really a photo"), save=True)
    photo = tmp_path / profile.photo.name
    assert photo.exists()
    balance_before = LedgerEntry.objects.filter(mentor=profile, account="mentor").aggregate(s=Sum("amount_cents"))
    assert Review.objects.filter(mentor=profile).update(reply="Thank you, Sam!") == 1
    client.force_login(profile.user)

    client.post(reverse("account_delete"), {"password": PASSWORD, "understood": "on"})

    assert Booking.objects.get(pk=site.pending.pk).status == "declined"
    confirmed = Booking.objects.get(pk=site.confirmed.pk)
    assert confirmed.status == "cancelled" and confirmed.cancelled_by == "mentor"
    assert Refund.objects.get(payment__booking=confirmed).amount_cents == confirmed.price_cents
    # What the mentor earned stays theirs and is still paid out; the ledger is untouched.
    balance_after = LedgerEntry.objects.filter(mentor=profile, account="mentor").aggregate(s=Sum("amount_cents"))
    assert balance_after == balance_before
    profile.refresh_from_db()
    assert (profile.headline, profile.bio, profile.photo.name) == ("Former member", "", "")
    assert not photo.exists() and not profile.services.filter(is_active=True).exists()
    assert profile.listed_until is None and profile.status == MentorProfile.Status.REJECTED
    assert client.get(reverse("mentor_profile", args=[profile.pk])).status_code == 404  # the public page is gone
    assert not Review.objects.filter(mentor=profile).exclude(reply="").exists()
    # The mentee still sees their history with this mentor.
    client.force_login(site.mentee)
    assert "Former member" in client.get(reverse("booking_detail", args=[site.completed.pk])).content.decode()


def test_staff_download_and_delete_a_persons_data_in_admin(admin_client, site):
    changelist = reverse("admin:mentorship_user_changelist")
    download = admin_client.post(changelist, {"action": "download_data", "_selected_action": [site.mentee.pk]})
    assert "bookings" in _unzipped(download)
    page = admin_client.get(changelist).content.decode()
    assert "delete_selected" not in page  # rows the books point at are never removed

    admin_client.post(changelist, {"action": "delete_accounts", "_selected_action": [site.mentee.pk]})

    assert User.objects.get(pk=site.mentee.pk).display_name == "Former member"
    assert Booking.objects.get(pk=site.pending.pk).status == "cancelled"


def test_deleting_twice_changes_nothing_more_and_a_superuser_is_refused(site):
    data_rights.account_delete(site.mentee.pk)
    once = list(User.objects.filter(pk=site.mentee.pk).values())
    data_rights.account_delete(site.mentee.pk)
    assert list(User.objects.filter(pk=site.mentee.pk).values()) == once
    boss = UserFactory(is_superuser=True, is_staff=True)
    with pytest.raises(data_rights.DeletionRefused):
        data_rights.account_delete(boss.pk)


def test_hostile_input_on_the_deletion_form_is_refused_not_a_server_error(client, site):
    client.force_login(site.mentee)
    for password in ("\x00" * 8, "p" * 5000):
        response = client.post(reverse("account_delete"), {"password": password, "understood": "on"})
        assert response.status_code == 400
    assert User.objects.get(pk=site.mentee.pk).is_active


def test_deletion_waits_for_a_payment_under_way_then_refunds_it(stripe_server, held_booking, card):  # noqa: F811
    payment = lost_before_stripe(held_booking, card)
    charge_on_stripe(payment, card)  # charged on Stripe; the answer never came back

    with pytest.raises(data_rights.DeletionRefused, match="still being checked"):
        data_rights.account_delete(held_booking.mentee_id)  # the charge is found through their Stripe customer
    assert User.objects.get(pk=held_booking.mentee_id).is_active
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert stuck.stuck_payments_resolve() == 1  # the sweeper finds the charge: the request is made
    data_rights.account_delete(held_booking.mentee_id)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert Booking.objects.get(pk=held_booking.pk).status == Booking.Status.CANCELLED  # refunded in full
    assert [(r.amount_cents, r.status) for r in payment.refunds.all()] == [(payment.amount_cents, "succeeded")]
    assert not Notification.objects.filter(user=held_booking.mentee).exists()


def test_a_late_payment_for_a_deleted_persons_hold_buys_nothing(held_booking):  # noqa: F811
    """Should a charge's success reach us after deletion anyway, the booking stays let go (and the caller,
    payment_succeeded, refunds the money)."""
    User.objects.filter(pk=held_booking.mentee_id).update(is_active=False)
    with pytest.raises(booking_services.BookingError, match="deleted their account"):
        booking_services.booking_mark_paid(held_booking.pk)
    assert Booking.objects.get(pk=held_booking.pk).status == Booking.Status.HELD


def test_a_mentor_with_packages_still_owed_cannot_delete_yet_and_is_told_why(client, site, stripe_server):
    secret = payment_services.checkout_setup(mentee=site.mentee, purchase_id=site.purchase.pk)
    card_id = stripe_server.confirm_card_setup(secret)
    payment_services.checkout_pay(mentee=site.mentee, purchase_id=site.purchase.pk, payment_method_id=card_id)
    client.force_login(site.mentor.user)
    page = client.get(reverse("account_delete")).content.decode()
    assert "package(s) that are still running" in page and "Delete my account" not in page
    with pytest.raises(data_rights.DeletionRefused, match="still running"):
        data_rights.account_delete(site.mentor.user_id)
    assert User.objects.get(pk=site.mentor.user_id).is_active
    # The mentee who bought it is told, before deleting, that their unused credits are given up.
    client.force_login(site.mentee)
    assert "Your 5 unused package credit(s) are given up" in client.get(reverse("account_delete")).content.decode()


def test_a_mentors_copy_never_holds_a_mentees_unfinished_checkout(client, site):
    abandoned = site.held
    Booking.objects.filter(pk=abandoned.pk).update(message="private words", status="abandoned")
    client.force_login(site.mentor.user)
    data = _unzipped(client.post(reverse("account_data_download")))
    assert abandoned.pk not in {booking["id"] for booking in data["bookings"]}
    assert "private words" not in json.dumps(data["bookings"])


def test_staff_need_the_delete_permission_and_delete_one_person_at_a_time(client, site):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)
    changelist = reverse("admin:mentorship_user_changelist")
    page = client.get(changelist).content.decode()
    assert "delete_accounts" not in page and "download_data" not in page
    client.post(changelist, {"action": "delete_accounts", "_selected_action": [site.mentee.pk]})
    assert User.objects.get(pk=site.mentee.pk).is_active


def test_error_emails_to_admins_never_hold_what_was_typed(client, site, settings):
    settings.DEBUG = False
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.ROOT_URLCONF = "tests.error_urls"
    client.raise_request_exception = False
    client.force_login(site.mentee)
    client.post("/test/broken/", {"note": "my private words", "password": "hunter2-secret"})
    [sent] = [m for m in mail.outbox if m.to == ["ops@example.com"]]
    assert "a bug in a view" in sent.body
    assert "my private words" not in sent.body and "hunter2-secret" not in sent.body and "note" in sent.body
