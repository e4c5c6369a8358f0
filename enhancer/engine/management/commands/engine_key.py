"""`python manage.py engine_key LABEL`: create an engine API key and print it once."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from enhancer.engine.models import EngineKey


class Command(BaseCommand):
    help = "Create a bearer key for the built-in engine and print it (it is never shown again)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("label", help="What the key is for, e.g. 'batch script'.")
        parser.add_argument(
            "--max-in-flight", type=int, default=None, help="Jobs it may run at once."
        )

    def handle(self, *args, label: str, max_in_flight: int | None, **options) -> None:
        _, raw_key = EngineKey.generate(label, max_in_flight=max_in_flight)
        self.stderr.write("Copy this key now; only its hash is stored:")
        self.stdout.write(raw_key)
