"""Where the engine keeps its input and result files: `engine/` in the site's storage.

Names only, never local paths: the files live wherever Django's default storage does (the
media directory, or the bucket when DETAILER_S3_BUCKET is set), so any host can serve them.
"""

from __future__ import annotations

import re

SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+\.(png|webp|jpg|jpeg)$")
INPUTS = "engine/inputs"
RESULTS = "engine/results"


def input_name(name: str) -> str:
    """The storage name of an artwork's input file (Artwork.input_file holds the bare name)."""
    return f"{INPUTS}/{name}"


# A tiled artwork's context (the whole image reduced, the `tile` extension) is kept beside its
# input under the artwork's id, so the clean-ups that go by id find it too.
CONTEXT_EXTENSIONS = ("png", "jpg", "webp")


def context_name(artwork_id: str, image_format: str) -> str:
    """The bare name of an artwork's context image (in INPUTS, like Artwork.input_file)."""
    extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[image_format]
    return f"{artwork_id}.context.{extension}"


def result_name(artwork_id: str, name: str) -> str | None:
    """The storage name behind a result URL, or None for a name that is not one of ours."""
    if not SAFE_NAME.match(name):
        return None
    return f"{RESULTS}/{artwork_id}/{name}"
