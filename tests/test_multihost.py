"""Several hosts: two web processes and a workers host sharing PostgreSQL and one bucket.

The deployment of the README's guide, stood up for real on loopback:
- moto's S3 server (tests/s3_server.py) is the bucket;
- PostgreSQL holds a database of this test's own (so it runs only when DATABASE_URL is
  PostgreSQL; SQLite is for one machine);
- web hosts A and B are plain `gunicorn detailer_site.wsgi:application`, each with its own data
  directory and temporary directory, so nothing can pass between them but the database and the
  bucket;
- a workers host runs `manage.py serve --role workers` (3 engine and 2 default workers), with a
  third data directory, and reaches the site through B (its SITE_URL), as a load balancer would
  send it anywhere.

Jobs are sent through A and through B, and each one's files are downloaded through the other
host with the same bytes; every job is done exactly once; and afterwards no job image is on any
host's local disk. MULTIHOST_JOBS sets how many jobs (200 by default); the test prints how long
they took.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.factories import image_bytes
from tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY, moto_server, new_bucket, s3_client

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
JOBS = int(os.environ.get("MULTIHOST_JOBS", "200"))
PER_UPLOAD = 25  # images per form post (Django accepts at most 100 files in one request)
PASSWORD = "multi host battery staple"
IMAGE_SUFFIXES = {".png", ".webp", ".jpg", ".jpeg", ".zip"}

pytestmark = pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")),
    reason="several hosts share PostgreSQL: run with DATABASE_URL=postgres://... (CI does)",
)


@dataclass
class Host:
    name: str
    data_dir: Path
    env: dict[str, str]
    url: str = ""
    process: subprocess.Popen | None = None

    @property
    def log(self) -> Path:
        return self.data_dir / "host.log"

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def start(self, command: list[str]) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so nothing outlives the test
            )

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def own_database() -> Iterator[str]:
    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = f"{parts.path.lstrip('/') or 'detailer'}_multihost"
    admin_url = parts._replace(path="/postgres").geturl()

    def run(sql: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql)

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(host: Host, *args: str) -> None:
    with host.log.open("a") as log:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=host.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if done.returncode:
        pytest.fail(f"manage.py {args[0]} failed:\n{host.log_tail()}", pytrace=False)


def wait_until_healthy(host: Host, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.process.poll() is not None:
            pytest.fail(f"{host.name} exited at start:\n{host.log_tail()}", pytrace=False)
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{host.url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"{host.name} did not answer /healthz:\n{host.log_tail()}", pytrace=False)


@dataclass
class Deployment:
    web_a: Host
    web_b: Host
    workers: Host
    database_url: str
    s3_endpoint: str
    bucket: str

    @property
    def hosts(self) -> list[Host]:
        return [self.web_a, self.web_b, self.workers]

    def sql(self, query: str, *params) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from cryptography.fernet import Fernet

    with moto_server() as s3_endpoint, own_database() as database_url:
        bucket = new_bucket(s3_endpoint)
        port_a, port_b = free_port(), free_port()
        url_a, url_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        # What every host shares; whatever the caller's shell has set is not inherited.
        base = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DETAILER_", "AWS_"))
            and key not in {"SITE_URL", "EMAIL_URL", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL"}
        }
        base.update(
            DATABASE_URL=database_url,
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
            DETAILER_ENGINE_WEBHOOK_SECRET=secrets.token_hex(32),
            DETAILER_S3_BUCKET=bucket,
            DETAILER_S3_ENDPOINT_URL=s3_endpoint,
            DETAILER_S3_REGION=REGION,
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            # The classical core: this test is about where files live, not about pictures.
            DETAILER_ENGINE_CORE="classical",
            DETAILER_ENGINE_THREADS="1",
            DETAILER_ENGINE_URL=f"{url_b}/engine",
            DETAILER_ENGINE_IMAGE_HOSTS=f"127.0.0.1:{port_a},127.0.0.1:{port_b}",
            DETAILER_ENGINE_WEBHOOK_HOSTS=f"127.0.0.1:{port_a},127.0.0.1:{port_b}",
            # Every job of the test is in flight at once; backpressure is tested elsewhere.
            DETAILER_ENGINE_MAX_IN_FLIGHT=str(JOBS + 10),
            DJANGO_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )

        def host(name: str, site_url: str) -> Host:
            data_dir = tmp_path_factory.mktemp(name)
            (data_dir / "tmp").mkdir()
            env = {
                **base,
                "DETAILER_DATA_DIR": str(data_dir),
                "TMPDIR": str(data_dir / "tmp"),  # so leftovers in temp files are seen too
                "SITE_URL": site_url,
            }
            return Host(name=name, data_dir=data_dir, env=env, url=site_url)

        web_a, web_b, workers = host("web-a", url_a), host("web-b", url_b), host("workers", url_b)
        deployment = Deployment(web_a, web_b, workers, database_url, s3_endpoint, bucket)
        manage(workers, "migrate", "--noinput")
        manage(workers, "collectstatic", "--noinput", "--verbosity", "0")
        try:
            for web, port in ((web_a, port_a), (web_b, port_b)):
                web.start(
                    [
                        *(sys.executable, "-m", "gunicorn", "detailer_site.wsgi:application"),
                        *("--bind", f"127.0.0.1:{port}", "--workers", "2"),
                        *("--worker-class", "gthread", "--threads", "4", "--timeout", "60"),
                    ]
                )
            workers.start(
                [
                    *(sys.executable, "manage.py", "serve", "--role", "workers"),
                    *("--engine-workers", "3", "--default-workers", "2"),
                ]
            )
            wait_until_healthy(web_a)
            wait_until_healthy(web_b)
            yield deployment
        finally:
            for each in deployment.hosts:
                each.stop()


def make_account(deployment: Deployment) -> None:
    manage(
        deployment.workers,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "from enhancer.teams import create_team\n"
        f"user = get_user_model().objects.create_user('ops', 'ops@example.com', {PASSWORD!r})\n"
        "create_team(user, 'Operations')\n",
    )


def log_in(url: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{url}/accounts/login/", timeout=10).raise_for_status()
    answer = session.post(
        f"{url}/accounts/login/",
        data={
            "username": "ops",
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session


def upload(session: requests.Session, url: str, images: dict[str, bytes]) -> str:
    """Send a batch through one host; returns the batch id."""
    answer = session.post(
        f"{url}/enhance/",
        data={
            "scale": "2",
            "details": "2",
            "modification": "2",
            "output_format": "png",
            "auto_fit": "on",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        files=[("images", (name, data, "image/png")) for name, data in images.items()],
        timeout=60,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:1000]
    found = re.search(r"/batches/([0-9a-f-]{36})/", answer.headers["Location"])
    assert found, answer.headers["Location"]
    return found.group(1)


def wait_for_jobs(deployment: Deployment, count: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        pending = deployment.sql(
            "SELECT count(*) FROM enhancer_job WHERE status IN "
            "('preparing', 'queued', 'submitting', 'starting', 'processing')"
        )[0][0]
        if pending == 0:
            return time.monotonic() - started
        for host in deployment.hosts:
            if host.process.poll() is not None:
                pytest.fail(f"{host.name} died:\n{host.log_tail()}", pytrace=False)
        time.sleep(1)
    pytest.fail(
        f"{pending} of {count} jobs still pending after {timeout:.0f} s:\n"
        + "\n".join(f"--- {h.name}\n{h.log_tail()}" for h in deployment.hosts),
        pytrace=False,
    )


def local_images(deployment: Deployment) -> list[Path]:
    """Every image-like file, or anything under media/, on any host's disk (temp included)."""
    found = []
    for host in deployment.hosts:
        for path in host.data_dir.rglob("*"):
            if path.is_file() and (
                path.suffix.lower() in IMAGE_SUFFIXES
                or "media" in path.relative_to(host.data_dir).parts
            ):
                found.append(path)
    return found


def test_jobs_sent_through_one_host_are_served_by_the_other(deployment: Deployment):
    make_account(deployment)
    # One login, on A: the session lives in the shared database, so B knows it too.
    session = log_in(deployment.web_a.url)
    hosts = [deployment.web_a, deployment.web_b]
    sent: dict[str, tuple[Host, dict[str, bytes]]] = {}  # batch id -> (host, images)
    clock = time.monotonic()
    for start in range(0, JOBS, PER_UPLOAD):
        through = hosts[(start // PER_UPLOAD) % 2]
        images = {
            f"img-{n:03d}.png": image_bytes(24, 16, seed=n)
            for n in range(start, min(JOBS, start + PER_UPLOAD))
        }
        sent[upload(session, through.url, images)] = (through, images)
    upload_seconds = time.monotonic() - clock
    work_seconds = wait_for_jobs(deployment, JOBS, timeout=max(300.0, JOBS * 4.0))
    print(
        f"\nmulti-host: {JOBS} jobs sent in {upload_seconds:.1f} s, all finished "
        f"{work_seconds:.1f} s later ({JOBS / (upload_seconds + work_seconds):.2f} jobs/s "
        "over 3 engine + 2 default workers)"
    )

    # Every job succeeded, each exactly once: one upstream artwork, one engine run, one submit.
    statuses = dict(deployment.sql("SELECT status, count(*) FROM enhancer_job GROUP BY status"))
    assert statuses == {"succeeded": JOBS}, statuses
    assert deployment.sql("SELECT count(DISTINCT upstream_id) FROM enhancer_job")[0][0] == JOBS
    # The ledger records each artwork the API accepted once; the engine forgets its own
    # copies once collected, so its table is no witness any more.
    assert deployment.sql("SELECT count(DISTINCT upstream_id) FROM enhancer_apijob")[0][0] == JOBS
    assert deployment.sql("SELECT count(*) FROM enhancer_apijob")[0][0] == JOBS
    runs = dict(
        deployment.sql(
            "SELECT task_path, count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE task_path LIKE '%%process_artwork' OR task_path LIKE '%%submit_job' "
            "GROUP BY task_path"
        )
    )
    assert sorted(runs.values()) == [JOBS, JOBS], runs

    s3 = s3_client(deployment.s3_endpoint)
    for batch_id, (through, images) in sent.items():
        other = deployment.web_b if through is deployment.web_a else deployment.web_a
        jobs = deployment.sql(
            "SELECT id, original_name, result FROM enhancer_job WHERE batch_id = %s", batch_id
        )
        assert sorted(name for _, name, _ in jobs) == sorted(images)
        for job_id, original_name, result_name in jobs:
            stored = s3.get_object(Bucket=deployment.bucket, Key=result_name)["Body"].read()
            result = session.get(f"{other.url}/jobs/{job_id}/result/", timeout=10)
            assert result.status_code == 200
            assert result.content == stored
            assert result.headers["Content-Disposition"] == (
                f'attachment; filename="{original_name.removesuffix(".png")}-2x.png"'
            )
            original = session.get(f"{other.url}/jobs/{job_id}/original/", timeout=10)
            assert original.content == images[original_name]
        # A job's page and thumbnail, the batch's page and its ZIP, through the other host too.
        page = session.get(f"{other.url}/jobs/{job_id}/", timeout=10)
        assert page.status_code == 200 and original_name in page.text
        thumbnail = session.get(f"{other.url}/jobs/{job_id}/thumbnail/", timeout=10)
        assert thumbnail.status_code == 200 and thumbnail.headers["Content-Type"] == "image/webp"
        assert session.get(f"{other.url}/batches/{batch_id}/", timeout=10).status_code == 200
        archive = zipfile.ZipFile(
            io.BytesIO(session.get(f"{other.url}/batches/{batch_id}/download/", timeout=30).content)
        )
        assert len(archive.namelist()) == len(images)
    for page in ("/dashboard/", "/gallery/", "/usage/"):
        for host in hosts:
            assert session.get(f"{host.url}{page}", timeout=10).status_code == 200, page

    assert local_images(deployment) == []
    measure_streaming(deployment, session, job_id, result_name)


def measure_streaming(deployment: Deployment, session, job_id: str, key: str) -> None:
    """Print how fast a large download streams through the site and straight from the bucket
    by a presigned URL, the two ways downloads could go (the README explains the choice)."""
    s3 = s3_client(deployment.s3_endpoint)
    size = 32 * 1024 * 1024
    big = os.urandom(size)
    s3.put_object(Bucket=deployment.bucket, Key=key, Body=big)
    presigned = s3.generate_presigned_url(
        "get_object", Params={"Bucket": deployment.bucket, "Key": key}, ExpiresIn=60
    )
    figures = {}
    for label, url, client in (
        ("through the site", f"{deployment.web_a.url}/jobs/{job_id}/result/", session),
        ("presigned, from the bucket", presigned, requests),
    ):
        best = float("inf")
        for _ in range(3):
            clock = time.perf_counter()
            body = client.get(url, timeout=60).content
            best = min(best, time.perf_counter() - clock)
            assert body == big
        figures[label] = size / best / 1e6
    print(
        "multi-host: a 32 MB download "
        + ", ".join(f"{label} {rate:.0f} MB/s" for label, rate in figures.items())
    )
