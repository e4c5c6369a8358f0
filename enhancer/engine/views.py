"""The engine's HTTP API: the Detailer Upscaler contract, served from this site."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from enhancer.engine import tasks
from enhancer.engine.auth import authenticate
from enhancer.engine.contract import (
    ContractError,
    TileRequest,
    error_response,
    parse_create_request,
    serialize_artwork,
)
from enhancer.engine.files import context_name, input_name, result_name
from enhancer.engine.models import Artwork, mask_url
from enhancer.engine.result_links import is_valid, remove_files
from enhancer.images import AREA_LIMIT, ImageProblem, inspect_image
from enhancer.net import FetchPolicy, FetchProblem, check_url, fetch_image_url
from enhancer.storage import storage_response

logger = logging.getLogger(__name__)

LIST_LIMIT_MAX = 500
IN_FLIGHT = (Artwork.Status.STARTING, Artwork.Status.PROCESSING)


def contract_view(methods: tuple[str, ...]) -> Callable:
    """Answer every failure with the contract's error body, never with an HTML page."""

    def decorator(view: Callable) -> Callable:
        @csrf_exempt  # a bearer-key API: no cookies, so no CSRF to defend against
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                response = error_response(405, f"Use {' or '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except ContractError as exc:
                return exc.response()

        return wrapper

    return decorator


def engine_base_url(request: HttpRequest) -> str:
    # The address the caller reached us at, so result URLs work for that caller.
    return request.build_absolute_uri("/engine/")


@contract_view(("POST",))
def create_artwork(request: HttpRequest) -> HttpResponse:
    key = authenticate(request)
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContractError(400, "The request body is not valid JSON.") from exc
    params = parse_create_request(body)
    if params.webhook:
        try:
            check_url(params.webhook, policy=tasks.webhook_policy())
        except FetchProblem as exc:
            raise ContractError(400, f"webhook is not acceptable: {exc.message}") from exc

    in_flight = Artwork.objects.filter(key=key, status__in=IN_FLIGHT).count()
    if in_flight >= key.in_flight_limit:
        raise ContractError(
            429,
            f"This key already has {in_flight} jobs in progress; wait for one to finish.",
            retry_after=5,
        )

    image = fetch_input(params.image_url)
    context = fetch_tile_context(params.tile, image) if params.tile else None
    parameters = params.as_parameters()
    if params.webhook:
        parameters["webhook"] = mask_url(params.webhook)  # the real one only encrypted
    artwork = Artwork(key=key, parameters=parameters, webhook_url=params.webhook or "")
    artwork.public_base_url = engine_base_url(request)
    name = f"{artwork.id}.{image_extension(image.format)}"
    stored = default_storage.save(input_name(name), ContentFile(image.content))
    artwork.input_file = PurePath(stored).name
    if context is not None:
        default_storage.save(
            input_name(context_name(str(artwork.id), context.format)), ContentFile(context.content)
        )
    with transaction.atomic():
        artwork.save()
        transaction.on_commit(lambda: tasks.process_artwork.enqueue(str(artwork.id)))
    return JsonResponse(serialize_artwork(artwork), status=202)


@dataclass(frozen=True)
class FetchedImage:
    content: bytes
    format: str
    width: int = 0
    height: int = 0


def fetch_tile_context(tile: TileRequest, image: FetchedImage) -> FetchedImage:
    """The tile extension: the tile must fit the whole image at its place, and the whole
    image reduced (its context) is fetched and checked like the input itself."""
    if tile.left + image.width > tile.image_width or tile.top + image.height > tile.image_height:
        raise ContractError(
            400,
            f"The image ({image.width} x {image.height}) does not fit inside "
            f"{tile.image_width} x {tile.image_height} at ({tile.left}, {tile.top}) (tile).",
        )
    return fetch_input(tile.context_url, field="tile.contextUrl")


def fetch_input(url: str, field: str = "") -> FetchedImage:
    """Download and check the input image, or answer 400 saying what is wrong with it."""
    named = f" ({field})" if field else ""
    try:
        fetched = fetch_image_url(
            url,
            max_bytes=settings.DETAILER_ENGINE_MAX_INPUT_BYTES,
            timeout=20.0,
            policy=FetchPolicy.only_hosts(settings.DETAILER_ENGINE_IMAGE_HOSTS),
        )
    except FetchProblem as exc:
        raise ContractError(400, f"The image{named} could not be fetched: {exc.message}") from exc
    try:
        info = inspect_image(fetched.content)
    except ImageProblem as exc:
        raise ContractError(400, exc.message + named) from exc
    if info.area > AREA_LIMIT:
        raise ContractError(
            400,
            f"The image{named} is {info.width} x {info.height} = {info.area:,} pixels; "
            f"the limit is {AREA_LIMIT:,} pixels (e.g. 1216 x 1216).",
        )
    return FetchedImage(fetched.content, info.format, info.width, info.height)


def image_extension(image_format: str) -> str:
    return {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[image_format]


@contract_view(("GET", "DELETE"))
def artwork_detail(request: HttpRequest, artwork_id: str) -> HttpResponse:
    key = authenticate(request)
    try:
        artwork_uuid = uuid.UUID(artwork_id)
    except ValueError as exc:
        raise ContractError(404, "Artwork not found.") from exc
    # Another key's artwork is as unknown as one that never existed.
    artwork = Artwork.objects.filter(pk=artwork_uuid, key=key).first()
    if artwork is None:
        raise ContractError(404, "Artwork not found.")
    if request.method == "DELETE":
        return forget_artwork(artwork)
    return JsonResponse(serialize_artwork(artwork))


def forget_artwork(artwork: Artwork) -> JsonResponse:
    """DELETE: the engine's own extension of the contract (the cloud has no such call and
    deletes after 8 days). The product calls it once it has its copy, and when a job is
    deleted: the record, the input and the results go at once, so every URL of it is 404.
    A worker still processing it finds the row gone and removes what it wrote (tasks.py)."""
    artwork_id, input_file = str(artwork.id), artwork.input_file
    artwork.delete()
    remove_files(artwork_id, input_file)
    return JsonResponse({"id": artwork_id, "deleted": True})


@contract_view(("GET",))
def artwork_list(request: HttpRequest) -> HttpResponse:
    key = authenticate(request)
    try:
        offset = int(request.GET.get("offset", 0))
        limit = int(request.GET.get("limit", 10))
    except ValueError as exc:
        raise ContractError(400, "offset and limit must be whole numbers.") from exc
    if offset < 0:
        raise ContractError(400, "offset must be 0 or more.")
    if not 1 <= limit <= LIST_LIMIT_MAX:
        raise ContractError(400, f"limit must be from 1 to {LIST_LIMIT_MAX}.")
    artworks = Artwork.objects.filter(key=key).order_by("-created_at")[offset : offset + limit]
    return JsonResponse([serialize_artwork(a) for a in artworks], safe=False)


def result_file(request: HttpRequest, artwork_id: str, name: str) -> HttpResponse:
    """A result file, through a signed URL that expires (result_links); expired, tampered,
    unknown and deleted all answer the same 404."""
    if not is_valid(
        str(artwork_id), name, request.GET.get("expires", ""), request.GET.get("signature", "")
    ):
        raise Http404("No such result")
    artwork = Artwork.objects.filter(pk=artwork_id, status=Artwork.Status.SUCCEEDED).first()
    stored = result_name(str(artwork.id), name) if artwork else None
    if stored is None or name not in artwork.result_files:
        raise Http404("No such result")
    response = storage_response(stored, filename=name)
    # Not cached beyond the URL's own life: a deleted result must not live on in a cache.
    response["Cache-Control"] = "private, no-store"
    return response
