"""Every image in an S3-compatible bucket (moto's S3 server on loopback), none on local disk."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image

from enhancer.models import Job
from tests.conftest import run_tasks
from tests.factories import image_bytes, make_job
from tests.s3_server import bucket_keys, s3_client

pytestmark = pytest.mark.django_db(transaction=True)


def local_files() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_job_lives_in_the_bucket_from_upload_to_download(
    site, owner_client, s3_endpoint, s3_bucket
):
    data = image_bytes(48, 32)
    owner_client.post(
        reverse("enhance_new"),
        {
            "scale": 2,
            "details": 3,
            "modification": 2,
            "output_format": "webp",
            "images": [SimpleUploadedFile("harbour.png", data)],
        },
    )
    job = Job.objects.get()
    run_tasks()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message

    keys = bucket_keys(s3_endpoint, s3_bucket)
    assert job.original.name in keys and job.result.name in keys and job.thumbnail.name in keys
    # The engine's input and result went through the bucket too, and were deleted there once
    # the result was collected; nothing ever touched the local disk.
    assert not any(key.startswith("engine/") for key in keys)
    assert local_files() == []

    result = owner_client.get(reverse("job_result", args=[job.id]))
    assert result.status_code == 200
    assert result["Content-Disposition"] == 'attachment; filename="harbour-2x.webp"'
    assert result["Content-Type"] == "image/webp"
    stored = s3_client(s3_endpoint).get_object(Bucket=s3_bucket, Key=job.result.name)
    expected = stored["Body"].read()
    assert body(result) == expected
    assert int(result["Content-Length"]) == len(expected)
    assert Image.open(io.BytesIO(expected)).size == (96, 64)

    original = owner_client.get(reverse("job_original", args=[job.id]) + "?inline")
    assert original["Content-Disposition"] == 'inline; filename="harbour.png"'
    assert body(original) == data
    thumbnail = owner_client.get(reverse("job_thumbnail", args=[job.id]))
    assert Image.open(io.BytesIO(body(thumbnail))).format == "WEBP"


def test_downloads_from_the_bucket_keep_their_access_checks(
    s3_bucket, team, admin_user_, owner_client, outsider_client
):
    job = make_job(team, admin_user_, status="succeeded")
    for view in ("job_result", "job_original", "job_thumbnail"):
        assert outsider_client.get(reverse(view, args=[job.id])).status_code == 404
        assert owner_client.get(reverse(view, args=[job.id])).status_code == 200


def test_a_file_missing_from_the_bucket_is_a_404(s3_bucket, team, admin_user_, owner_client):
    job = make_job(team, admin_user_, status="succeeded")
    default_storage.delete(job.result.name)
    assert owner_client.get(reverse("job_result", args=[job.id])).status_code == 404


def test_a_batch_zip_streams_from_the_bucket(s3_bucket, team, admin_user_, owner_client):
    from enhancer.models import Batch

    batch = Batch.objects.create(team=team, created_by=admin_user_)
    jobs = [
        make_job(team, admin_user_, status="succeeded", batch=batch, name=f"p{i}.png")
        for i in range(3)
    ]
    response = owner_client.get(reverse("batch_download", args=[batch.id]))
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert sorted(archive.namelist()) == ["p0-2x.png", "p1-2x.png", "p2-2x.png"]
    for job in jobs:
        name = job.result_download_name()
        with default_storage.open(job.result.name, "rb") as stored:
            assert archive.read(name) == stored.read()
    assert local_files() == []


# --- migrate_media_to_bucket -------------------------------------------------------------------


def fill_local_media(root: Path) -> dict[str, bytes]:
    local = FileSystemStorage(location=root)
    files = {
        "originals/a.png": image_bytes(30, 20, seed=1),
        "results/a-2x.png": image_bytes(60, 40, seed=1),
        "thumbnails/a.webp": image_bytes(20, 20, fmt="WEBP"),
        "engine/results/0f/result.webp": image_bytes(60, 40, fmt="WEBP"),
    }
    for name, data in files.items():
        local.save(name, ContentFile(data))
    return files


def test_migrate_media_copies_verifies_and_resumes(s3_endpoint, s3_bucket, tmp_path):
    files = fill_local_media(tmp_path / "old-media")
    out = io.StringIO()
    call_command("migrate_media_to_bucket", source=str(tmp_path / "old-media"), stdout=out)
    assert "Copied 4 file(s)" in out.getvalue()
    assert "0 failed" in out.getvalue()
    client = s3_client(s3_endpoint)
    for name, data in files.items():
        stored = client.get_object(Bucket=s3_bucket, Key=name)
        assert stored["Body"].read() == data
        assert stored["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()

    # An interrupted run is resumed: what is there (same size and hash) is skipped, a damaged
    # or missing copy is copied again.
    client.delete_object(Bucket=s3_bucket, Key="originals/a.png")
    client.put_object(Bucket=s3_bucket, Key="results/a-2x.png", Body=b"half an upload")
    again = io.StringIO()
    call_command("migrate_media_to_bucket", source=str(tmp_path / "old-media"), stdout=again)
    assert "Copied 2 file(s)" in again.getvalue()
    assert "2 already in the bucket" in again.getvalue()
    for name, data in files.items():
        assert client.get_object(Bucket=s3_bucket, Key=name)["Body"].read() == data


def test_migrate_media_needs_a_bucket(tmp_path):
    with pytest.raises(CommandError, match="set DETAILER_S3_BUCKET"):
        call_command("migrate_media_to_bucket", source=str(tmp_path))


# --- Settings ---------------------------------------------------------------------------------


def settings_in_subprocess(tmp_path, **env) -> str:
    import os
    import subprocess
    import sys

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DETAILER_S3_", "AWS_"))}
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "d = settings.STORAGES['default']; o = d.get('OPTIONS', {}); "
        "print(d['BACKEND'], o.get('bucket_name'), o.get('region_name'), o.get('endpoint_url'), "
        "o.get('addressing_style'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "detailer_site.settings",
            "DETAILER_DATA_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
    )
    return (done.stdout + done.stderr).strip()


def test_local_disk_is_the_default(tmp_path):
    out = settings_in_subprocess(tmp_path)
    assert out.startswith("django.core.files.storage.FileSystemStorage")


def test_the_bucket_variables_switch_storage_to_s3(tmp_path):
    assert settings_in_subprocess(tmp_path, DETAILER_S3_BUCKET="photos") == (
        "storages.backends.s3.S3Storage photos us-east-1 None None"
    )
    assert settings_in_subprocess(
        tmp_path,
        DETAILER_S3_BUCKET="photos",
        DETAILER_S3_ENDPOINT_URL="https://minio.internal:9000/",
        DETAILER_S3_REGION="eu-central-1",
    ) == ("storages.backends.s3.S3Storage photos eu-central-1 https://minio.internal:9000 path")


def test_a_bad_endpoint_is_refused_with_a_clear_message(tmp_path):
    out = settings_in_subprocess(
        tmp_path, DETAILER_S3_BUCKET="photos", DETAILER_S3_ENDPOINT_URL="minio:9000"
    )
    assert "DETAILER_S3_ENDPOINT_URL must be an http(s) URL, not 'minio:9000'" in out
