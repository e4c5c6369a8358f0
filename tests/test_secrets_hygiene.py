"""Secrets stay out of logs and out of reach of other users on the machine.

These tests start the real programs in a fresh data directory, as a deployment runs them:
`manage.py migrate`, gunicorn with the project's gunicorn.conf.py, and Django's file storage.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from django.conf import settings

from detailer_site.log_masking import MaskSecretsFilter, mask_secrets
from enhancer.checks import check_secrets_and_proxy

PYTHON = sys.executable


def environment(data_dir: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        # Generated into the data directory, which is what the permissions test looks at.
        if name not in {"DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL"}
        and not name.startswith("DETAILER_")
    }
    env["DETAILER_DATA_DIR"] = str(data_dir)
    return env


def manage(data_dir: Path, *args: str) -> None:
    subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environment(data_dir),
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "var"
    manage(path, "migrate", "--noinput")
    manage(path, "collectstatic", "--noinput")  # as `make run` does; error pages need it
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_gunicorn(data_dir: Path, requests_to_make) -> str:
    """Start gunicorn as the README says (from the project directory), make the requests,
    stop it and return everything it wrote."""
    port = free_port()
    log = data_dir.parent / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "detailer_site.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--access-logfile",
                "-",
            ],
            cwd=settings.BASE_DIR,
            env=environment(data_dir),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120  # a loaded machine boots it slowly
            while time.monotonic() < deadline:
                try:
                    requests.get(f"{base}/healthz", timeout=30)
                    break
                except requests.RequestException:
                    time.sleep(0.2)
            requests_to_make(base)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return log.read_text()


def test_the_access_log_of_the_real_gunicorn_shows_no_token(data_dir):
    job_id = uuid.uuid4()
    webhook_token = "WebhookToken-" + uuid.uuid4().hex
    share_token = "ShareToken-" + uuid.uuid4().hex
    source_token = "originals/x.png:SourceSig-" + uuid.uuid4().hex
    signature = "ResultSig" + uuid.uuid4().hex

    def calls(base: str) -> None:
        answer = requests.post(f"{base}/hooks/jobs/{job_id}/{webhook_token}/", timeout=30)
        assert answer.status_code == 404  # a token for no job: Django logs "Not Found" too
        requests.get(
            f"{base}/source/{source_token}",
            headers={"Referer": f"{base}/s/{share_token}/"},
            timeout=30,
        )
        requests.get(f"{base}/s/{share_token}/", timeout=30)
        requests.get(
            f"{base}/engine/v2/results/{job_id}/result.png?expires=1&signature={signature}",
            timeout=30,
        )

    output = run_gunicorn(data_dir, calls)

    for secret in (webhook_token, share_token, source_token, "SourceSig", signature):
        assert secret not in output
    # The routes are still there, so the log says what was called.
    assert f'"POST /hooks/jobs/{job_id}/***/ HTTP/1.1" 404' in output
    assert f"Not Found: /hooks/jobs/{job_id}/***/" in output
    assert '"GET /s/***/ HTTP/1.1"' in output
    assert f"/engine/v2/results/{job_id}/result.png?expires=1&signature=***" in output


def test_a_traceback_is_masked_too():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "Failed: %s", ("/s/tok1/",), None)
    try:
        raise ValueError("while reading /invite/tok2/")
    except ValueError:
        record.exc_info = sys.exc_info()
    MaskSecretsFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "tok1" not in text and "tok2" not in text
    assert "Failed: /s/***/" in text and "/invite/***/" in text


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("POST /hooks/jobs/abc/tok-EN_1/ HTTP/1.1", "POST /hooks/jobs/abc/***/ HTTP/1.1"),
        ("GET /source/originals/a.png:1u:sig HTTP/1.1", "GET /source/*** HTTP/1.1"),
        ("GET /s/tok/123/result/", "GET /s/***/123/result/"),
        ("GET /invite/tok/", "GET /invite/***/"),
        ("GET /accounts/reset/MQ/c0d-e1/", "GET /accounts/reset/MQ/***/"),
        ("GET /accounts/reset/MQ/set-password/", "GET /accounts/reset/MQ/set-password/"),
        ("GET /engine/v2/results/a/b.png?expires=9&signature=f0", "?expires=9&signature=***"),
        ("GET /gallery/?q=invoice", "GET /gallery/?q=invoice"),
    ],
)
def test_each_kind_of_secret_url_is_masked(line, masked):
    assert masked in mask_secrets(line)


# --- The data directory is private ------------------------------------------------------------


def test_files_in_the_data_directory_are_0600_and_folders_0700(data_dir):
    # What a running site writes: uploads through Django's storage, the engine's own copies,
    # the database (its WAL files while gunicorn has it open), generated secrets.
    manage(
        data_dir,
        "shell",
        "-c",
        "from django.core.files.base import ContentFile\n"
        "from django.core.files.storage import default_storage\n"
        "from enhancer.engine.files import result_name\n"
        "default_storage.save('originals/photo.png', ContentFile(b'x'))\n"
        "default_storage.save('thumbnails/photo.webp', ContentFile(b'x'))\n"
        "default_storage.save(result_name('some-artwork', 'result.png'), ContentFile(b'x'))\n",
    )
    run_gunicorn(data_dir, lambda base: requests.get(f"{base}/accounts/login/", timeout=30))

    folders = [data_dir, *(p for p in data_dir.rglob("*") if p.is_dir())]
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"detailer.sqlite3", "secret_key.txt", "field_encryption_key.txt"} <= names
    assert {"photo.png", "photo.webp", "result.png"} <= names
    assert {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in folders} == {
        str(p): "0o700" for p in folders
    }
    assert {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {
        str(p): "0o600" for p in files
    }


def test_an_older_data_directory_is_made_private_at_startup(tmp_path):
    data_dir = tmp_path / "old"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    key_file = data_dir / "field_encryption_key.txt"
    key_file.write_text(Fernet.generate_key().decode())
    key_file.chmod(0o644)

    manage(data_dir, "check")

    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_check_deploy_warns_while_the_encryption_key_sits_in_the_data_directory(settings):
    settings.FIELD_ENCRYPTION_KEYS_GENERATED = True
    assert "detailer.W001" in [m.id for m in check_secrets_and_proxy()]
    settings.FIELD_ENCRYPTION_KEYS_GENERATED = False
    assert "detailer.W001" not in [m.id for m in check_secrets_and_proxy()]
