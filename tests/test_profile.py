"""A mentor's public profile: photo, Markdown bio, languages, response time."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from bookings import selectors
from bookings.models import Booking, BookingEvent
from mentorship import services as mentor_services

from .factories import UserFactory, bookable_mentor

pytestmark = pytest.mark.django_db


def _image(fmt="PNG", size=(800, 600), exif=False) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 80, 40))
    extra = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "SpyCam"  # Make
        extra["exif"] = data.tobytes()
    image.save(out, format=fmt, **extra)
    return out.getvalue()


def _profile_form(mentor, **extra):
    return {
        "headline": mentor.headline,
        "bio": mentor.bio,
        "expertise": mentor.expertise,
        "languages": "English, German",
        **extra,
    }


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_photo_is_cropped_re_encoded_without_metadata_and_served(client, media):
    mentor = bookable_mentor()
    client.force_login(mentor.user)
    upload = SimpleUploadedFile("me.jpg", _image("JPEG", (900, 600), exif=True), content_type="image/jpeg")
    response = client.post(reverse("mentor_profile_edit"), _profile_form(mentor, photo=upload))
    assert response.status_code == 302
    mentor.refresh_from_db()
    served = client.get(mentor.photo_url)
    assert served["Content-Type"] == "image/jpeg" and "immutable" in served["Cache-Control"]
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert image.size == (400, 400) and image.format == "JPEG"
    assert not image.getexif()  # the camera's metadata is gone
    assert mentor.languages_list == ["English", "German"]
    profile = client.get(reverse("mentor_profile", args=[mentor.pk])).content.decode()
    assert mentor.photo_url.replace("&", "&amp;") in profile or mentor.photo_url in profile


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.4 not a picture", "not a photo we can read"),
        (_image("PNG", (60, 60)), "too small"),
        (_image("GIF", (300, 300)), "JPEG, PNG or WebP"),
    ],
)
def test_bad_photos_are_refused_and_nothing_changes(client, media, content, message):
    mentor = bookable_mentor()
    client.force_login(mentor.user)
    upload = SimpleUploadedFile("x.png", content, content_type="image/png")
    response = client.post(reverse("mentor_profile_edit"), _profile_form(mentor, headline="New", photo=upload))
    assert response.status_code == 400 and message in response.content.decode()
    mentor.refresh_from_db()
    assert not mentor.photo and mentor.headline != "New"


def test_removing_the_photo_deletes_the_file(client, media):
    mentor = bookable_mentor()
    client.force_login(mentor.user)
    upload = SimpleUploadedFile("me.png", _image(), content_type="image/png")
    client.post(reverse("mentor_profile_edit"), _profile_form(mentor, photo=upload))
    mentor.refresh_from_db()
    stored = media / mentor.photo.name
    assert stored.exists()
    client.post(reverse("mentor_profile_edit"), _profile_form(mentor, remove_photo="on"))
    mentor.refresh_from_db()
    assert not mentor.photo and not stored.exists()
    assert client.get(reverse("mentor_photo", args=[mentor.pk])).status_code == 404


def test_the_bio_is_markdown_without_anything_dangerous(client):
    mentor = bookable_mentor(
        bio="I **love** teaching.\n\n- Django\n- SQL\n\n[My blog](https://blog.example.com) "
        '<script>alert("x")</script> [bad](javascript:alert(1)) <img src=x onerror=alert(1)>'
    )
    page = client.get(reverse("mentor_profile", args=[mentor.pk])).content.decode()
    assert "<strong>love</strong>" in page and "<li>Django</li>" in page
    assert '<a href="https://blog.example.com" rel="nofollow noopener noreferrer">My blog</a>' in page
    # A javascript: link stays visible text, never a link; the tag's text is shown escaped, never as a tag.
    assert "<script>alert" not in page and 'href="javascript' not in page and "<img" not in page


def test_the_response_time_comes_from_history(client):
    mentor = bookable_mentor()
    page = client.get(reverse("mentor_profile", args=[mentor.pk])).content.decode()
    assert "usually confirms" not in page  # not enough history yet
    service = mentor.services.first()
    now = timezone.now()
    for index, wait in enumerate((timedelta(minutes=50), timedelta(hours=1, minutes=30), timedelta(hours=9))):
        paid = now - timedelta(days=10 + index)
        start = now + timedelta(days=10 + index)
        booking = Booking.objects.create(
            mentee=UserFactory(),
            mentor=mentor,
            service=service,
            start=start,
            end=start + timedelta(minutes=30),
            blocked_start=start,
            blocked_end=start + timedelta(minutes=30),
            status=Booking.Status.CONFIRMED,
            price_cents=4000,
            currency="usd",
            confirmed_at=paid + wait,
        )
        event = BookingEvent.objects.create(booking=booking, from_status="held", to_status="pending")
        BookingEvent.objects.filter(pk=event.pk).update(created_at=paid)
    assert selectors.typical_response(mentor) == timedelta(hours=1, minutes=30)
    mentor_services.availability_changed(mentor.pk)  # as confirming does; the rows above skipped the services
    page = client.get(reverse("mentor_profile", args=[mentor.pk])).content.decode()
    assert "usually confirms within 2 hours" in page
