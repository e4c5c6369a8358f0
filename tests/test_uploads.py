"""Oversized input is refused before it is read into memory, in plain words."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enhancer.models import Job
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db

FIELDS = {"scale": 2, "details": 2, "modification": 2, "output_format": "webp", "auto_fit": "on"}


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


def test_a_request_over_the_cap_is_refused_from_its_headers(owner_client, settings):
    settings.DETAILER_MAX_REQUEST_BYTES = 100 * 1024 * 1024
    # The declared length alone decides: the body is never read.
    response = owner_client.post(
        reverse("enhance_new"),
        {**FIELDS, "images": [upload("a.png", image_bytes(30, 20))]},
        CONTENT_LENGTH=str(200 * 1024 * 1024),
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "This upload is 200 MB; one sending may carry at most 100 MB" in page
    assert response["Connection"] == "close"
    assert Job.objects.count() == 0


def test_htmx_gets_the_refusal_in_the_form(owner_client, settings):
    settings.DETAILER_MAX_REQUEST_BYTES = 1024
    response = owner_client.post(
        reverse("enhance_new"),
        {**FIELDS, "images": [upload("a.png", image_bytes(60, 40))]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 413
    assert response["HX-Retarget"] == "#upload-refused"
    assert 'id="upload-refused"' in response.content.decode()
    assert "Send fewer or smaller images at a time." in response.content.decode()


def test_an_image_over_the_per_image_limit_is_dropped_as_it_arrives(owner_client, settings):
    big = image_bytes(200, 200)
    settings.DETAILER_MAX_UPLOAD_BYTES = len(big) - 1
    response = owner_client.post(
        reverse("enhance_new"), {**FIELDS, "images": [upload("huge.png", big)]}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "huge.png is" in page and "each image may be at most" in page
    assert "Choose an image file" not in page
    assert Job.objects.count() == 0


def test_a_batch_keeps_its_small_images_and_names_the_big_one(owner_client, settings):
    big = image_bytes(200, 200)
    settings.DETAILER_MAX_UPLOAD_BYTES = len(big) - 1
    response = owner_client.post(
        reverse("enhance_new"),
        {**FIELDS, "images": [upload("huge.png", big), upload("small.png", image_bytes(30, 20))]},
    )
    job = Job.objects.get()
    assert job.original_name == "small.png"
    page = owner_client.get(response.url).content.decode()
    assert "Not sent: huge.png: huge.png is" in page


def test_uploads_stream_to_temporary_files(settings):
    assert settings.FILE_UPLOAD_HANDLERS == ["enhancer.uploads.SizeLimitedUploadHandler"]


def test_the_form_says_the_limits_for_the_browser_to_check(owner_client, settings):
    page = owner_client.get(reverse("enhance_new")).content.decode()
    assert f'data-max-upload-bytes="{settings.DETAILER_MAX_UPLOAD_BYTES}"' in page
    assert f'data-max-request-bytes="{settings.DETAILER_MAX_REQUEST_BYTES}"' in page
    assert 'data-max-files="500"' in page  # a folder of 200 photos goes in one sending
    assert "Up to 160 MB each." in page


def test_a_post_with_only_an_oversized_file_says_so(owner_client, settings):
    big = image_bytes(200, 200)
    settings.DETAILER_MAX_UPLOAD_BYTES = len(big) - 1
    response = owner_client.post(reverse("enhance_new"), {"images": [upload("huge.png", big)]})
    assert response.status_code == 200
    assert "huge.png is" in response.content.decode()
