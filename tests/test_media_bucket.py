"""Photos on a bucket every machine shares (MEDIA_BUCKET), tested against a local S3 server: kept there, never
on the web machine's disk, and fetched by browsers from the bucket through a short-lived signed link (or the
public address), so no web worker streams them."""

import io
import json
import time
import urllib.request

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from mentorship import beat, media_storage

from .factories import bookable_mentor
from .s3_server import LocalS3
from .stripe_server import free_port
from .test_profile import _image, _profile_form
from .test_secure_defaults import REQUIRED, a_production_environment, settings_in_a_new_process

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def s3():
    server = LocalS3().start()
    yield server
    server.stop()


@pytest.fixture
def bucket(settings, s3, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # nothing may land here
    settings.MEDIA_BUCKET = s3.bucket
    settings.STORAGES = {**settings.STORAGES, "default": s3.storage()}
    for key in s3.object_names():
        s3.client().delete_object(Bucket=s3.bucket, Key=key)
    return s3


def _upload(client, mentor, name="me.jpg"):
    photo = SimpleUploadedFile(name, _image("JPEG", (900, 600), exif=True), content_type="image/jpeg")
    assert client.post(reverse("mentor_profile_edit"), _profile_form(mentor, photo=photo)).status_code == 302
    mentor.refresh_from_db()


def test_a_photo_is_kept_in_the_bucket_and_browsers_are_sent_there_for_it(client, bucket, tmp_path):
    mentor = bookable_mentor()
    client.force_login(mentor.user)

    _upload(client, mentor)

    assert bucket.object_names() == [mentor.photo.name] and not list(tmp_path.iterdir())
    served = client.get(mentor.photo_url)
    link = served["Location"]
    assert served.status_code == 302 and link.startswith(f"{bucket.endpoint_url}/{bucket.bucket}/{mentor.photo.name}?")
    assert "X-Amz-Signature=" in link and "X-Amz-Expires=3600" in link  # the bucket itself stays private
    assert served["Cache-Control"] == "public, max-age=3300"  # kept by the browser until shortly before it expires
    with urllib.request.urlopen(link, timeout=5) as answer:
        image = Image.open(io.BytesIO(answer.read()))
    assert image.size == (400, 400) and image.format == "JPEG" and not image.getexif()

    first = mentor.photo.name
    _upload(client, mentor, name="again.jpg")
    assert bucket.object_names() == [mentor.photo.name] and mentor.photo.name != first  # the old one is gone


def test_with_a_public_address_photos_are_linked_for_good_without_a_signature(client, bucket, settings):
    settings.MEDIA_PUBLIC_URL = "https://photos.example.com/media"
    settings.STORAGES = {**settings.STORAGES, "default": bucket.storage(public_url=settings.MEDIA_PUBLIC_URL)}
    mentor = bookable_mentor()
    client.force_login(mentor.user)
    _upload(client, mentor)

    served = client.get(mentor.photo_url)

    assert served["Location"] == f"https://photos.example.com/media/{mentor.photo.name}"
    assert served["Cache-Control"] == "public, max-age=31536000"  # a new photo gets a new name


def test_readiness_fails_while_the_bucket_cannot_be_reached(client, bucket, settings):
    with time_machine.travel(time.time(), tick=False):
        beat.ticked()
        assert client.get("/readyz").status_code == 200
        unreachable, _ = media_storage.bucket_storage(
            bucket=bucket.bucket, endpoint_url=f"http://127.0.0.1:{free_port()}", access_key="k", secret_key="s"
        )
        settings.STORAGES = {**settings.STORAGES, "default": unreachable}
        answer = client.get("/readyz")
    assert answer.status_code == 503 and json.loads(answer.content)["checks"]["media"].startswith("failing")


def test_a_deployer_names_the_bucket_and_the_content_policy_lets_browsers_load_photos_from_it(s3):
    env = a_production_environment(**REQUIRED, **s3.environment())
    done = settings_in_a_new_process(
        env, "settings.STORAGES['default']['BACKEND'], *settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["storages.backends.s3.S3Storage", "'self'", "data:", s3.endpoint_url]


def test_a_bucket_that_cannot_be_reached_costs_the_upload_not_the_page(client, bucket, settings):
    mentor = bookable_mentor()
    client.force_login(mentor.user)
    unreachable, _ = media_storage.bucket_storage(
        bucket=bucket.bucket, endpoint_url=f"http://127.0.0.1:{free_port()}", access_key="k", secret_key="s"
    )
    settings.STORAGES = {**settings.STORAGES, "default": unreachable}
    photo = SimpleUploadedFile("me.jpg", _image("JPEG", (900, 600)), content_type="image/jpeg")

    response = client.post(reverse("mentor_profile_edit"), _profile_form(mentor, headline="Changed", photo=photo))

    assert response.status_code == 400 and "We couldn&#x27;t store your photo just now" in response.content.decode()
    mentor.refresh_from_db()
    assert mentor.headline != "Changed" and not mentor.photo
