"""Bounded input: capped text, no control characters, Markdown that costs linear time, links the column holds,
and admin actions on ids that exist."""

import time

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from bookings import services as booking_services
from bookings.models import Booking, SupportTicket
from mentorship import rich_text
from mentorship.models import MentorProfile

from .factories import UserFactory, bookable_mentor
from .test_payments import held_and_paid

pytestmark = pytest.mark.django_db

CAP = rich_text.BIO_MAX_LENGTH
# Input Python-Markdown took seconds to minutes on (4,000 `[` took 9.5 s; 12,000 took over 30 s): unclosed
# brackets and images, brackets on lines, unfinished links, emphasis runs, angle brackets and entities.
PATHOLOGICAL = {
    "brackets": "[" * CAP,
    "images": "![" * (CAP // 2),
    "bracket lines": "[\n" * (CAP // 2),
    "open links": "[a](" * (CAP // 4),
    "bracket parens": "[(" * (CAP // 2),
    "nested brackets": "[a " * (CAP // 6) + "]" * (CAP // 6),
    "emphasis": "*a**" * (CAP // 4),
    "mixed emphasis": "*_" * (CAP // 2),
    "angle brackets": "<" * CAP,
    "tags": "<a " * (CAP // 3),
    "entities": "&" * CAP,
    "backticks": "``a" * (CAP // 3),
    "quotes": "> " * (CAP // 2),
}


def _profile_form(mentor, **extra):
    return {"headline": mentor.headline, "bio": mentor.bio, "expertise": mentor.expertise, "languages": "English"}


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("pattern", PATHOLOGICAL)
def test_the_worst_bio_of_the_capped_length_renders_in_well_under_a_second(pattern):
    text = PATHOLOGICAL[pattern]
    assert len(text) <= CAP
    began = time.perf_counter()
    rich_text.bio_html(text)
    assert time.perf_counter() - began < 1.0


def test_rendering_grows_linearly_with_the_worst_input():
    """Four times the brackets take about four times as long (Python-Markdown took over 16 times as long)."""

    def best_of_three(text):
        times = []
        for _ in range(3):
            began = time.perf_counter()
            rich_text.bio_html(text)
            times.append(time.perf_counter() - began)
        return min(times)

    small, large = best_of_three("[" * 5000), best_of_three("[" * 20000)
    assert large < 8 * small + 0.05


def test_the_profile_shows_the_html_stored_when_the_bio_was_saved(client):
    mentor = bookable_mentor(bio="I **love** teaching.")
    assert mentor.bio_html == "<p>I <strong>love</strong> teaching.</p>\n"
    # Changed behind the model's back: the page still shows the stored HTML, so no view renders Markdown.
    MentorProfile.objects.filter(pk=mentor.pk).update(bio="I **hate** teaching.")
    page = client.get(reverse("mentor_profile", args=[mentor.pk])).content.decode()
    assert "<strong>love</strong>" in page and "hate" not in page


def test_saving_the_profile_renders_the_bio_once_and_sanitised(client):
    mentor = bookable_mentor()
    client.force_login(mentor.user)
    bio = "## Me\n\n[site](https://example.com) [bad](javascript:alert(1)) <script>x</script>"
    response = client.post(reverse("mentor_profile_edit"), {**_profile_form(mentor), "bio": bio})
    assert response.status_code == 302
    mentor.refresh_from_db()
    assert mentor.bio == bio
    assert "<h3>Me</h3>" in mentor.bio_html
    assert '<a href="https://example.com" rel="nofollow noopener noreferrer">site</a>' in mentor.bio_html
    assert "<script" not in mentor.bio_html and 'href="javascript' not in mentor.bio_html


@pytest.mark.parametrize("length", [CAP + 1, 1_000_000])
def test_a_bio_over_the_cap_is_refused_and_nothing_is_saved(client, length):
    mentor = bookable_mentor(bio="Short.")
    client.force_login(mentor.user)
    response = client.post(reverse("mentor_profile_edit"), {**_profile_form(mentor), "bio": "a" * length})
    assert response.status_code == 400
    assert f"Ensure this value has at most {CAP} characters" in response.content.decode()
    mentor.refresh_from_db()
    assert mentor.bio == "Short."


def test_a_megabyte_application_is_refused(client):
    user = UserFactory()
    client.force_login(user)
    form = {"headline": "Mentor", "bio": "Bio", "expertise": "Django", "languages": "English"}
    for field in ("bio", "motivation"):
        response = client.post(reverse("become_mentor"), {**form, "motivation": "Why", field: "a" * 1_000_000})
        assert response.status_code == 200 and "Ensure this value has at most" in response.content.decode()
    assert not MentorProfile.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("headline", "Mentor\x1b[31m", "Remove the invisible control characters"),
        ("headline", "Mentor\u202eevil", "Remove the invisible control characters"),
        ("headline", "Two\nlines", "Write this on one line."),
        ("bio", "Bell\x07", "Remove the invisible control characters"),
        ("bio", "Nul\x00", "Null characters are not allowed."),
    ],
)
def test_control_characters_are_refused_with_a_message(client, field, value, message):
    mentor = bookable_mentor(bio="Short.")
    client.force_login(mentor.user)
    response = client.post(reverse("mentor_profile_edit"), {**_profile_form(mentor), field: value})
    assert response.status_code == 400 and message in response.content.decode()
    mentor.refresh_from_db()
    assert (mentor.headline, mentor.bio) == ("Staff engineer who loves teaching", "Short.")


def test_line_breaks_and_tabs_are_fine_in_multi_line_text(client):
    mentor = bookable_mentor()
    client.force_login(mentor.user)
    bio = "First line\r\n\tindented\nlast"
    assert client.post(reverse("mentor_profile_edit"), {**_profile_form(mentor), "bio": bio}).status_code == 302
    mentor.refresh_from_db()
    assert mentor.bio == bio


@pytest.fixture
def paid_booking(stripe_server):
    return held_and_paid(stripe_server)


@pytest.mark.stripe
@pytest.mark.django_db(transaction=True)
def test_a_decline_reason_over_its_cap_is_refused_and_nothing_is_declined(client, paid_booking):
    client.force_login(paid_booking.mentor.user)
    response = client.post(reverse("booking_decline", args=[paid_booking.pk]), {"reason": "a" * 301})
    assert response.status_code == 302
    assert _messages(response) == ["Not declined: Ensure this value has at most 300 characters (it has 301)."]
    paid_booking.refresh_from_db()
    assert paid_booking.status == Booking.Status.PENDING
    response = client.post(reverse("booking_decline", args=[paid_booking.pk]), {"reason": "Ill that week"})
    paid_booking.refresh_from_db()
    assert paid_booking.status == Booking.Status.DECLINED
    assert paid_booking.events.last().note == "Ill that week"


@pytest.mark.stripe
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        ("booking_cancel", {"reason": "a\x00b"}, "Not cancelled: Null characters are not allowed."),
        ("booking_support", {"note": "a" * 2001}, "Not sent: Ensure this value has at most 2000 characters"),
        ("booking_suggest", {"note": "x\x1b"}, "Not sent: Remove the invisible control characters"),
    ],
)
def test_notes_with_nul_or_over_the_cap_are_refused_with_a_message(client, paid_booking, url, data, message):
    client.force_login(paid_booking.mentee if url != "booking_suggest" else paid_booking.mentor.user)
    response = client.post(reverse(url, args=[paid_booking.pk]), data)
    assert response.status_code == 302
    assert _messages(response)[0].startswith(message)
    paid_booking.refresh_from_db()
    assert paid_booking.status == Booking.Status.PENDING
    assert not SupportTicket.objects.exists() and not paid_booking.suggestions.exists()


@pytest.mark.stripe
@pytest.mark.django_db(transaction=True)
def test_links_up_to_the_column_are_kept_and_longer_ones_refused(client, paid_booking):
    booking_services.booking_confirm(paid_booking.pk, actor=paid_booking.mentor.user)
    client.force_login(paid_booking.mentor.user)
    url = reverse("booking_links", args=[paid_booking.pk])
    long_link = "https://meet.example.com/" + "a" * 470  # 495 characters: more than the old 200
    response = client.post(url, {"meeting_link": long_link, "availability_link": ""})
    paid_booking.refresh_from_db()
    assert paid_booking.meeting_link == long_link, _messages(response)
    response = client.post(url, {"meeting_link": long_link + "b" * 10, "availability_link": ""})
    assert "Ensure this value has at most 500 characters (it has 505)." in _messages(response)
    paid_booking.refresh_from_db()
    assert paid_booking.meeting_link == long_link


@pytest.mark.parametrize("selected", ["abc", "1e400", "99999999999999999999999", "-1", "1\x00"])
def test_a_tampered_admin_selection_gets_a_message_and_changes_nothing(client, selected):
    staff = UserFactory(is_staff=True, is_superuser=True)
    applicant = bookable_mentor(status=MentorProfile.Status.APPLIED)
    client.force_login(staff)
    response = client.post(
        reverse("admin:mentorship_mentorprofile_changelist"),
        {"action": "approve", "_selected_action": [str(applicant.pk), selected]},
    )
    assert response.status_code == 302
    assert _messages(response) == ["Some selected items do not exist. No items have been changed."]
    applicant.refresh_from_db()
    assert applicant.status == MentorProfile.Status.APPLIED


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_form_of_ours_caps_its_text_and_refuses_control_characters():
    import django.urls
    from django import forms

    from mentorship.input_rules import BoundedForm

    django.urls.get_resolver().url_patterns  # noqa: B018 - imports every view, and so every form
    ours = [
        form
        for form in {*_subclasses(forms.Form), *_subclasses(forms.ModelForm)}
        if form.__module__.split(".")[0] in {"mentorship", "bookings", "payments", "notifications"}
    ]
    assert len(ours) > 20
    assert [form.__name__ for form in ours if not issubclass(form, BoundedForm)] == []
