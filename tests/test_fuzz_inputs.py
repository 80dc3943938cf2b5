"""Hostile input to every form field and query parameter of every view, as each role: never a 5xx, and input
that is refused changes nothing.

Views are found by walking `mentorship.urls`, ids filled with real objects (and other people's and missing ones),
and fields are read from the forms each page renders, plus the parameters some views read directly, so a new
view or field is fuzzed without touching this file. Each request runs in a savepoint that is rolled back, so
every input meets the same world.
"""

import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from bookings import packages, selectors
from bookings import services as booking_services
from bookings.models import Package
from notifications import conversations

from .factories import PASSWORD, UserFactory, bookable_mentor
from .test_payments import pay

pytestmark = [pytest.mark.django_db, pytest.mark.stripe]

MEGABYTE = "a" * 1_000_000
# The same value class for every kind of field: refused by any field that validates.
REFUSED = {
    "nul": "abc\x00def",
    "control": "abc\x1b[31m\x07def",
    "megabyte": MEGABYTE,
}
# Wrongly typed or tampered: must not break the page; they may be accepted where they mean something.
ODD_FOR_TEXT = {
    "list": ["1", "2"],
    "unicode": "\ufeff\U0001f600 \u0301",
    # Longer than a column, shorter than a URL may be: a link field that trusts URLValidator's cap breaks here.
    "long link": "https://example.com/" + "a" * 2000,
}
ODD = {
    "list": ["1", "2"],
    "letters": "abc",
    "negative": "-1",
    "huge": "99999999999999999999999",
    "exponent": "1e400",  # Decimal("1e400") parses: a number no column holds
    "nan": "NaN",
}
# Every raw parameter at once, for routes and parameters no page shows a field for.
BLANKET = {
    "nul": "abc\x00def",
    "long": "a" * 100_000,
    "letters": "abc",
    "list": ["1", "2"],
    "huge": "99999999999999999999999",
    "nan": "NaN",
}
# Read by views from the request without a rendered field, or only sometimes rendered.
RAW_POST_PARAMS = [
    "note",
    "reason",
    "start",
    "suggestion",
    "remove",
    "direction",
    "next",
    "back",
    "purchase",
    "notification",
    "payment_method",
    "use_saved_card",
    "reset_feed",
]
RAW_QUERY_PARAMS = ["tz", "service", "day", "week", "page", "sort", "q", "next"]
ALLAUTH_PAGES = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/accounts/email/"]
# Values of these fields are no data: the field names an intention whatever it holds, like a ticked box.
FLAGS = {"use_saved_card", "reset_feed", "remove_photo", "is_active", "remember", "action_remove"}
# Where to go afterwards (a page, or the calendar's day, week and zone): an unsafe value falls back to a default,
# and the action itself still happens.
FLAGS |= {"next", "back", "tz", "day", "week"}
MISSING_ID = 987654
TEXT_INPUTS = {"text", "email", "url", "password", "search", "tel"}


@dataclass
class Form:
    action: str
    method: str
    fields: dict = field(default_factory=dict)  # name -> list of values the page put there
    checkboxes: set = field(default_factory=set)
    text: set = field(default_factory=set)  # fields people type free text into


class FormParser(HTMLParser):
    def __init__(self, page_url):
        super().__init__()
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form = None
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            action = attrs.get("action") or self.page_url
            self._form = Form(action=action, method=(attrs.get("method") or "get").lower())
            self.forms.append(self._form)
            return
        if self._form is None or not attrs.get("name"):
            return
        name = attrs["name"]
        if tag == "button":
            if attrs.get("value"):
                self._form.fields.setdefault(name, [attrs["value"]])
            return
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in TEXT_INPUTS:
                self._form.text.add(name)
            if kind in ("submit", "button", "image", "file"):
                if kind == "submit":
                    self._form.fields.setdefault(name, [])
                return
            if kind in ("checkbox", "radio"):
                if kind == "checkbox":
                    self._form.checkboxes.add(name)
                values = self._form.fields.setdefault(name, [])
                if "checked" in attrs or (kind == "radio" and not values):
                    values[:] = [attrs.get("value", "on")]
                return
            self._form.fields.setdefault(name, []).append(attrs.get("value", ""))
        elif tag == "textarea":
            self._textarea = name
            self._form.text.add(name)
            self._form.fields.setdefault(name, [""])
        elif tag == "select":
            self._select = name
            self._form.fields.setdefault(name, [])
        elif tag == "option" and self._select:
            values = self._form.fields[self._select]
            if not values or "selected" in attrs:
                values[:] = [attrs.get("value", "")]

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] = [data.strip()]

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def forms_on(page_url: str, html: str) -> list[Form]:
    parser = FormParser(page_url)
    parser.feed(html)
    return parser.forms


def url_patterns(resolver=None, prefix=""):
    """(route, pattern) for every view of ours; allauth and the admin are fuzzed through their pages."""
    for entry in (resolver or get_resolver("mentorship.urls")).url_patterns:
        if isinstance(entry, URLResolver):
            continue
        if isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def snapshot() -> str:
    """A digest of every row of our apps' tables: any write shows."""
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        for label in ("mentorship", "bookings", "payments", "notifications"):
            for model in apps.get_app_config(label).get_models():
                table = connection.ops.quote_name(model._meta.db_table)
                pk = connection.ops.quote_name(model._meta.pk.column)
                cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")  # noqa: S608 - our own table names
                digest.update(repr(cursor.fetchall()).encode())
    return digest.hexdigest()


@pytest.fixture
def world(stripe_server):
    """Two mentors, two mentees and staff, with bookings in each state a form acts on."""
    mentor = bookable_mentor()
    other_mentor = bookable_mentor()
    mentee, other_mentee = UserFactory(), UserFactory()
    staff = UserFactory(is_staff=True, is_superuser=True)
    intro = mentor.services.get(duration_minutes=30)
    now = timezone.now()
    day = (now + timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = selectors.open_slots(intro, start=day, end=day + timedelta(days=7))
    held = booking_services.booking_hold(mentee=mentee, service=intro, start=starts[0], message="CV")
    pending = booking_services.booking_hold(mentee=mentee, service=intro, start=starts[4], message="Talk")
    pay(stripe_server, pending)
    confirmed = booking_services.booking_hold(mentee=mentee, service=intro, start=starts[8], message="Go")
    pay(stripe_server, confirmed)
    booking_services.booking_confirm(confirmed.pk, actor=mentor.user)
    booking_services.booking_suggest_times(pending.pk, actor=mentor.user, starts=[starts[12]], note="Later?")
    theirs_service = other_mentor.services.get(duration_minutes=30)
    theirs_start = selectors.open_slots(theirs_service, start=day, end=day + timedelta(days=7))[0]
    theirs = booking_services.booking_hold(mentee=other_mentee, service=theirs_service, start=theirs_start)
    package = Package.objects.create(mentor=mentor, service=intro, sessions=3, price_cents=10000, valid_days=90)
    purchase = packages.purchase_start(mentee=mentee, package_id=package.pk)
    conversation = conversations.message_send(sender=mentee, mentee=mentee, mentor=mentor, body="Hi").conversation
    ids = {
        "booking_id": [confirmed.pk, pending.pk, held.pk, theirs.pk],
        "mentor_id": [mentor.pk, other_mentor.pk],
        "service_id": [intro.pk, theirs_service.pk],
        "package_id": [package.pk],
        "purchase_id": [purchase.pk],
        "payment_id": list(pending.payments.values_list("pk", flat=True)),
        "conversation_id": [conversation.pk],
        "token": ["not-a-token", "nul%00token", "a" * 5000],
    }
    users = {"mentee": mentee, "mentor": mentor.user, "staff": staff}
    return ids, users


def client_for(role: str, users: dict) -> Client:
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        assert client.login(email=users[role].email, password=PASSWORD)
    return client


def concrete_urls(ids: dict) -> list[str]:
    """Every route with its ids filled in: real objects of several owners, a missing one, a huge one."""
    urls = []
    for route, _pattern in url_patterns():
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if not names:
            urls.append("/" + route)
            continue
        name = names[0]
        for value in [*ids.get(name, []), MISSING_ID, "99999999999999999999"]:
            urls.append("/" + re.sub(r"<(?:\w+:)?\w+>", str(value), route, count=1))
    return [*urls, *ALLAUTH_PAGES]


def values_for(name: str, form: Form) -> dict:
    """The hostile values for one field the page shows: numbers' troubles for fields that hold a choice or a
    number, free text's troubles for fields typed into."""
    return {**REFUSED, **(ODD_FOR_TEXT if name in form.text else ODD)}


class Fuzzer:
    def __init__(self):
        self.failures: list[str] = []
        self.changed: list[str] = []
        self.requests = 0

    def try_value(self, client, role: str, form: Form, path: str, data: dict, label: str, checks_change: bool):
        """One request in a savepoint that is rolled back, so every input meets the same world."""
        where = f"{role} {form.method.upper()} {path} {label}"
        self.requests += 1
        with transaction.atomic():
            before = snapshot() if checks_change else None
            response = (client.get if form.method == "get" else client.post)(path, data)
            status = response.status_code
            if status >= 500:
                error = getattr(response, "exc_info", None)
                self.failures.append(f"{where}: {status} {error[1]!r:.200}" if error else f"{where}: {status}")
            elif before is not None and snapshot() != before:
                self.changed.append(where)
            transaction.set_rollback(True)

    def fuzz_form(self, client, role: str, form: Form, path: str):
        baseline = {name: values for name, values in form.fields.items() if values}
        for name in form.fields:
            if name == "csrfmiddlewaretoken":
                continue
            # A field the form shows must refuse what no field accepts; a parameter it doesn't show is ignored.
            must_refuse = form.method == "post" and name in form.fields and name not in form.checkboxes | FLAGS
            for label, value in values_for(name, form).items():
                refused = must_refuse and label in REFUSED
                self.try_value(client, role, form, path, {**baseline, name: value}, f"{name}={label}", refused)


def route_name(path: str) -> str:
    try:
        return resolve(path).url_name or path
    except Resolver404:
        return path


def test_hostile_input_never_breaks_a_page_and_refused_input_changes_nothing(world):
    ids, users = world
    fuzzer = Fuzzer()
    began = time.monotonic()
    clients = {role: client_for(role, users) for role in ("anonymous", "mentee", "mentor", "staff")}
    before = snapshot()
    seen_forms, blanketed = set(), set()
    for role, client in clients.items():
        for url in concrete_urls(ids):
            with transaction.atomic():
                page = client.get(url)
                transaction.set_rollback(True)
            if page.status_code >= 500:
                fuzzer.failures.append(f"{role} GET {url}: {page.status_code}")
                continue
            forms = []
            if page.status_code == 200 and "html" in page.get("Content-Type", ""):
                forms = forms_on(url, page.content.decode())
            for form in forms:
                action = urlsplit(form.action)
                if action.netloc or not action.path.startswith("/"):
                    continue  # an outside link (Stripe onboarding) is not ours to fuzz
                key = (role, form.method, route_name(action.path), tuple(sorted(form.fields)))
                if key not in seen_forms:
                    seen_forms.add(key)
                    fuzzer.fuzz_form(client, role, form, action.path)
            # A route this role reaches: the parameters views read without a field, all hostile at once.
            if page.status_code in (200, 405) and (role, route_name(url)) not in blanketed:
                blanketed.add((role, route_name(url)))
                for label, value in BLANKET.items():
                    for method, params in (("post", RAW_POST_PARAMS), ("get", RAW_QUERY_PARAMS)):
                        hostile = dict.fromkeys(params, value)
                        fuzzer.try_value(
                            client, role, Form(action=url, method=method), url, hostile, f"*={label}", False
                        )
        print(f"{role}: {fuzzer.requests} requests so far, {time.monotonic() - began:.0f} s")
    print(f"{fuzzer.requests} hostile requests, {len(seen_forms)} forms")
    assert not fuzzer.failures, f"{len(fuzzer.failures)} server errors:\n" + "\n".join(fuzzer.failures)
    assert not fuzzer.changed, "refused input changed data:\n" + "\n".join(fuzzer.changed)
    assert snapshot() == before


def test_hostile_admin_changelists_and_actions_never_break_and_change_nothing(world):
    """Every changelist, ours and the libraries', as staff: hostile search, ordering and page parameters, and
    each action on selections that are no ids."""
    from django.contrib import admin

    ids, users = world
    client = client_for("staff", users)
    fuzzer = Fuzzer()
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        get = Form(action=url, method="get")
        for label, value in BLANKET.items():
            hostile = dict.fromkeys(["q", "o", "p", "all", "_to_field"], value)
            fuzzer.try_value(client, "staff", get, url, hostile, f"*={label}", False)
        post = Form(action=url, method="post")
        for action in model_admin.get_actions(client.get(url).wsgi_request) or ["delete_selected"]:
            for label, value in BLANKET.items():
                if label == "list":
                    continue  # ["1", "2"] are ids
                data = {"action": action, "_selected_action": value, "index": value}
                fuzzer.try_value(client, "staff", post, url, data, f"{action} _selected_action={label}", True)
    assert not fuzzer.failures, f"{len(fuzzer.failures)} server errors:\n" + "\n".join(fuzzer.failures)
    assert not fuzzer.changed, "refused input changed data:\n" + "\n".join(fuzzer.changed)
