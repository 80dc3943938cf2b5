"""Every address that names an object (an id, a reference or a secret) is closed to everyone but its owner.

The URL patterns are read from mentorship.urls (ours and the admin; allauth's own pages take no ids of ours),
so a new view with an id the map below doesn't know makes this test fail rather than go unchecked.
For each one, an anonymous visitor, another mentee and another mentor send a GET and a POST at a real object
of mentee A or mentor A: each must be denied (sent to sign in, 403, 404, 405 for a method the view does not
take, or sent back with a refusal message) and nothing in the database may change. Public pages are
allow-listed below, each with the reason.
"""

import io
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import constants, get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver, include, path, reverse
from django.utils import timezone
from PIL import Image

from bookings import packages, selectors
from bookings import services as booking_services
from mentorship import photos
from mentorship import services as mentor_services
from mentorship.urls import urlpatterns
from notifications import conversations
from notifications import services as notification_services

from .factories import UserFactory, bookable_mentor
from .test_payments import pay

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stripe]

ROLES = ("anonymous", "other_mentee", "other_mentor")
SIGNED_IN = ("other_mentee", "other_mentor")
# Apps whose rows must not change when a stranger knocks: ours, the admin log, allauth's addresses and factors.
WATCHED_APPS = ("mentorship", "bookings", "payments", "notifications", "admin", "account", "mfa")


@dataclass
class Pattern:
    name: str  # "booking_detail", "admin:bookings_booking_change"; an unnamed one is known by its route
    unnamed: bool
    params: list[str]
    route: str  # the whole route, e.g. "admin/bookings/booking/<path:object_id>/"
    model_admin: object = None


def patterns_with_parameters(urlpatterns=None) -> dict[str, Pattern]:
    """Every pattern of ours (mentorship.urls, or these) and of the admin that takes a parameter, by name."""
    found: dict[str, Pattern] = {}

    def walk(patterns, namespace: str, inherited: list[str], prefix: str) -> None:
        for entry in patterns:
            params = [*inherited, *entry.pattern.regex.groupindex]
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if getattr(entry.urlconf_name, "__name__", entry.urlconf_name) == "allauth.urls":
                    continue  # sign-in, sign-up, e-mail and password pages: keyed by the session, not by our ids
                inner = ":".join(part for part in (namespace, entry.namespace) if part)
                walk(entry.url_patterns, inner, params, route)
            elif params:
                label = entry.name or route
                name = f"{namespace}:{label}" if namespace else label
                found[name] = Pattern(name, not entry.name, params, route, getattr(entry.callback, "model_admin", None))

    walk(urlpatterns if urlpatterns is not None else get_resolver("mentorship.urls").url_patterns, "", [], "/")
    return found


@dataclass
class World:
    """Mentee A's and mentor A's things, and the other people who try to reach them."""

    mentor: object
    mentee: object
    service: object
    package: object
    paid: object  # pending: paid by mentee A, waiting for mentor A
    held: object  # held for checkout by mentee A
    payment: object
    purchase: object
    conversation: object
    feed_token: str
    people: dict = field(default_factory=dict)


def _photo():
    out = io.BytesIO()
    Image.new("RGB", (400, 400), (200, 80, 40)).save(out, format="PNG")
    return photos.square_jpeg(SimpleUploadedFile("me.png", out.getvalue(), content_type="image/png"))


@pytest.fixture
def world(stripe_server, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path
    mentor = bookable_mentor()
    mentor_services.mentor_profile_update(
        mentor, headline=mentor.headline, bio=mentor.bio, expertise=mentor.expertise, photo=_photo()
    )
    mentee = UserFactory()
    service = mentor.services.get(duration_minutes=30)
    package = packages.package_save(mentor, service=service, sessions=3, price_cents=10000, valid_days=60)
    now = timezone.now()
    first, second = selectors.open_slots(service, start=now + timedelta(days=3), end=now + timedelta(days=5))[:2]
    paid = booking_services.booking_hold(mentee=mentee, service=service, start=first)
    payment = pay(stripe_server, paid)
    held = booking_services.booking_hold(mentee=mentee, service=service, start=second)
    purchase = packages.purchase_start(mentee=mentee, package_id=package.pk)
    conversations.message_send(sender=mentee, mentee=mentee, mentor=mentor, body="Hello, about my session")
    conversation = mentee.conversations.get()
    return World(
        mentor=mentor,
        mentee=mentee,
        service=service,
        package=package,
        paid=paid,
        held=held,
        payment=payment,
        purchase=purchase,
        conversation=conversation,
        feed_token=notification_services.calendar_feed_token(mentee),
        people={"other_mentee": UserFactory(), "other_mentor": bookable_mentor().user},
    )


@dataclass
class Target:
    """How to build the address for a real object, who owns it, and who else may open it (and why)."""

    kwargs: object  # World -> dict
    owner: str  # "mentee" or "mentor": this one must reach it (proves the object and address are real)
    allowed: dict = field(default_factory=dict)  # role -> why that role may open it


def booking(which="paid", owner="mentee"):
    return Target(lambda w: {"booking_id": getattr(w, which).pk}, owner)


PUBLIC_PROFILE = "a mentor's public profile: everyone may see it"
ANY_SIGNED_IN = "any signed-in person may {}; what it creates is their own"

# Every pattern of ours that takes a parameter. A new one must be added here, with its owner.
OBJECTS = {
    "mentor_service_edit": Target(lambda w: {"service_id": w.service.pk}, "mentor"),
    "mentor_service_move": Target(lambda w: {"service_id": w.service.pk}, "mentor"),
    "package_edit": Target(lambda w: {"package_id": w.package.pk}, "mentor"),
    "package_buy": Target(
        lambda w: {"package_id": w.package.pk},
        "mentee",
        {role: ANY_SIGNED_IN.format("buy a listed package") for role in SIGNED_IN},
    ),
    "booking_use_credit": booking("held"),
    "package_checkout": Target(lambda w: {"purchase_id": w.purchase.pk}, "mentee"),
    "package_pay": Target(lambda w: {"purchase_id": w.purchase.pk}, "mentee"),
    "package_authenticated": Target(lambda w: {"purchase_id": w.purchase.pk}, "mentee"),
    "mentor_profile": Target(lambda w: {"mentor_id": w.mentor.pk}, "mentee", dict.fromkeys(ROLES, PUBLIC_PROFILE)),
    "mentor_photo": Target(lambda w: {"mentor_id": w.mentor.pk}, "mentee", dict.fromkeys(ROLES, PUBLIC_PROFILE)),
    "mentor_times": Target(lambda w: {"mentor_id": w.mentor.pk}, "mentee", dict.fromkeys(ROLES, PUBLIC_PROFILE)),
    "book": Target(
        lambda w: {"mentor_id": w.mentor.pk},
        "mentee",
        {role: ANY_SIGNED_IN.format("book a listed mentor") for role in SIGNED_IN},
    ),
    "booking_detail": booking(),
    "booking_confirm": booking(owner="mentor"),
    "booking_decline": booking(owner="mentor"),
    "booking_complete": booking(owner="mentor"),
    "booking_cancel": booking(),
    "booking_reschedule": booking(),
    "booking_rebook": booking(),
    "booking_take_refund": booking(),
    "booking_links": booking(owner="mentor"),
    "booking_no_show": booking(),
    "booking_suggest": booking(owner="mentor"),
    "booking_accept": booking(),
    "booking_ics": booking(),
    "booking_support": booking(),
    "grant_refund": booking(owner="mentor"),
    "checkout": booking("held"),
    "checkout_pay": booking("held"),
    "checkout_authenticated": booking("held"),
    "receipt": Target(lambda w: {"payment_id": w.payment.pk}, "mentee"),
    "booking_review": booking(),
    "review_reply": booking(owner="mentor"),
    "conversation": Target(lambda w: {"conversation_id": w.conversation.pk}, "mentee"),
    "message_mentor": Target(
        lambda w: {"mentor_id": w.mentor.pk},
        "mentee",
        {role: ANY_SIGNED_IN.format("write to a listed mentor") for role in SIGNED_IN},
    ),
    "message_about_booking": booking(),
    "calendar_feed": Target(
        lambda w: {"token": w.feed_token},
        "mentee",
        dict.fromkeys(ROLES, "the secret in the address is the credential: calendar apps fetch it without signing in"),
    ),
}

# What a POST carries: plausible values for every form of these views, so a check that happens only after
# the form is valid is reached too.
POST_DATA = {
    "note": "Please look at this",
    "reason": "Because I say so",
    "body": "Hello from someone else",
    "message": "Hi",
    "rating": "5",
    "text": "Great",
    "reply": "Thanks",
    "meeting_link": "https://meet.example.com/other",
    "amount": "10.00",
    "title": "Taken over",
    "description": "x",
    "format": "online",
    "duration_minutes": "30",
    "price": "1",
    "sessions": "2",
    "valid_days": "30",
    "is_active": "on",
    "buffer_before_minutes": "0",
    "buffer_after_minutes": "0",
    "cancellation_window_hours": "24",
    "direction": "up",
    "payment_method": "pm_card_visa",
    "confirm": "yes",
}


def snapshot() -> dict:
    """Every row of the watched apps, field by field."""
    rows = {}
    for model in apps.get_models():
        if model._meta.app_label in WATCHED_APPS:
            rows[model._meta.label] = sorted(map(repr, model.objects.order_by("pk").values()))
    return rows


def sign_in(client, world: World, role: str) -> None:
    client.logout()
    if role != "anonymous":
        client.force_login(world.people[role])


def denied(response, role: str) -> bool:
    """Refused: not found, forbidden, a method the view doesn't take, or sent away (to sign in; a signed-in
    person who isn't a mentor to the mentor application; anyone else back with a refusal message)."""
    if response.status_code in (403, 404, 405):
        return True
    if response.status_code != 302:
        return False
    if role == "anonymous":
        return response.url.startswith((reverse("account_login"), reverse("admin:login")))
    if response.url == reverse("become_mentor"):
        return True
    return any(message.level == constants.ERROR for message in get_messages(response.wsgi_request))


def post_data(world: World) -> dict:
    start = selectors.open_slots(
        world.service, start=timezone.now() + timedelta(days=6), end=timezone.now() + timedelta(days=8)
    )[0]
    return {
        **POST_DATA,
        "start": start.isoformat(),
        "service": world.service.pk,
        "purchase": world.purchase.pk,
        "suggestion": "1",
    }


def uncovered(urlpatterns=None) -> set[str]:
    return {name for name in patterns_with_parameters(urlpatterns) if not name.startswith("admin:")} - set(OBJECTS)


def test_every_pattern_with_an_id_of_ours_is_in_the_map():
    missing = uncovered()
    assert not missing, f"URL patterns with ids that the access-control map does not cover: {sorted(missing)}"
    ours = set(patterns_with_parameters())
    assert not set(OBJECTS) - ours, f"Map entries for patterns that no longer exist: {sorted(set(OBJECTS) - ours)}"


def test_a_new_view_with_an_id_is_noticed():
    """The check above would fail for a view added tomorrow, wherever it is included."""

    def view(request, **kwargs):  # pragma: no cover - never called
        raise AssertionError

    added = [
        *urlpatterns,
        path("bookings/<int:booking_id>/export/", view, name="booking_export"),
        path("extra/", include([path("<str:reference>/", view, name="by_reference")])),
    ]
    assert uncovered(added) == {"booking_export", "by_reference"}


def test_no_one_else_reaches_or_changes_an_owners_objects(client, world):
    data = post_data(world)
    problems = []
    for name, target in OBJECTS.items():
        url = reverse(name, kwargs=target.kwargs(world))
        owner = world.mentee if target.owner == "mentee" else world.mentor.user
        client.force_login(owner)
        if client.get(url).status_code == 404:
            problems.append(f"{name}: its owner gets 404 at {url}, so this check proves nothing")
        for role in ROLES:
            if role in target.allowed:
                continue
            for method in ("get", "post"):
                sign_in(client, world, role)
                before = snapshot()
                response = getattr(client, method)(url, data) if method == "post" else client.get(url)
                if not denied(response, role):
                    where = f" -> {response.url}" if response.status_code == 302 else ""
                    problems.append(f"{method.upper()} {url} ({name}) as {role}: {response.status_code}{where}")
                if snapshot() != before:
                    problems.append(f"{method.upper()} {url} ({name}) as {role} changed the database")
    assert not problems, "\n".join(problems)


def test_allow_listed_public_pages_still_refuse_strangers_where_they_should(client, world):
    """The allow-list is narrow: anonymous visitors can't buy, book or write; a wrong feed secret shows nothing."""
    for name in ("package_buy", "book", "message_mentor"):
        url = reverse(name, kwargs=OBJECTS[name].kwargs(world))
        client.logout()
        before = snapshot()
        assert denied(client.post(url, post_data(world)), "anonymous"), name
        assert snapshot() == before, name
    assert client.get(reverse("calendar_feed", args=["not-the-secret"])).status_code == 404


def _admin_url(pattern: Pattern, world: World) -> str:
    model = pattern.model_admin.model if pattern.model_admin else None
    values = {}
    for param in pattern.params:
        if param == "object_id":
            first = model.objects.order_by("pk").first() if model else None
            values[param] = str(first.pk if first else 1)
        elif param == "content_type_id":
            values[param] = str(ContentType.objects.get_for_model(type(world.paid)).pk)
            values["object_id"] = str(world.paid.pk)
        elif param == "app_label":
            values[param] = "bookings"
        elif param == "id":  # the user admin's password page
            values[param] = str(world.mentee.pk)
        elif param == "url":  # the admin's catch-all
            values[param] = "no-such-page/"
        else:
            raise AssertionError(f"admin pattern {pattern.name} takes {param}: teach this test how to fill it")
    if pattern.unnamed:  # the admin's "<object_id>/" redirect to the change page
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], pattern.route)
    return reverse(pattern.name, kwargs=values)


def test_the_admin_is_closed_to_everyone_but_staff(client, world):
    admin_patterns = {name: p for name, p in patterns_with_parameters().items() if name.startswith("admin:")}
    assert "admin:bookings_booking_change" in admin_patterns  # the walk reaches into each model's admin
    data = post_data(world)
    problems = []
    for name, pattern in sorted(admin_patterns.items()):
        url = _admin_url(pattern, world)
        for role in ROLES:
            for method in ("get", "post"):
                sign_in(client, world, role)
                before = snapshot()
                response = client.post(url, data) if method == "post" else client.get(url)
                if not (response.status_code == 302 and response.url.startswith(reverse("admin:login"))):
                    problems.append(f"{method.upper()} {url} ({name}) as {role}: {response.status_code}")
                if snapshot() != before:
                    problems.append(f"{method.upper()} {url} ({name}) as {role} changed the database")
    assert not problems, "\n".join(problems)


BOOKING_ACTIONS = (
    "booking_confirm",
    "booking_decline",
    "booking_complete",
    "booking_links",
    "booking_no_show",
    "booking_suggest",
    "booking_accept",
    "booking_support",
    "grant_refund",
)


def test_a_stranger_is_not_told_that_someone_elses_booking_exists(client, world):
    """Not "only the mentor can do that" (which says the id is a booking): the same 404 as a missing one."""
    data = post_data(world)
    for name in BOOKING_ACTIONS:
        url = reverse(name, kwargs=OBJECTS[name].kwargs(world))
        for role in ("other_mentee", "other_mentor"):
            sign_in(client, world, role)
            assert client.post(url, data).status_code == 404, (name, role)
