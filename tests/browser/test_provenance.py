"""Provenance, Content Credentials and the automatic result checks, as people meet them.

A result downloaded from the job page, the files of a batch ZIP and a result downloaded from a
public share page are each read with c2pa-python: valid, the only remark the self-made signer,
the ingredient's SHA-256 that of the original. A cloud result that came back flat gets its
warning on the card and the job page.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

from enhancer.provenance import credentials
from tests.browser import steps
from tests.browser.test_cloud import CREATE, GOOD_KEY, artwork, save_cloud_settings


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_credentials(data: bytes, name: str, original_sha256: str) -> None:
    report = credentials.read(data, name)
    assert report.present, f"{name}: no Content Credentials"
    assert report.problems == ("signingCredential.untrusted",), report.problems
    assert report.valid_but_untrusted, report.state
    assert report.ingredient_sha256 == original_sha256
    assert [a["action"] for a in report.actions] == ["c2pa.opened", "c2pa.edited", "c2pa.resized"]


def test_provenance_and_credentials_follow_a_result_everywhere(new_context, test_images, shoot):
    context, _ = new_context(accept_downloads=True)
    page = context.new_page()
    steps.new_account_with_team(page, "provenance")
    steps.submit_files(page, [test_images.photo])
    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    steps.expect_done(card)
    card.get_by_role("link", name="harbour.jpg").click()

    # The checks' verdict arrives on the open page without a reload.
    expect(page.get_by_text("Automatic checks passed")).to_be_visible(timeout=steps.JOB_TIMEOUT_MS)
    provenance = page.get_by_role("region", name="Provenance")
    expect(provenance).to_contain_text("Yes: the result carries signed Content Credentials")
    expect(provenance).to_contain_text(sha256(test_images.photo))  # as uploaded
    expect(provenance).to_contain_text("Detailer built-in engine")

    with page.expect_download() as original_info:
        page.get_by_role("link", name="Download original").click()
    original_sha256 = sha256(Path(original_info.value.path()))
    expect(provenance).to_contain_text(original_sha256)  # as stored
    with page.expect_download() as result_info:
        page.get_by_role("link", name="Download", exact=True).click()
    result = Path(result_info.value.path())
    assert_credentials(result.read_bytes(), result_info.value.suggested_filename, original_sha256)
    expect(provenance).to_contain_text(sha256(result))

    with page.expect_download() as json_info:
        provenance.get_by_role("link", name="Download provenance (JSON)").click()
    record = json.loads(Path(json_info.value.path()).read_text())
    assert record["original"]["storedSha256"] == original_sha256
    assert record["result"]["sha256"] == sha256(result)
    seed = record["settings"]["seed"]
    assert isinstance(seed, int) and seed >= 1  # chosen although nobody typed one
    expect(provenance).to_contain_text(f"{seed}")
    shoot(page, "job-provenance-light-desktop")

    # Shared outside the team: a stranger's download carries the same credentials.
    shares = page.get_by_role("region", name="Share outside the team")
    shares.get_by_role("button", name="Create share link").click()
    share_url = shares.get_by_label("Share link").first.input_value()
    stranger_context, _ = new_context(accept_downloads=True)
    stranger = stranger_context.new_page()
    stranger.goto(share_url)
    with stranger.expect_download() as shared_info:
        stranger.get_by_role("link", name="Download", exact=True).click()
    shared = Path(shared_info.value.path()).read_bytes()
    assert_credentials(shared, shared_info.value.suggested_filename, original_sha256)

    # Run again on the same file: the job page links the earlier version.
    steps.submit_files(page, [test_images.photo])
    again = steps.card(page, "harbour.jpg", list_name="Sent from this page").first
    steps.expect_done(again)
    again.get_by_role("link", name="harbour.jpg").click()
    expect(page.get_by_role("region", name="Provenance")).to_contain_text("Earlier:")


def test_a_batch_zip_carries_credentials_and_a_team_can_switch_them_off(new_context, test_images):
    context, _ = new_context(accept_downloads=True)
    page = context.new_page()
    steps.new_account_with_team(page, "batchprov")
    steps.open_new_enhancement(page)
    page.get_by_label("Image file").set_input_files([test_images.photo, test_images.second])
    page.get_by_role("button", name="Enhance").click()
    for name in ("harbour.jpg", "meadow.png"):
        steps.expect_done(steps.card(page, name, list_name="Sent from this page"))
    page.get_by_role("link", name="Open the batch page").click()
    with page.expect_download() as zip_info:
        page.get_by_role("link", name="Download all").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(zip_info.value.path()).read_bytes()))
    assert len(archive.namelist()) == 2
    for name in archive.namelist():
        report = credentials.read(archive.read(name), name)
        assert report.valid_but_untrusted and report.problems == ("signingCredential.untrusted",)
        assert report.ingredient_sha256

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team settings").click()
    page.get_by_label("Sign results with Content Credentials").uncheck()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Content Credentials off")).to_be_visible()
    steps.submit_files(page, [test_images.photo])
    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    steps.expect_done(card)
    card.get_by_role("link", name="harbour.jpg").click()
    expect(page.get_by_role("region", name="Provenance")).to_contain_text(
        "No: Switched off in Team settings."
    )
    with page.expect_download() as result_info:
        page.get_by_role("link", name="Download", exact=True).click()
    data = Path(result_info.value.path()).read_bytes()
    assert not credentials.read(data, result_info.value.suggested_filename).present


def test_a_flat_cloud_result_is_flagged_on_card_and_page(page, cloud_server, test_images, shoot):
    artwork_id = str(uuid.uuid4())
    flat = io.BytesIO()
    Image.new("RGB", (480, 320), (128, 120, 110)).save(flat, "WEBP")
    result_url = f"{cloud_server.url}/files/{artwork_id}.webp"
    cloud_server.reset()
    cloud_server.script("POST", CREATE, (202, artwork(artwork_id, "starting")))
    cloud_server.script(
        "GET", f"/v2/artworks/{artwork_id}", (200, artwork(artwork_id, "succeeded", [result_url]))
    )
    cloud_server.script(
        "GET", f"/files/{artwork_id}.webp", (200, flat.getvalue(), {"Content-Type": "image/webp"})
    )
    steps.new_account_with_team(page, "flatcloud")
    save_cloud_settings(page, GOOD_KEY)

    steps.submit_files(page, [test_images.photo])
    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    steps.expect_done(card)
    warning = "The result is almost one flat colour: check it before using it."
    expect(card).to_contain_text(warning, timeout=steps.JOB_TIMEOUT_MS)
    shoot(page, "check-warning-card-light-desktop")
    card.get_by_role("link", name="harbour.jpg").click()
    alert = page.get_by_role("alert").filter(has_text=warning)
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("The colours changed noticeably: compare before using it.")
    shoot(page, "check-warning-job-light-desktop")
