"""Login limits hold across processes and can't be turned against the people they protect: counted per
client address (the real one behind trusted proxies), per account from one address and per account
overall, in the shared cache; a password reset always gets the owner back in."""

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many failed login attempts"


def log_in(client: Client, email: str, password: str, **headers) -> str:
    """'in', 'refused' (wrong password) or 'limited' (too many failures, or 429: too many tries at all)."""
    response = client.post("/accounts/login/", {"login": email, "password": password}, **headers)
    if response.status_code == 429:
        return "limited"
    if response.status_code == 302 and "_auth_user_id" in client.session:
        client.logout()
        return "in"
    assert response.status_code == 200, response.status_code
    return "limited" if TOO_MANY in response.content.decode() else "refused"


def test_five_wrong_passwords_from_one_address_stop_that_address_not_the_owner_elsewhere():
    owner = UserFactory()
    attacker = Client(REMOTE_ADDR="198.51.100.10")
    assert [log_in(attacker, owner.email, "wrong") for _ in range(6)] == ["refused"] * 5 + ["limited"]
    assert log_in(attacker, owner.email, PASSWORD) == "limited"  # the right guess no longer helps there

    assert log_in(Client(REMOTE_ADDR="203.0.113.20"), owner.email, PASSWORD) == "in"

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert log_in(attacker, owner.email, PASSWORD) == "in"


def test_a_guess_spread_over_many_addresses_is_stopped_per_account():
    owner = UserFactory()
    answers = [log_in(Client(REMOTE_ADDR=f"198.51.100.{n}"), owner.email, "wrong") for n in range(1, 32)]
    assert answers == ["refused"] * 30 + ["limited"]
    assert log_in(Client(REMOTE_ADDR="203.0.113.30"), owner.email, PASSWORD) == "limited"

    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert log_in(Client(REMOTE_ADDR="203.0.113.30"), owner.email, PASSWORD) == "in"


def test_a_successful_login_takes_back_its_own_count_only():
    owner = UserFactory()
    client = Client(REMOTE_ADDR="198.51.100.40")
    for _ in range(4):
        assert log_in(client, owner.email, "wrong") == "refused"
    assert log_in(client, owner.email, PASSWORD) == "in"
    assert log_in(client, owner.email, "wrong") == "refused"  # the fifth failure
    assert log_in(client, owner.email, "wrong") == "limited"  # a success in between didn't reset the count


def test_two_people_behind_one_trusted_proxy_have_their_own_limits(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    person = UserFactory()
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    # Someone behind the proxy tries 20 addresses that don't exist, then a real account.
    for n in range(20):
        assert log_in(proxy, f"nobody{n}@example.com", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.50") == "refused"
    assert log_in(proxy, person.email, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.50") == "limited"
    # What a client writes in the header itself is left of what the proxy appends: ignored.
    spoofed = "203.0.113.60, 198.51.100.50"
    assert log_in(proxy, person.email, PASSWORD, HTTP_X_FORWARDED_FOR=spoofed) == "limited"
    # Another person behind the same proxy is not locked out by them.
    assert log_in(proxy, person.email, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.60") == "in"


def test_a_request_through_fewer_proxies_than_trusted_is_counted_not_refused(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2  # say, a CDN then a load balancer; a health check skips the CDN
    person = UserFactory()
    inner = Client(REMOTE_ADDR="10.0.0.3")
    assert log_in(inner, person.email, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.80") == "in"
    for n in range(20):
        log_in(Client(REMOTE_ADDR="10.0.0.3"), f"nobody{n}@example.com", "x", HTTP_X_FORWARDED_FOR="198.51.100.81")
    assert log_in(Client(REMOTE_ADDR="10.0.0.3"), person.email, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.81") == (
        "limited"
    )


def test_without_trusted_proxies_the_header_is_ignored():
    person = UserFactory()
    for n in range(20):
        log_in(Client(REMOTE_ADDR="198.51.100.70"), f"nobody{n}@example.com", "x", HTTP_X_FORWARDED_FOR=f"10.1.0.{n}")
    assert log_in(Client(REMOTE_ADDR="198.51.100.70"), person.email, PASSWORD) == "limited"


def reset_password(client: Client, email: str, new_password: str) -> None:
    mail.outbox.clear()
    assert client.post("/accounts/password/reset/", {"email": email}).status_code == 302
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body).group(1)
    form_url = client.get(link).url
    done = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert done.status_code == 302, done.content.decode()[:2000]
    client.logout()


def test_a_locked_out_owner_resets_the_password_and_signs_in():
    owner = UserFactory()
    for n in range(31):  # locked out everywhere: the per-account count is used up
        log_in(Client(REMOTE_ADDR=f"198.51.100.{100 + n}"), owner.email, "wrong")
    own = Client(REMOTE_ADDR="203.0.113.80")
    assert log_in(own, owner.email, PASSWORD) == "limited"

    reset_password(own, owner.email, "a-brand-new-passphrase")

    assert log_in(own, owner.email, "a-brand-new-passphrase") == "in"
    assert log_in(Client(REMOTE_ADDR="203.0.113.81"), owner.email, "a-brand-new-passphrase") == "in"


def _manage(code: str, env: dict) -> list[str]:
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()


def test_login_limits_hold_across_two_processes(tmp_path):
    """Two web processes (as gunicorn's workers) share one count: Redis when REDIS_URL is set, else the
    file cache beside a shared SQLite database."""
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": f"filecache://{tmp_path / 'cache'}",
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], env=env, check=True, timeout=300, capture_output=True
    )
    email = f"victim-{tmp_path.name}@example.com".lower()
    _manage(
        "from allauth.account.models import EmailAddress; from mentorship.models import User; "
        f"u = User.objects.create_user(email='{email}', password='{PASSWORD}'); "
        f"EmailAddress.objects.create(user=u, email='{email}', verified=True, primary=True)",
        env,
    )

    def tries(*passwords: str) -> list[str]:
        """One process signs in from one address with each password in turn, as a web worker would serve it."""
        return _manage(
            "from django.test import Client\n"
            "c = Client(REMOTE_ADDR='192.0.2.33', HTTP_HOST='localhost')\n"
            f"for password in {list(passwords)!r}:\n"
            f"    r = c.post('/accounts/login/', {{'login': {email!r}, 'password': password}})\n"
            "    print('in' if r.status_code == 302 else 'limited' if b'Too many' in r.content else 'refused')\n",
            env,
        )

    first = tries("wrong", "wrong", "wrong")
    second = tries("wrong", "wrong", "wrong", PASSWORD)
    third = tries(PASSWORD)

    assert first == ["refused"] * 3
    assert second == ["refused", "refused", "limited", "limited"]
    assert third == ["limited"]


def test_too_many_tries_from_one_address_get_our_page_with_a_way_on():
    client = Client(REMOTE_ADDR="198.51.100.90")
    person = UserFactory()
    for _ in range(30):
        client.post("/accounts/login/", {"login": person.email, "password": PASSWORD})
        client.logout()
    page = client.post("/accounts/login/", {"login": person.email, "password": PASSWORD})
    assert page.status_code == 429
    html = page.content.decode()
    assert "Too many tries from here" in html
    assert 'href="/accounts/password/reset/"' in html
    assert client.get("/accounts/password/reset/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert log_in(client, person.email, PASSWORD) == "in"
