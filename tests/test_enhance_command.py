"""`manage.py enhance`: an operator's file through the real client, engine and worker."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from PIL import Image

from enhancer.engine.models import Artwork as EngineArtwork
from tests.conftest import run_tasks
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(site):
    """A worker working the queue in the background, as `make run` has one."""
    stop = threading.Event()

    def work() -> None:
        try:
            while not stop.is_set():
                run_tasks(include_deferred=False, rounds=1)
                stop.wait(0.2)
        finally:
            connection.close()  # this thread's own; PostgreSQL could not drop the test db

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)


def test_enhance_a_local_file_and_save_the_result(worker, tmp_path, capsys):
    source = tmp_path / "scan.png"
    source.write_bytes(image_bytes(40, 30))
    target = tmp_path / "out.png"

    call_command(
        "enhance",
        str(source),
        "--scale",
        "4",
        "--details",
        "3",
        "--format",
        "png",
        "--output",
        str(target),
        "--timeout",
        "60",
    )

    assert Image.open(target).size == (160, 120)
    assert "Saved" in capsys.readouterr().out
    # Nothing left behind: neither the staged original nor the engine's copies.
    media = Path(settings.MEDIA_ROOT)
    assert [p for p in media.rglob("*") if p.is_file()] == []
    assert not EngineArtwork.objects.exists()


def test_a_file_that_is_not_an_image_is_refused(site, tmp_path):
    source = tmp_path / "notes.png"
    source.write_bytes(b"plain text")
    with pytest.raises(CommandError, match="not an image"):
        call_command("enhance", str(source))


def test_a_missing_file_is_refused(site, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("enhance", str(tmp_path / "nowhere.png"))
