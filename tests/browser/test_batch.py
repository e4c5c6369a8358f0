"""Journey 2: a batch of three files (one a JPEG named .png, one over the area limit, sent in
tiles) all finish, and "Download all" gives a ZIP of three images."""

from __future__ import annotations

import re
import zipfile

from PIL import Image
from playwright.sync_api import expect

from tests.browser import steps


def test_a_batch_of_three_downloads_as_one_zip(page, test_images):
    steps.new_account_with_team(page, "batch")
    steps.open_new_enhancement(page)
    files = [test_images.second, test_images.jpeg_named_png, test_images.too_large]
    page.get_by_label("Image file").set_input_files(files)
    # Before sending, the page already says the big one goes in tiles, at full resolution.
    expect(
        page.get_by_text(re.compile(r"1400 x 1200 becomes 2800 x 2400 · sent as 2 tiles"))
    ).to_be_visible()
    steps.choose_settings(page, enlarge="2x", detail="Medium")
    page.get_by_role("button", name="Enhance").click()

    expect(steps.sent_cards(page)).to_have_count(3)

    page.get_by_role("link", name="Open the batch page").click()
    expect(page.get_by_role("heading", name="Batch of 3 images")).to_be_visible()
    cards = page.get_by_role("list", name="Images in this batch").get_by_role("listitem")
    expect(cards).to_have_count(3)
    for index in range(3):
        steps.expect_done(cards.nth(index))
    expect(page.get_by_role("progressbar", name="Batch progress")).to_have_attribute("value", "3")
    expect(page.get_by_text("3 of 3 done")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download all").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.path()) as archive:
        names = archive.namelist()
        assert len(names) == 3, names
        sizes = []
        for name in names:
            with archive.open(name) as member, Image.open(member) as image:
                image.load()
                sizes.append(image.size)
    expected = {(400, 300), (360, 240), (2800, 2400)}
    assert set(sizes) == expected, (names, sizes)
