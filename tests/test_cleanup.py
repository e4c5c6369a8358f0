"""Everything expires: finished task records are pruned, the engine's leftovers removed, on the
schedule `serve` keeps and through `manage.py clean_up` for cron."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from enhancer.engine.files import input_name, result_name
from enhancer.engine.models import Artwork, EngineKey
from enhancer.management.commands.serve import Command as Serve
from enhancer.tasks import check_job
from tests.conftest import run_tasks

pytestmark = pytest.mark.django_db(transaction=True)

LONG_AGO = timezone.now() - timedelta(days=30)


def finished_task_rows(count: int) -> list[str]:
    """Real rows, left by really running tasks (check_job of a job that does not exist)."""
    for _ in range(count):
        check_job.enqueue(str(uuid.uuid4()))
    run_tasks(queues=["default"])
    return list(DBTaskResult.objects.finished().values_list("id", flat=True))


def test_finished_task_records_older_than_the_retention_are_deleted(capsys):
    old = finished_task_rows(3)[:2]
    DBTaskResult.objects.filter(id__in=old).update(finished_at=LONG_AGO)
    recent = DBTaskResult.objects.finished().exclude(id__in=old).get().id
    waiting = check_job.using(run_after=timezone.now() + timedelta(days=60)).enqueue("x").id

    call_command("clean_up")

    assert set(DBTaskResult.objects.values_list("id", flat=True)) == {
        uuid.UUID(str(recent)),
        uuid.UUID(str(waiting)),
    }
    assert "Deleted 2 finished task record(s)" in capsys.readouterr().out


def artwork(status: str, finished_at) -> Artwork:
    key, _ = EngineKey.generate("tests")
    item = Artwork.objects.create(
        key=key,
        status=status,
        parameters={},
        public_base_url="http://testserver/engine/",
        finished_at=finished_at,
    )
    item.input_file = f"{item.id}.png"
    item.save()
    default_storage.save(input_name(item.input_file), ContentFile(b"input"))
    default_storage.save(result_name(str(item.id), "result.png"), ContentFile(b"result"))
    return item


def paths_of(item: Artwork) -> list[Path]:
    """Where local storage keeps the engine's two files of an artwork."""
    media = Path(settings.MEDIA_ROOT)
    return [media / input_name(item.input_file), media / result_name(str(item.id), "result.png")]


def files_of(item: Artwork) -> list[Path]:
    return [path for path in paths_of(item) if path.exists()]


def test_the_engines_leftovers_expire_after_their_keep_time():
    expired = artwork("succeeded", LONG_AGO)
    fresh = artwork("succeeded", timezone.now())
    running = artwork("processing", None)
    Artwork.objects.filter(pk=running.pk).update(created_at=LONG_AGO)

    call_command("clean_up")

    assert set(Artwork.objects.values_list("id", flat=True)) == {fresh.id, running.id}
    assert files_of(expired) == []
    assert len(files_of(fresh)) == 2 and len(files_of(running)) == 2


def test_files_whose_artwork_is_gone_are_removed():
    stray = artwork("succeeded", timezone.now())
    Artwork.objects.filter(pk=stray.pk).delete()
    for path in paths_of(stray):
        os.utime(path, (LONG_AGO.timestamp(), LONG_AGO.timestamp()))
    not_ours = Path(settings.MEDIA_ROOT) / "engine" / "inputs" / "README.txt"
    not_ours.write_text("left alone")

    call_command("clean_up")

    assert files_of(stray) == []
    assert not_ours.exists()


def test_serve_cleans_up_on_its_schedule():
    finished_task_rows(1)
    DBTaskResult.objects.update(finished_at=LONG_AGO)
    expired = artwork("failed", LONG_AGO)

    Serve().sweep()  # what serve's loop runs every SWEEP_EVERY seconds

    assert not DBTaskResult.objects.exists()
    assert not Artwork.objects.filter(pk=expired.pk).exists()
