"""`python manage.py rotate_secrets`: re-encrypt every stored secret under the first key.

To rotate FIELD_ENCRYPTION_KEYS: put a new key first (keep the old ones after it), restart,
run this command, and once it has succeeded remove the old keys. It works on the ciphertext
(MultiFernet.rotate), so no secret passes through Python in the clear, and it finds every
EncryptedTextField of every installed model, so a new secret column is covered too.

All or nothing: if any value cannot be decrypted with the configured keys, the command fails
loudly, names the row, and changes nothing.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.db.models.functions import Cast

from enhancer.crypto import DecryptionError, EncryptedTextField, rotate


def encrypted_fields() -> list[tuple[type[models.Model], str]]:
    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


class Command(BaseCommand):
    help = "Re-encrypt every stored secret (API keys, webhook secrets...) under the first key."

    def handle(self, *args, **options) -> None:
        total = 0
        with transaction.atomic():
            for model, name in encrypted_fields():
                total += self.rotate_column(model, name)
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted {total} secret(s) under the first key.")
        )

    def rotate_column(self, model: type[models.Model], name: str) -> int:
        # Cast to a plain TextField reads the stored ciphertext without decrypting it.
        rows = (
            model._default_manager.exclude(**{name: ""})
            .exclude(**{f"{name}__isnull": True})
            .annotate(ciphertext=Cast(name, models.TextField()))
            .values_list("pk", "ciphertext")
        )
        count = 0
        for pk, ciphertext in rows.iterator():
            try:
                fresh = rotate(ciphertext)
            except DecryptionError as exc:
                raise CommandError(
                    f"{model._meta.label} #{pk}: its {name} cannot be decrypted with any key in "
                    "FIELD_ENCRYPTION_KEYS. Nothing was changed; add the key it was encrypted "
                    "with and run this again."
                ) from exc
            # A Value with a plain TextField is written as is, not encrypted a second time.
            model._default_manager.filter(pk=pk).update(
                **{name: models.Value(fresh, output_field=models.TextField())}
            )
            count += 1
        return count
