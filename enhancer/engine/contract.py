"""The Detailer Upscaler contract as the engine speaks it: request validation and the
artwork JSON. Field names, defaults, ranges and the error body are the contract's
(shared/CONTRACT.md); where it is silent the assumption is named (A6, A8, A9).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.http import JsonResponse

from enhancer.engine.models import Artwork
from enhancer.engine.result_links import signed_query

ARTWORK_TYPE = "detailer_upscaler"
SCALE_FACTORS = (1, 2, 4, 8)  # A6: other values are refused with 400
LEVELS = (1, 2, 3)
OUTPUT_FORMATS = ("auto", "png", "webp")
SEED_MAX = 2_147_483_647
# The largest whole image a tile may belong to, per side: beyond any output we would produce.
TILE_IMAGE_MAX_SIDE = 1_000_000
TILE_FIELDS = ("left", "top", "imageWidth", "imageHeight", "contextUrl")
URL_MAX_LENGTH = 2048

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


class ContractError(Exception):
    """An error the engine answers with the contract's error body."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after

    def response(self) -> JsonResponse:
        return error_response(self.status, self.message, retry_after=self.retry_after)


def error_response(status: int, message: str, *, retry_after: int | None = None) -> JsonResponse:
    body = {"message": message, "statusCode": status, "error": REASONS.get(status, "Error")}
    response = JsonResponse(body, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@dataclass(frozen=True)
class TileRequest:
    """The engine's own extension (not the cloud's): ``tile`` = where this image sits in a
    larger one enhanced in tiles, and a URL of that whole image reduced to fit the area limit,
    so steps that see beyond a pixel's neighbours agree across tiles (pipeline.TilePlace)."""

    left: int
    top: int
    image_width: int
    image_height: int
    context_url: str

    def as_parameters(self) -> dict[str, Any]:
        return {
            "left": self.left,
            "top": self.top,
            "imageWidth": self.image_width,
            "imageHeight": self.image_height,
            "contextUrl": self.context_url,
        }


@dataclass(frozen=True)
class CreateRequest:
    image_url: str
    scale_factor: int
    details: int
    modification: int
    seed: int | None
    webhook: str | None
    output_format: str
    tile: TileRequest | None = None

    def as_parameters(self) -> dict[str, Any]:
        """The parameters object the artwork echoes back, in the contract's names."""
        parameters: dict[str, Any] = {
            "imageUrl": self.image_url,
            "scaleFactor": self.scale_factor,
            "details": self.details,
            "modification": self.modification,
            "outputFormat": self.output_format,
        }
        if self.seed is not None:
            parameters["seed"] = self.seed
        if self.webhook is not None:
            parameters["webhook"] = self.webhook
        if self.tile is not None:
            parameters["tile"] = self.tile.as_parameters()
        return parameters


def _is_integer(value: Any) -> bool:
    # JSON true/false are ints to Python; the contract means numbers.
    return isinstance(value, int) and not isinstance(value, bool)


def _http_url(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContractError(400, f"{field} must be a URL string.")
    value = value.strip()
    if len(value) > URL_MAX_LENGTH:
        raise ContractError(400, f"{field} is longer than {URL_MAX_LENGTH} characters.")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ContractError(400, f"{field} must be an http or https URL.")
    return value


def _level(body: dict, field: str, meaning: str) -> int:
    value = body.get(field, 2)
    if not _is_integer(value) or value not in LEVELS:
        raise ContractError(400, f"{field} must be 1, 2 or 3 ({meaning}).")
    return value


def parse_tile(value: Any) -> TileRequest:
    """The ``tile`` extension, checked as strictly as the contract's own fields. Whether the
    image fetched fits inside at that place is checked once it is fetched (views.py)."""
    if not isinstance(value, dict):
        raise ContractError(400, "tile must be an object with " + ", ".join(TILE_FIELDS) + ".")
    unknown = sorted(set(value) - set(TILE_FIELDS))
    if unknown:
        raise ContractError(400, f"tile has unknown fields: {', '.join(unknown)}.")
    numbers = {}
    for field in TILE_FIELDS[:4]:
        number = value.get(field)
        least = 1 if field.startswith("image") else 0
        if not _is_integer(number) or not least <= number <= TILE_IMAGE_MAX_SIDE:
            raise ContractError(
                400, f"tile.{field} must be a whole number from {least} to {TILE_IMAGE_MAX_SIDE}."
            )
        numbers[field] = number
    if numbers["left"] >= numbers["imageWidth"] or numbers["top"] >= numbers["imageHeight"]:
        raise ContractError(400, "tile.left and tile.top must be inside the image.")
    if "contextUrl" not in value:
        raise ContractError(400, "tile.contextUrl is required.")
    return TileRequest(
        left=numbers["left"],
        top=numbers["top"],
        image_width=numbers["imageWidth"],
        image_height=numbers["imageHeight"],
        context_url=_http_url(value["contextUrl"], "tile.contextUrl"),
    )


def parse_create_request(body: Any) -> CreateRequest:
    if not isinstance(body, dict):
        raise ContractError(400, "The request body must be a JSON object.")
    if "imageUrl" not in body:
        raise ContractError(400, "imageUrl is required.")
    image_url = _http_url(body["imageUrl"], "imageUrl")

    scale_factor = body.get("scaleFactor", 2)
    if not _is_integer(scale_factor) or scale_factor not in SCALE_FACTORS:
        raise ContractError(400, "scaleFactor must be one of 1, 2, 4 or 8.")
    details = _level(body, "details", "1 Low, 2 Medium, 3 High")
    modification = _level(body, "modification", "1 Subtle, 2 Balanced, 3 Strong")

    seed = body.get("seed")
    if seed is not None and (not _is_integer(seed) or not 1 <= seed <= SEED_MAX):
        raise ContractError(400, f"seed must be a whole number from 1 to {SEED_MAX}.")

    webhook = body.get("webhook")
    if webhook is not None:
        webhook = _http_url(webhook, "webhook")

    output_format = body.get("outputFormat", "auto")
    if output_format not in OUTPUT_FORMATS:
        raise ContractError(400, "outputFormat must be one of auto, png or webp.")

    tile = parse_tile(body["tile"]) if body.get("tile") is not None else None

    return CreateRequest(
        image_url=image_url,
        scale_factor=scale_factor,
        details=details,
        modification=modification,
        seed=seed,
        webhook=webhook,
        output_format=output_format,
        tile=tile,
    )


def result_urls(artwork: Artwork) -> list[str]:
    # A8: results stay empty until the artwork has succeeded.
    if artwork.status != Artwork.Status.SUCCEEDED:
        return []
    base = artwork.public_base_url.rstrip("/")
    # Signed with an expiry each time they are shown (see result_links).
    return [
        f"{base}/v2/results/{artwork.id}/{name}{signed_query(str(artwork.id), name)}"
        for name in artwork.result_files
    ]


def serialize_artwork(artwork: Artwork) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(artwork.id),
        "artworkType": ARTWORK_TYPE,
        "parameters": artwork.parameters,
        "duration": round(artwork.duration, 3),
        "results": result_urls(artwork),
        "status": artwork.status,
        "createdAt": artwork.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    # A9: a failed artwork has no documented error field; ours says why in `message`.
    if artwork.status == Artwork.Status.FAILED and artwork.message:
        data["message"] = artwork.message
    return data
