"""`python manage.py enhance IMAGE`: enhance one local file or URL through the API client.

For operators: it talks to the built-in engine (or, with --api-url and --key, to any API that
speaks the contract), waits, and saves the result next to the input. A local file is staged in
our storage and handed to the API through the same signed, expiring URL jobs use, so the site
(`make run`) must be running for the API to fetch it.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from pathlib import Path, PurePath
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from enhancer.api import ApiClient, ApiError
from enhancer.images import ImageProblem, inspect_image
from enhancer.links import source_url
from enhancer.net import FetchPolicy, FetchProblem, fetch_image_url


class Command(BaseCommand):
    help = "Enhance one image file or URL through the API and save the result."

    def add_arguments(self, parser) -> None:
        parser.add_argument("image", help="A local file path, or an http(s) URL.")
        parser.add_argument("--scale", type=int, default=2, choices=[1, 2, 4, 8])
        parser.add_argument("--details", type=int, default=2, choices=[1, 2, 3])
        parser.add_argument("--modification", type=int, default=2, choices=[1, 2, 3])
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--format", default="auto", choices=["auto", "png", "webp"])
        parser.add_argument("--output", "-o", help="Where to save the result.")
        parser.add_argument("--api-url", help="Default: the built-in engine.")
        parser.add_argument("--key", help="Default: the built-in engine's own key.")
        parser.add_argument("--timeout", type=float, default=600, help="Seconds to wait.")

    def handle(self, *args, **options) -> None:
        image = options["image"]
        client = self.client(options)
        staged = ""
        if image.startswith(("http://", "https://")):
            image_url, stem = image, Path(image.split("?", 1)[0]).stem or "image"
        else:
            staged, stem = self.stage(Path(image)), Path(image).stem
            image_url = source_url(staged)
        try:
            self.run(client, image_url, stem, options)
        finally:
            if staged:  # the API has fetched it (or never will): our copy has served
                default_storage.delete(staged)

    def run(self, client: ApiClient, image_url: str, stem: str, options: dict) -> None:
        try:
            artwork = client.create(
                image_url,
                scale_factor=options["scale"],
                details=options["details"],
                modification=options["modification"],
                seed=options["seed"],
                output_format=options["format"],
            )
            self.stdout.write(f"Submitted {artwork.id}; waiting…")
            deadline = time.monotonic() + options["timeout"]
            while not artwork.is_final:
                if time.monotonic() > deadline:
                    raise CommandError(f"Gave up waiting after {options['timeout']:.0f} s.")
                time.sleep(1.0)
                artwork = client.get(artwork.id)
        except ApiError as exc:
            raise CommandError(f"{exc.user_message} ({exc})") from exc
        if artwork.status != "succeeded" or not artwork.results:
            raise CommandError(f"The job ended {artwork.status}: {artwork.failure_text or ''}")
        self.save(artwork.results[0], options, stem, artwork.duration)
        if not options["api_url"]:
            # Saved: the built-in engine may delete its copies (the cloud has no such call).
            with contextlib.suppress(ApiError):
                client.delete(artwork.id)

    def client(self, options: dict) -> ApiClient:
        if options["api_url"]:
            if not options["key"]:
                raise CommandError("--api-url needs --key.")
            return ApiClient(options["api_url"], options["key"])
        from enhancer.engine.auth import default_key

        return ApiClient(settings.DETAILER_ENGINE_URL, options["key"] or default_key())

    def stage(self, path: Path) -> str:
        """Store a local file where the API can fetch it; returns its storage name."""
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        data = path.read_bytes()
        try:
            info = inspect_image(data, max_bytes=settings.DETAILER_MAX_UPLOAD_BYTES)
        except ImageProblem as exc:
            raise CommandError(exc.message) from exc
        extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[info.format]
        return default_storage.save(f"staged/{uuid.uuid4()}.{extension}", ContentFile(data))

    def save(self, url: str, options: dict, stem: str, duration) -> None:
        # The API chose this URL: fetch it through the same guard as any other.
        policy = (
            FetchPolicy.for_user_urls()
            if options["api_url"]
            else FetchPolicy.only_hosts([urlsplit(settings.DETAILER_ENGINE_URL).netloc])
        )
        try:
            fetched = fetch_image_url(
                url, max_bytes=settings.DETAILER_MAX_RESULT_BYTES, timeout=300.0, policy=policy
            )
        except FetchProblem as exc:
            raise CommandError(f"The result could not be downloaded: {exc.message}") from exc
        suffix = PurePath(urlsplit(url).path).suffix or ".webp"
        output = options["output"]
        target = Path(output) if output else Path.cwd() / f"{stem}-{options['scale']}x{suffix}"
        target.write_bytes(fetched.content)
        self.stdout.write(
            self.style.SUCCESS(f"Saved {target} ({len(fetched.content):,} bytes, {duration} s)")
        )
