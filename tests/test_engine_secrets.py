"""The engine keeps a caller's webhook URL (a credential) encrypted and shows it only masked."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.urls import reverse

from enhancer.api import ApiClient
from enhancer.engine.models import Artwork as EngineArtwork
from enhancer.links import source_url
from tests.conftest import run_tasks
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "tok_" + uuid.uuid4().hex


@pytest.fixture
def receiver(scripted_server, settings):
    settings.DETAILER_ENGINE_WEBHOOK_HOSTS = [
        *settings.DETAILER_ENGINE_WEBHOOK_HOSTS,
        urlsplit(scripted_server.url).netloc,
    ]
    scripted_server.script("POST", rf"/hooks/{TOKEN}/", (500, None), (200, {"ok": True}))
    return scripted_server


@pytest.fixture
def artwork_id(site, engine_key, receiver) -> str:
    name = default_storage.save(f"staged/{uuid.uuid4()}.png", ContentFile(image_bytes(20, 20)))
    client = ApiClient(f"{site.url}/engine", engine_key)
    return client.create(source_url(name), webhook=f"{receiver.url}/hooks/{TOKEN}/").id


def stored_row(artwork_id: str) -> str:
    """Everything the database holds for the artwork, as text, as a backup would have it."""
    table = EngineArtwork._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [uuid.UUID(artwork_id).hex])
        row = cursor.fetchone() or ()
        if not row:  # PostgreSQL keeps UUIDs as uuid, not hex text
            cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [uuid.UUID(artwork_id)])
            row = cursor.fetchone()
    return " ".join(str(value) for value in row)


def test_the_webhook_token_is_stored_encrypted_and_still_delivered_with_retries(
    artwork_id, receiver, site, engine_key
):
    row = stored_row(artwork_id)
    assert TOKEN not in row
    assert TOKEN[-4:] in row  # the masked form, to recognise it

    run_tasks()

    # Delivered to the real URL, the retry included: the engine decrypted what it kept.
    assert [r.path for r in receiver.requests] == [f"/hooks/{TOKEN}/"] * 2
    assert TOKEN not in stored_row(artwork_id)


def test_the_webhook_url_is_shown_masked(artwork_id, site, engine_key, receiver):
    shown = ApiClient(f"{site.url}/engine", engine_key).get(artwork_id).parameters["webhook"]
    assert TOKEN not in shown
    assert shown == f"{receiver.url}/…{TOKEN[-4:]}"

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    browser = Client()
    browser.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    for url in (
        reverse("admin:engine_artwork_changelist"),
        reverse("admin:engine_artwork_change", args=[artwork_id]),
    ):
        page = browser.get(url)
        assert page.status_code == 200
        assert TOKEN not in page.content.decode()
