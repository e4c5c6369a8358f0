"""The New enhancement form: what it accepts, what it refuses and how it says so."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from PIL import Image

from enhancer.intake import prepare_job
from enhancer.models import Batch, Job, Preferences
from tests.factories import image_bytes, photo

pytestmark = pytest.mark.django_db


def upload(name: str, data: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def post(client, files=None, **fields):
    data = {"scale": 2, "details": 2, "modification": 2, "output_format": "webp", "auto_fit": "on"}
    data.update(fields)
    if files is not None:
        data["images"] = files
    return client.post(reverse("enhance_new"), data)


def prepared() -> Job:
    """The one job, after the worker has checked its image (as `prepare_job` runs)."""
    job = Job.objects.get()
    prepare_job.call(str(job.id))
    job.refresh_from_db()
    return job


def test_the_page_has_the_labels_people_read(owner_client):
    page = owner_client.get(reverse("enhance_new")).content.decode()
    for label in (
        "Image file",
        "Image URL",
        "Enlarge",
        "Detail",
        "Change",
        "Format",
        "Title",
        "Advanced",
        "Seed",
        ">Enhance<",
        "1x (same size, details only)",
    ):
        assert label in page, label


def test_defaults_are_the_contracts(owner_client):
    form = owner_client.get(reverse("enhance_new")).context["form"]
    # An image over the area limit goes in tiles unless "Shrink to fit instead" is chosen.
    assert form.initial["auto_fit"] is False
    assert form["scale"].value() == 2
    assert form["details"].value() == 2
    assert form["modification"].value() == 2


def test_an_upload_stores_the_original_and_enqueues_without_calling_the_api(
    owner_client, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(owner_client, [upload("holiday.png", image_bytes(60, 40))], title="Beach")

    job = Job.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("job_detail", args=[job.id])
    # Stored as it came, to be decoded and checked by a worker, not in the web request.
    assert job.status == "preparing" and job.retry_note == "Checking the image…"
    assert job.title == "Beach" and job.original_name == "holiday.png"
    assert (job.original_width, job.original_height) == (60, 40)  # from the header
    assert job.original.name.startswith(f"originals/{job.id}")
    assert job.provider == "builtin" and job.team == team
    task = DBTaskResult.objects.get()
    assert task.task_path == "enhancer.intake.prepare_job"
    assert job.upstream_id == ""

    job = prepared()
    # The engine had room: the job left our queue at once, for a worker to send.
    assert job.status == "submitting" and job.dispatched_at is not None
    assert job.retry_note == "" and job.original.name.startswith(f"originals/{job.id}")


def test_several_files_make_a_batch(owner_client):
    files = [upload(f"p{i}.png", image_bytes(30, 20, seed=i)) for i in range(3)]
    response = post(owner_client, files)

    batch = Batch.objects.get()
    assert response.url == reverse("batch_detail", args=[batch.id])
    assert batch.jobs.count() == 3


def test_htmx_submission_swaps_in_cards_and_a_fresh_form(owner_client):
    response = owner_client.post(
        reverse("enhance_new"),
        {
            "images": [upload("a.png", image_bytes(30, 20))],
            "scale": 4,
            "details": 3,
            "modification": 1,
            "output_format": "png",
            "auto_fit": "on",
        },
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    job = Job.objects.get()
    assert response.status_code == 200
    assert f'id="job-{job.id}"' in html
    assert 'hx-swap-oob="afterbegin:#job-cards"' in html
    assert 'id="enhance-form"' in html
    assert "every 2s" in html  # the new card follows its job live


def test_the_last_choices_are_remembered_per_user(owner_client, admin_user_, teammate_client):
    post(
        owner_client,
        [upload("a.png", image_bytes(30, 20))],
        scale=8,
        details=3,
        modification=1,
        output_format="png",
    )

    assert Preferences.objects.get(user=admin_user_).enhance_defaults == {
        "scale": 8,
        "details": 3,
        "modification": 1,
        "output_format": "png",
        "made_for": "",
    }
    form = owner_client.get(reverse("enhance_new")).context["form"]
    assert form["scale"].value() == 8 and form["output_format"].value() == "png"
    other = teammate_client.get(reverse("enhance_new")).context["form"]
    assert other["scale"].value() == 2


def gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.png", b"hello, I am text", "not an image"),
        ("anim.png", gif(), "GIF"),
        ("empty.png", b"", "empty"),
    ],
)
def test_bad_files_are_refused_in_plain_words(owner_client, name, data, message):
    response = post(owner_client, [upload(name, data)])
    assert response.status_code == 200
    assert message.lower() in response.content.decode().lower()
    assert Job.objects.count() == 0


def test_a_damaged_file_fails_its_job_in_plain_words(owner_client):
    post(owner_client, [upload("cut.png", image_bytes(60, 40)[:200])])  # the header is whole

    job = prepared()

    assert job.status == "failed"
    assert "damaged or incomplete" in job.error_message


def test_files_over_the_byte_limit_are_refused(owner_client, settings):
    settings.DETAILER_MAX_UPLOAD_BYTES = 1000
    response = post(owner_client, [upload("big.png", image_bytes(80, 80))])
    assert "each image may be at most 1000 bytes" in response.content.decode()
    assert Job.objects.count() == 0


def test_a_decompression_bomb_is_refused(owner_client):
    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, "PNG")  # ~20 kB claiming 144 MP
    response = post(owner_client, [upload("bomb.png", buffer.getvalue())])
    assert Job.objects.count() == 0
    assert "too large to open safely" in response.content.decode()


def test_an_image_over_the_area_limit_is_fitted_and_says_so(owner_client):
    response = post(owner_client, [upload("wide.jpg", image_bytes(1600, 1000, fmt="JPEG"))])
    job = prepared()
    assert job.original_width * job.original_height <= 1_478_656
    assert job.original_width / job.original_height == pytest.approx(1.6, rel=0.01)
    assert "1600 x 1000" in job.fit_message
    follow = owner_client.get(response.url).content.decode()
    assert "reduced" in follow


def test_without_shrinking_an_oversized_image_is_kept_whole_and_sent_in_tiles(owner_client):
    data = {
        "scale": 2,
        "details": 2,
        "modification": 2,
        "output_format": "webp",
        "images": [upload("wide.jpg", image_bytes(1600, 1000, fmt="JPEG"))],
    }
    owner_client.post(reverse("enhance_new"), data)
    job = prepared()
    assert (job.original_width, job.original_height) == (1600, 1000)
    assert job.tile_count == 2 and job.fit_message == ""
    assert Job.all_objects.filter(parent=job).count() == 2


def test_a_batch_keeps_the_good_files_and_names_the_bad_ones(owner_client):
    files = [upload("good.png", image_bytes(30, 20)), upload("bad.png", b"nope")]
    response = post(owner_client, files)
    assert Job.objects.count() == 1
    page = owner_client.get(response.url).content.decode()
    assert "bad.png" in page


def test_metadata_is_removed_before_storing(owner_client):
    image = photo(40, 30)
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPS latitude
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    post(owner_client, [upload("gps.jpg", buffer.getvalue(), "image/jpeg")])

    stored = prepared().original.open("rb").read()
    assert b"SecretCam" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_exif_orientation_is_applied(owner_client):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees
    buffer = io.BytesIO()
    photo(40, 20).save(buffer, "JPEG", exif=exif.tobytes())
    post(owner_client, [upload("phone.jpg", buffer.getvalue(), "image/jpeg")])
    job = prepared()
    assert (job.original_width, job.original_height) == (20, 40)


def test_nothing_chosen_is_a_clear_error(owner_client):
    response = post(owner_client)
    assert "Choose an image file or paste an image URL" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:10.0.0.1]/a.png",
        "http://localhost:8000/a.png",
    ],
)
def test_urls_to_private_addresses_are_refused(owner_client, url):
    response = post(owner_client, image_url=url)
    assert Job.objects.count() == 0
    assert "field-invalid" in response.content.decode()


def test_a_url_is_fetched_through_the_guard_when_allowed(owner_client, scripted_server, settings):
    from urllib.parse import urlsplit

    settings.DETAILER_SSRF_ALLOW_HOSTS = [urlsplit(scripted_server.url).netloc]
    scripted_server.script(
        "GET", "/pics/cat.png", (200, image_bytes(50, 40), {"Content-Type": "image/png"})
    )

    response = post(owner_client, image_url=f"{scripted_server.url}/pics/cat.png")

    # Never fetched inside the web request: the card says what the worker is doing.
    job = Job.objects.get()
    assert response.status_code == 302 and job.status == "preparing"
    assert job.retry_note == "Fetching the image from 127.0.0.1…"
    assert not scripted_server.requests
    job = prepared()
    assert job.status == "submitting"
    assert job.original_name == "cat.png"
    assert (job.original_width, job.original_height) == (50, 40)


def test_a_url_that_cannot_be_fetched_fails_its_job_with_the_reason(
    owner_client, scripted_server, settings
):
    from urllib.parse import urlsplit

    settings.DETAILER_SSRF_ALLOW_HOSTS = [urlsplit(scripted_server.url).netloc]
    scripted_server.script("GET", "/pics/gone.png", (404, b"no"))

    post(owner_client, image_url=f"{scripted_server.url}/pics/gone.png")

    job = prepared()
    assert job.status == "failed"
    assert "404" in job.error_message or "not found" in job.error_message.lower()


def test_a_url_to_a_web_page_says_what_to_do_instead(owner_client, scripted_server, settings):
    from urllib.parse import urlsplit

    settings.DETAILER_SSRF_ALLOW_HOSTS = [urlsplit(scripted_server.url).netloc]
    scripted_server.script(
        "GET", "/gallery", (200, b"<html>a page</html>", {"Content-Type": "text/html"})
    )

    post(owner_client, image_url=f"{scripted_server.url}/gallery")

    job = prepared()  # fetched by the worker, which fails the job in these words
    assert job.status == "failed"
    assert job.error_message == (
        "The link to 127.0.0.1 led to something that is not a picture. Open it in a browser and "
        "copy the address of the picture itself (JPEG, PNG or WebP)."
    )


def test_run_again_prefills_the_settings(owner_client, team, admin_user_):
    post(
        owner_client,
        [upload("a.png", image_bytes(30, 20))],
        scale=4,
        details=3,
        modification=1,
        output_format="png",
        seed=42,
        title="Again",
    )
    job = Job.objects.get()
    Preferences.objects.all().delete()
    form = owner_client.get(reverse("enhance_new") + f"?from={job.id}").context["form"]
    assert form["scale"].value() == 4
    assert form["seed"].value() == 42
    assert form["title"].value() == "Again"


def test_run_again_checks_team(outsider_client, owner_client):
    post(owner_client, [upload("a.png", image_bytes(30, 20))])
    job = Job.objects.get()
    assert outsider_client.get(reverse("enhance_new") + f"?from={job.id}").status_code == 404
    assert owner_client.get(reverse("enhance_new") + "?from=nonsense").status_code == 404
