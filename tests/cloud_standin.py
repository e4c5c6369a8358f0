"""A scripted stand-in for the cloud Detailer Upscaler, for tests that need its results.

The real cloud is a generative model: two tiles of one photo come back with slightly different
tones and colours, because each request is its own generation. The stand-in answers alike:
Lanczos enlargement, an unsharp mask growing with Detail, and a tone/colour shift of a few
levels that differs per request (derived from the request's image and seed, so a test can
repeat it) and grows with Change. Tiling must hide exactly that.

    with ScriptedServer() as server:
        cloud = CloudStandIn(server)          # scripts create, read and result routes
        client = ApiClient(server.url, "any-key")
        artwork = client.create(url, seed=5)  # fetches url now, answers 202
        client.get(artwork.id).results        # succeeded, one PNG URL on the server

`enhance(data, ...)` is the same enhancement in-process (the seam measurement uses it).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import threading
import uuid
from typing import Any

import numpy as np
import requests
from PIL import Image, ImageFilter

from tests.scripted_server import RecordedRequest, ScriptedServer

# Levels of the tone shift by Change (modification): a cloud generation moves more at Strong.
SHIFT_LEVELS = {1: 2.0, 2: 4.0, 3: 6.0}
UNSHARP = {1: 40, 2: 80, 3: 120}  # percent, by Detail


def request_shift(data: bytes, seed: int | None, modification: int) -> np.ndarray:
    """Per-request offsets (R, G, B) in levels, up to +-SHIFT_LEVELS: random-ish but
    repeatable for the same image and seed."""
    digest = hashlib.sha256(data + str(seed).encode()).digest()
    unit = np.frombuffer(digest[:3], np.uint8).astype(np.float64) / 255 * 2 - 1
    common = digest[3] / 255 * 2 - 1
    return (0.6 * common + 0.4 * unit) * SHIFT_LEVELS[modification]


def enhance(
    data: bytes, *, scale: int = 2, details: int = 2, modification: int = 2, seed: int | None = None
) -> Image.Image:
    """A plausible cloud result for the image in `data` (RGB or RGBA)."""
    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGBA" if "A" in opened.getbands() else "RGB")
    size = (image.width * scale, image.height * scale)
    enlarged = image.resize(size, Image.Resampling.LANCZOS) if scale > 1 else image
    rgb = enlarged.convert("RGB").filter(
        ImageFilter.UnsharpMask(radius=1.0 * scale, percent=UNSHARP[details], threshold=1)
    )
    pixels = np.asarray(rgb).astype(np.float64) + request_shift(data, seed, modification)
    out = Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8), "RGB")
    if enlarged.mode == "RGBA":
        out.putalpha(enlarged.getchannel("A"))
    return out


class CloudStandIn:
    """Scripts `server` to answer the contract's create/read calls like the cloud (A2, A8)."""

    def __init__(self, server: ScriptedServer) -> None:
        self.server = server
        self.results: dict[str, bytes] = {}
        self.artworks: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._clock = itertools.count()
        server.script("POST", "/v2/artworks/detailer-upscaler", self._create)
        server.script("GET", r"/v2/artworks/(?P<id>[0-9a-f-]{36})", self._read)
        server.script("GET", r"/results/(?P<id>[0-9a-f-]{36})\.png", self._result)

    def _create(self, request: RecordedRequest) -> tuple:
        body = request.json or {}
        url = body.get("imageUrl")
        if not isinstance(url, str):
            return 400, {"message": "imageUrl is required.", "statusCode": 400}
        fetched = requests.get(url, timeout=20)
        if fetched.status_code != 200:
            return 400, {"message": "The image could not be fetched.", "statusCode": 400}
        settings = {
            "scaleFactor": body.get("scaleFactor", 2),
            "details": body.get("details", 2),
            "modification": body.get("modification", 2),
        }
        result = enhance(
            fetched.content,
            scale=settings["scaleFactor"],
            details=settings["details"],
            modification=settings["modification"],
            seed=body.get("seed"),
        )
        buffer = io.BytesIO()
        result.save(buffer, "PNG")
        artwork_id = str(uuid.uuid4())
        artwork = {
            "id": artwork_id,
            "artworkType": "detailer_upscaler",
            "parameters": {"imageUrl": url, **settings, "outputFormat": "png"},
            "duration": 0,
            "results": [],
            "status": "starting",
            "createdAt": f"2026-11-29T12:00:{next(self._clock) % 60:02d}.000Z",
        }
        with self._lock:
            self.results[artwork_id] = buffer.getvalue()
            self.artworks[artwork_id] = artwork
        return 202, artwork

    def _read(self, request: RecordedRequest) -> tuple:
        artwork_id = request.match["id"] if request.match else ""
        with self._lock:
            artwork = self.artworks.get(artwork_id)
        if artwork is None:
            return 404, {"message": "Artwork not found.", "statusCode": 404}
        done = {
            **artwork,
            "status": "succeeded",
            "duration": 1.0,
            "results": [f"{self.server.url}/results/{artwork_id}.png"],
        }
        return 200, done

    def _result(self, request: RecordedRequest) -> tuple:
        artwork_id = request.match["id"] if request.match else ""
        with self._lock:
            data = self.results.get(artwork_id)
        if data is None:
            return 404, {"message": "No such result.", "statusCode": 404}
        return 200, data, {"Content-Type": "image/png"}
