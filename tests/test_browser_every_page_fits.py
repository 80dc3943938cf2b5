"""Every page of the site fits a phone: signed out, as a mentee and as an approved mentor with sessions in every
state, long meeting links, payouts and messages, each page is opened at 390px (the main ones also at 320, 768,
1024 and 1440px) and
nothing may make the window scroll sideways. The walk covers every URL name in the project; the ones that are no
page (form posts, files, webhooks) are listed with the reason."""

import pytest
from anymail import urls as anymail_urls
from django.urls import get_resolver, resolve, reverse

from .site_data import build_site
from .test_browser_flow import log_in
from .viewports import PHONE, assert_no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SMALLEST = {"width": 320, "height": 640}
# The main pages are also opened at the smallest phone and at tablet and wide-desktop widths.
MAIN_PAGE_SIZES = (
    SMALLEST,
    PHONE,
    {"width": 768, "height": 1024},
    {"width": 1024, "height": 768},
    {"width": 1440, "height": 900},
)

NOT_PAGES = {
    # Actions: forms post to them, a GET answers 405 or sends back to the page the form is on.
    **dict.fromkeys(
        [
            "mentor_service_move",
            "package_buy",
            "booking_use_credit",
            "package_pay",
            "package_authenticated",
            "mentor_date_override",
            "mentor_vacation",
            "connect_stripe",
            "book",
            "book_forget",
            "booking_confirm",
            "booking_decline",
            "booking_complete",
            "booking_links",
            "booking_no_show",
            "booking_suggest",
            "booking_accept",
            "booking_support",
            "grant_refund",
            "checkout_pay",
            "checkout_authenticated",
            "review_reply",
            "notifications_read",
            "email_works_again",
            "calendar_remove",
            "caldav_account",
            "booking_take_refund",
        ],
        "a form's action",
    ),
    **dict.fromkeys((p.name for p in anymail_urls.urlpatterns), "the e-mail provider's webhooks (anymail)"),
    "caldav_pick": "needs the calendars a CalDAV sign-in found (tests/test_browser_calendars.py, both widths)",
    "booking_rebook": "only after the mentor cancels (tests/test_browser_rebook.py, both widths)",
    "book_resume": "sends on to checkout or back to the profile (tests/test_browser_book_first.py)",
    "mentor_photo": "an image",
    "account_data_download": "a zip file, posted from Settings (tests/test_data_rights.py)",
    "booking_ics": "a calendar file",
    "calendar_feed": "a calendar feed",
    "mentor_times": "JSON for the calendar script (tests/test_picker.py, tests/test_browser_picker.py)",
    "bench_hello": "the benchmark's bare page, off unless BENCH_HELLO is set",
    "stripe_webhook": "Stripe's webhook",
    "connect_stripe_refresh": "sends the mentor on to Stripe's onboarding",
    "account_confirm_email": "needs the key from an e-mail",
    "account_reset_password_from_key": "needs the key from an e-mail",
    "account_confirm_login_code": "needs a code sent by e-mail during a sign-in",
    "account_set_password": "for accounts without a password; ours all have one",
    "account_reauthenticate": "only in the middle of a sensitive change",
    "mfa_authenticate": "only in the middle of a staff sign-in (tests/test_browser_staff_mfa.py)",
    "mfa_reauthenticate": "only in the middle of a sensitive change",
    "mfa_deactivate_totp": "needs a second factor set up (tests/test_browser_staff_mfa.py)",
    "mfa_view_recovery_codes": "needs a second factor set up (tests/test_browser_staff_mfa.py)",
    "mfa_generate_recovery_codes": "needs a second factor set up (tests/test_browser_staff_mfa.py)",
    "mfa_download_recovery_codes": "a text file",
}


def pages_for(role: str, site) -> list[tuple[str, bool]]:
    """(address, is a main page) for each page `role` can open."""
    if role == "signed_out":
        return [
            (reverse("home"), True),
            (reverse("home") + "?q=django&sort=price", False),
            (reverse("mentor_profile", args=[site.mentor.pk]), True),
            (reverse("how_it_works_mentors"), False),
            (reverse("account_login"), True),
            (reverse("account_signup"), True),
            (reverse("account_reset_password"), False),
            (reverse("account_reset_password_done"), False),
            (reverse("account_reset_password_from_key_done"), False),
            (reverse("account_email_verification_sent"), False),
            (reverse("account_inactive"), False),
            ("/admin/login/", False),
        ]
    both = [
        (reverse("home"), True),
        (reverse("my_bookings"), True),
        (reverse("my_packages"), False),
        (reverse("conversations"), True),
        (reverse("conversation", args=[site.conversation.pk]), True),
        (reverse("notifications"), False),
        (reverse("notification_settings"), False),
        (reverse("account_settings"), True),
        (reverse("account_delete"), False),
        (reverse("account_email"), False),
        (reverse("account_change_password"), False),
        (reverse("mfa_index"), False),
        (reverse("mfa_activate_totp"), False),
        (reverse("account_logout"), False),
        (reverse("how_it_works_mentors"), False),
        (reverse("message_about_booking", args=[site.confirmed.pk]), False),
    ]
    sessions = [b.pk for b in (site.pending, site.confirmed, site.completed, site.declined)]
    if role == "mentee":
        return [
            *both,
            (reverse("mentor_profile", args=[site.mentor.pk]), True),
            (reverse("become_mentor"), False),
            (reverse("message_mentor", args=[site.mentor.pk]), False),
            *[(reverse("booking_detail", args=[pk]), True) for pk in sessions],
            (reverse("booking_cancel", args=[site.confirmed.pk]), False),
            (reverse("booking_reschedule", args=[site.confirmed.pk]), False),
            (reverse("booking_review", args=[site.completed.pk]), False),
            (reverse("checkout", args=[site.held.pk]), True),
            (reverse("receipt", args=[site.payment.pk]), False),
            (reverse("package_checkout", args=[site.purchase.pk]), False),
        ]
    service = site.mentor.services.first()
    return [
        *both,
        (reverse("mentor_bookings"), True),
        (reverse("earnings"), True),
        (reverse("mentor_schedule"), True),
        (reverse("calendars"), False),
        (reverse("mentor_services"), False),
        (reverse("mentor_service_new"), False),
        (reverse("mentor_service_edit", args=[service.pk]), False),
        (reverse("package_new"), False),
        (reverse("package_edit", args=[site.package_id]), False),
        (reverse("mentor_profile_edit"), False),
        (reverse("connect_stripe_return"), False),
        *[(reverse("booking_detail", args=[pk]), True) for pk in sessions],
        (reverse("booking_cancel", args=[site.confirmed.pk]), False),
        (reverse("booking_reschedule", args=[site.confirmed.pk]), False),
    ]


def url_names() -> set[str]:
    names = set()

    def walk(patterns, admin=False):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, admin or "admin" in str(pattern.pattern))
            elif pattern.name and not admin:
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


@pytest.fixture
def site(stripe_server, settings):
    return build_site(stripe_server, settings)


@pytest.mark.parametrize("role", ["signed_out", "mentee", "mentor"])
def test_every_page_fits_a_phone(new_page, site, role):
    page = new_page("Europe/London")
    if role != "signed_out":
        log_in(page, site.mentee.email if role == "mentee" else site.mentor.user.email)
    too_wide = []
    for path, main in pages_for(role, site):
        for size in MAIN_PAGE_SIZES if main else (PHONE,):
            page.set_viewport_size(size)
            response = page.goto(path)
            assert response.status < 400, f"{path} answered {response.status}"
            try:
                assert_no_sideways_scroll(page)
            except AssertionError as error:
                too_wide.append(f"{size['width']}px {path}: {error}")
    assert not too_wide, "\n".join(too_wide)


def test_the_walk_covers_every_page_of_the_project(site):
    visited = {
        resolve(path.split("?")[0]).url_name
        for role in ("signed_out", "mentee", "mentor")
        for path, _ in pages_for(role, site)
        if not path.startswith("/admin/")
    }
    assert not visited & NOT_PAGES.keys()
    assert url_names() - visited - NOT_PAGES.keys() == set(), "a page nobody opens: add it to pages_for()"
