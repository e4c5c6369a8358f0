"""Provenance and Content Credentials, end to end against the built-in engine over real HTTP.

Every result the product hands out (download, batch ZIP, share page, share ZIP) must read back
with c2pa-python as validly signed, its only complaint the self-made signer
(`signingCredential.untrusted`), with the original's SHA-256 in its ingredient.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import zipfile

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enhancer.models import Job, ShareLink
from enhancer.provenance import credentials
from enhancer.provenance.signing import own_certificate, signing_credentials
from tests.conftest import run_tasks
from tests.factories import image_bytes, make_job

pytestmark = pytest.mark.django_db(transaction=True)
EDITED_AS = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


@pytest.fixture(autouse=True)
def _own_c2pa_dir(settings, tmp_path):
    settings.DETAILER_C2PA_DIR = tmp_path / "c2pa"


def submit(client, files, **fields) -> list[Job]:
    payload = {
        "scale": 2,
        "details": 2,
        "modification": 2,
        "output_format": "webp",
        "auto_fit": "on",
        "images": [SimpleUploadedFile(name, data) for name, data in files],
        **fields,
    }
    response = client.post(reverse("enhance_new"), payload)
    assert response.status_code == 302, response.content.decode()[:2000]
    return list(Job.objects.order_by("created_at"))


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def assert_signed_for(data: bytes, name: str, job: Job) -> credentials.CredentialsReport:
    report = credentials.read(data, name)
    assert report.present, f"{name} carries no Content Credentials"
    assert report.valid_but_untrusted, (report.state, report.problems)
    assert report.problems == ("signingCredential.untrusted",)
    assert report.ingredient_sha256 == job.original_sha256
    with job.original.open("rb") as original:
        assert hashlib.sha256(original.read()).hexdigest() == report.ingredient_sha256
    actions = report.actions
    assert [a["action"] for a in actions][:2] == ["c2pa.opened", "c2pa.edited"]
    assert actions[1]["digitalSourceType"] == EDITED_AS
    assert actions[1]["softwareAgent"]["name"] == "Detailer"
    assert "built-in engine" in actions[1]["softwareAgent"]["version"]
    return report


def test_a_downloaded_result_carries_valid_credentials_naming_its_original(site, owner_client):
    upload = image_bytes(48, 32, fmt="JPEG")
    (job,) = submit(owner_client, [("beach.jpg", upload)])

    run_tasks(queues=["default"], include_deferred=False, rounds=2)  # checked, then sent
    job.refresh_from_db()
    from enhancer.engine.models import Artwork

    # A seed was chosen and sent although nobody typed one, so Run again reproduces it.
    assert job.seed and 1 <= job.seed <= 2_147_483_647
    assert Artwork.objects.get(pk=job.upstream_id).parameters["seed"] == job.seed
    run_tasks()
    job.refresh_from_db()

    assert job.status == "succeeded", job.error_message
    assert job.has_credentials and not job.credentials_note
    download = body(owner_client.get(reverse("job_result", args=[job.id])))
    report = assert_signed_for(download, job.result.name, job)
    # Enlarged 2x: the third action says so.
    assert [a["action"] for a in report.actions] == ["c2pa.opened", "c2pa.edited", "c2pa.resized"]
    # The hashes: as uploaded (JPEG, before conversion), as stored, and of what is downloaded.
    assert job.upload_sha256 == hashlib.sha256(upload).hexdigest()
    assert job.result_sha256 == hashlib.sha256(download).hexdigest()


def test_same_size_results_carry_no_resized_action(site, owner_client):
    (job,) = submit(owner_client, [("a.png", image_bytes(40, 30))], scale=1, output_format="png")
    run_tasks()
    job.refresh_from_db()
    data = body(owner_client.get(reverse("job_result", args=[job.id])))
    report = assert_signed_for(data, job.result.name, job)
    assert [a["action"] for a in report.actions] == ["c2pa.opened", "c2pa.edited"]


def test_files_in_a_batch_zip_and_on_share_pages_carry_the_same_credentials(site, owner_client):
    jobs = submit(
        owner_client, [("one.png", image_bytes(40, 30)), ("two.png", image_bytes(36, 28, seed=2))]
    )
    run_tasks()
    for job in jobs:
        job.refresh_from_db()
        assert job.status == "succeeded" and job.has_credentials
    by_name = {job.result_download_name(): job for job in jobs}

    archive = zipfile.ZipFile(
        io.BytesIO(body(owner_client.get(reverse("batch_download", args=[jobs[0].batch_id]))))
    )
    for name in archive.namelist():
        assert_signed_for(archive.read(name), name, by_name[name])

    owner_client.post(reverse("share_batch", args=[jobs[0].batch_id]), {"expires_in_days": 7})
    token = ShareLink.objects.get().token
    anonymous = owner_client.__class__()
    shared = zipfile.ZipFile(
        io.BytesIO(body(anonymous.get(reverse("share_download_all", args=[token]))))
    )
    for name in shared.namelist():
        assert_signed_for(shared.read(name), name, by_name[name])
    for job in jobs:
        url = reverse("share_file", args=[token, job.id, "result"])
        assert_signed_for(body(anonymous.get(url)), job.result.name, job)


def test_a_team_may_switch_credentials_off(site, owner_client, team):
    team.content_credentials = False
    team.save()
    (job,) = submit(owner_client, [("a.png", image_bytes(40, 30))])
    run_tasks()
    job.refresh_from_db()

    assert job.status == "succeeded"
    assert not job.has_credentials
    assert not credentials.read(
        body(owner_client.get(reverse("job_result", args=[job.id]))), job.result.name
    ).present
    page = owner_client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert "Switched off in Team settings." in page


def test_provenance_json_tells_hashes_settings_seed_engine_people_and_versions(
    site, owner_client, admin_user_
):
    (first,) = submit(owner_client, [("a.png", image_bytes(40, 30))], seed=1234)
    run_tasks()
    # Run again on the very same file: a later version of the same original.
    submit(owner_client, [("a.png", image_bytes(40, 30))], details=3)
    run_tasks()
    first.refresh_from_db()
    second = Job.objects.exclude(pk=first.pk).get()

    response = owner_client.get(reverse("job_provenance", args=[first.id]))
    assert response["Content-Disposition"] == 'attachment; filename="a-provenance.json"'
    record = json.loads(response.content)
    assert record["original"]["uploadedSha256"] == first.upload_sha256
    assert record["original"]["storedSha256"] == first.original_sha256
    assert record["result"]["sha256"] == first.result_sha256
    assert record["result"]["contentCredentials"] is True
    assert record["settings"]["seed"] == 1234
    assert record["settings"]["detailsInWords"] == "Medium"
    assert record["provider"] == "Built-in engine (this server)"
    assert record["engine"].startswith("Detailer built-in engine")
    assert record["sentBy"] == admin_user_.username
    assert [v["id"] for v in record["laterVersions"]] == [str(second.id)]
    later = json.loads(owner_client.get(reverse("job_provenance", args=[second.id])).content)
    assert [v["id"] for v in later["earlierVersions"]] == [str(first.id)]

    page = owner_client.get(reverse("job_detail", args=[first.id])).content.decode()
    assert first.upload_sha256 in page and first.result_sha256 in page
    assert "the result carries signed Content Credentials" in page
    assert reverse("job_detail", args=[second.id]) in page


def test_provenance_checks_team(owner_client, outsider_client, team, admin_user_):
    job = make_job(team, admin_user_, status="succeeded")
    assert outsider_client.get(reverse("job_provenance", args=[job.id])).status_code == 404
    assert owner_client.get(reverse("job_provenance", args=[job.id])).status_code == 200


# --- the certificate --------------------------------------------------------------------------


def test_the_self_made_certificate_is_a_ca_and_an_es256_signing_leaf_made_once(settings, tmp_path):
    chain, key = own_certificate(tmp_path / "c2pa")
    again = own_certificate(tmp_path / "c2pa")
    assert again == (chain, key)  # generated once, like the secret key
    leaf, ca = x509.load_pem_x509_certificates(chain)
    assert leaf.issuer == ca.subject
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    assert leaf.signature_hash_algorithm.name == "sha256"
    assert (tmp_path / "c2pa" / "signer.pem").stat().st_mode & 0o777 == 0o600
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert datetime.timedelta(days=5 * 365) <= lifetime < datetime.timedelta(days=5 * 365 + 1)


def test_a_year_old_leaf_is_renewed_under_the_same_ca(settings, tmp_path, monkeypatch):
    from enhancer.provenance import signing

    chain, _ = own_certificate(tmp_path / "c2pa")
    monkeypatch.setattr(
        signing, "_now", lambda: datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=366)
    )
    renewed, _ = own_certificate(tmp_path / "c2pa")
    old_leaf, ca = x509.load_pem_x509_certificates(chain)
    new_leaf, same_ca = x509.load_pem_x509_certificates(renewed)
    assert new_leaf.serial_number != old_leaf.serial_number
    assert same_ca == ca


def test_an_operator_certificate_is_used_when_configured(settings, tmp_path):
    chain, key = own_certificate(tmp_path / "theirs")
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    settings.DETAILER_C2PA_CERT_FILE = str(tmp_path / "chain.pem")
    settings.DETAILER_C2PA_KEY_FILE = str(tmp_path / "key.pem")

    used = signing_credentials()

    assert (used.chain_pem, used.self_made) == (chain, False)
    assert not (tmp_path / "c2pa").exists()  # nothing made of our own


def test_a_result_signed_file_to_file_reads_back_like_one_signed_in_memory(
    team, admin_user_, tmp_path
):
    job = make_job(team, admin_user_, status="succeeded", original_sha256="ab" * 32)
    with job.result.open("rb") as result:
        content = result.read()
    source, dest = tmp_path / "result.png", tmp_path / "signed.png"
    source.write_bytes(content)

    credentials.embed_file(job, source, dest, job.result.name, width=60, height=40)

    report = credentials.read(dest.read_bytes(), "signed.png")
    assert report.valid_but_untrusted, (report.state, report.problems)
    assert report.ingredient_sha256 == job.original_sha256
    in_memory = credentials.read(
        credentials.embed(job, content, "r.png", width=60, height=40), "r.png"
    )
    assert [a["action"] for a in report.actions] == [a["action"] for a in in_memory.actions]


def test_a_failed_file_to_file_signing_leaves_no_half_file(team, admin_user_, tmp_path):
    job = make_job(team, admin_user_, status="succeeded")
    source, dest = tmp_path / "result.png", tmp_path / "signed.png"
    source.write_bytes(b"not a png at all")

    with pytest.raises(credentials.CredentialsProblem):
        credentials.embed_file(job, source, dest, "r.png", width=60, height=40)
    assert not dest.exists()


def test_a_result_too_large_to_sign_within_the_memory_budget_is_refused_in_words(
    team, admin_user_, tmp_path, monkeypatch
):
    job = make_job(team, admin_user_, status="succeeded")
    source, dest = tmp_path / "result.png", tmp_path / "signed.png"
    source.write_bytes(bytes(2000))
    monkeypatch.setattr(credentials, "EMBED_FILE_MAX_BYTES", 1000)

    with pytest.raises(credentials.CredentialsProblem, match="too large to sign"):
        credentials.embed_file(job, source, dest, "r.png", width=60, height=40)
    assert not dest.exists()
