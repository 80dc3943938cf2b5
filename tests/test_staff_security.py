"""The admin, which issues refunds, is reached only through the site's login: limited like every login,
and with a second factor (an authenticator app, or a recovery code once) for staff outside development."""

import base64
import hashlib
import hmac
import struct
import time
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client
from django.utils import timezone

from .factories import PASSWORD, UserFactory
from .test_login_limits import log_in

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(secret: str, at: float | None = None) -> str:
    """RFC 6238 as an authenticator app computes it: HMAC-SHA1 of the 30-second step, 6 digits."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int((at or time.time()) // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def staff_member(**extra):
    return UserFactory(is_staff=True, is_superuser=True, **extra)


def with_authenticator(user):
    TOTP.activate(user, SECRET)
    return RecoveryCodes.activate(user).get_unused_codes()


def test_the_admin_has_no_login_form_of_its_own():
    staff = staff_member()
    client = Client(REMOTE_ADDR="198.51.100.200")
    page = client.get("/admin/login/?next=/admin/")
    assert page.status_code == 302
    assert page.url == "/accounts/login/?next=%2Fadmin%2F"
    # Posting a right password at the old address signs no one in.
    client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_admin_brute_force_is_limited_and_the_owner_still_gets_in_from_elsewhere(settings):
    settings.STAFF_REQUIRE_MFA = False
    staff = staff_member()
    attacker = Client(REMOTE_ADDR="198.51.100.201")
    login_url = attacker.get("/admin/", follow=True).redirect_chain[-1][0]  # where the admin sends strangers
    assert login_url.startswith("/accounts/login/")
    answers = [attacker.post(login_url, {"login": staff.email, "password": f"guess-{n}"}) for n in range(30)]
    limited = ["Too many failed login attempts" in answer.content.decode() for answer in answers]
    assert limited == [False] * 5 + [True] * 25
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=2)):  # past the per-minute cap on tries: failures count
        assert log_in(attacker, staff.email, PASSWORD) == "limited"  # the right password too, from there
        own = Client(REMOTE_ADDR="203.0.113.201")
        assert own.post(login_url, {"login": staff.email, "password": PASSWORD}).status_code == 302
        assert own.get("/admin/").status_code == 200

    with time_machine.travel(start + timedelta(minutes=7)):  # and the limit on the attacker's end lapses
        assert log_in(attacker, staff.email, PASSWORD) == "in"


def test_outside_development_staff_without_a_second_factor_are_sent_to_set_one_up(settings):
    settings.STAFF_REQUIRE_MFA = True
    staff = staff_member()
    client = Client(REMOTE_ADDR="198.51.100.202")
    client.force_login(staff)
    for path in ("/admin/", "/admin/payments/payment/", "/admin/mentorship/user/"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.url == "/accounts/2fa/totp/activate/"
    assert client.get("/bookings/").status_code == 200  # the rest of the site is theirs as before


def test_in_development_demo_staff_open_the_admin_with_a_password(settings):
    settings.STAFF_REQUIRE_MFA = False
    client = Client(REMOTE_ADDR="198.51.100.203")
    assert log_in_and_follow(client, staff_member().email, PASSWORD, "/admin/") == "/admin/"
    assert client.get("/admin/").status_code == 200


def log_in_and_follow(client: Client, email: str, password: str, next_url: str) -> str:
    answer = client.post(f"/accounts/login/?next={next_url}", {"login": email, "password": password})
    assert answer.status_code == 302
    return answer.url


def test_staff_with_an_authenticator_need_the_code_and_a_recovery_code_works_once(settings):
    settings.STAFF_REQUIRE_MFA = True
    staff = staff_member()
    recovery = with_authenticator(staff)[0]

    client = Client(REMOTE_ADDR="198.51.100.204")
    assert log_in_and_follow(client, staff.email, PASSWORD, "/admin/") == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # the password alone opens nothing
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000" if totp_code(SECRET) != "000000" else "1"})
    assert wrong.status_code == 200
    answer = client.post("/accounts/2fa/authenticate/", {"code": totp_code(SECRET)})
    assert answer.status_code == 302 and answer.url == "/admin/"
    assert client.get("/admin/").status_code == 200
    client.logout()

    for attempt in ("first", "second"):
        client = Client(REMOTE_ADDR="198.51.100.205")
        log_in_and_follow(client, staff.email, PASSWORD, "/admin/")
        answer = client.post("/accounts/2fa/authenticate/", {"code": recovery})
        if attempt == "first":
            assert answer.status_code == 302 and answer.url == "/admin/"
        else:
            assert answer.status_code == 200
            assert "_auth_user_id" not in client.session


def test_codes_for_the_second_factor_are_limited_too(settings):
    staff = staff_member()
    with_authenticator(staff)
    client = Client(REMOTE_ADDR="198.51.100.206")
    log_in_and_follow(client, staff.email, PASSWORD, "/admin/")
    right = totp_code(SECRET)
    for n in range(5):
        client.post("/accounts/2fa/authenticate/", {"code": f"{(int(right) + 1 + n) % 1_000_000:06d}"})
    answer = client.post("/accounts/2fa/authenticate/", {"code": right})
    assert answer.status_code == 200
    assert "Too many failed login attempts" in answer.content.decode()
    assert "_auth_user_id" not in client.session
