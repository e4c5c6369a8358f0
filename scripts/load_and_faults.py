"""Load and faults against the real stack: prints what a team's workload and an operator's bad
day do to it, and whether each target holds.

    .venv/bin/python scripts/load_and_faults.py                 # every scenario, 60-photo burst
    .venv/bin/python scripts/load_and_faults.py --burst 200     # the larger burst
    .venv/bin/python scripts/load_and_faults.py --only kill,upload

It starts the site as `make run` does (`manage.py serve`: gunicorn, the default, cloud and
engine workers) on a free loopback port with a fresh data directory and SQLite, plus a scripted
stand-in for the Tengr.ai cloud on loopback, and drives it over HTTP as people would: signing
up, creating teams, posting the New enhancement form. The database is read directly only to
check what was delivered. Exit status 1 when a target is missed.

Scenarios (targets from the background-work issue):
- burst: N photos of 600 x 450 at 4x sent in one request by one team, then one photo by another
  team: all succeed; the other team's photo waits about one job, not the batch.
- kill: `kill -9` of the engine worker in the middle of a job: restarted within 10 s, /healthz
  200 again within 30 s, the job done within 3 minutes, delivered once.
- slow-cloud: team A's cloud API hangs 30 s per call; team B's built-in job is delayed by
  under 5 s against the same job measured first on the idle stack.
- upload: a 200 MB upload refused in under 2 s, the web workers' memory growing under 30 MB
  (once over the request cap, answered from the headers; once just under it, where each image
  over the per-image limit is dropped as it arrives).
- fuzz: mutated images posted through the real stack: no 5xx.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.scripted_server import Delay, ScriptedServer  # noqa: E402

PASSWORD = "correct horse battery staple"
MB = 1024 * 1024


# --- The stack -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=kwargs.pop("timeout", 10), **kwargs)

    def healthz(self) -> int:
        try:
            return self.get("/healthz", timeout=5).status_code
        except requests.RequestException:
            return 0

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def stack(cloud_url: str, *, engine_workers: int = 1) -> Iterator[Stack]:
    data_dir = Path(tempfile.mkdtemp(prefix="detailer-load-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DETAILER_")) and key not in {"SITE_URL", "DATABASE_URL"}
    }
    env.update(
        DETAILER_DATA_DIR=str(data_dir),
        SITE_URL=url,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DETAILER_API_URL=cloud_url,
        DETAILER_SSRF_ALLOW_HOSTS=cloud_url.split("//", 1)[1],
        PYTHONUNBUFFERED="1",
    )
    log_path = data_dir / "server.log"
    with log_path.open("w") as log:
        for step in (["migrate", "--noinput"], ["collectstatic", "--noinput", "-v", "0"]):
            subprocess.run(  # noqa: S603
                [sys.executable, "manage.py", *step],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
            )
        process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "manage.py",
                "serve",
                "--bind",
                f"127.0.0.1:{port}",
                "--engine-workers",
                str(engine_workers),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        site = Stack(url, data_dir, env, process, log_path)
        try:
            wait_for(lambda: site.healthz() == 200, 90, "the site to answer /healthz")
            os.environ["DETAILER_DATA_DIR"] = str(data_dir)  # for the direct database reads
            yield site
        finally:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


def wait_for(condition: Callable[[], object], timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")


def django_setup() -> None:
    """Read the stack's database directly (SQLite in WAL mode: readers never block it)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detailer_site.settings")
    django.setup()


# --- People ----------------------------------------------------------------------------------


class Person:
    """A browser's worth of HTTP: a session cookie and the CSRF token, as a person's browser."""

    def __init__(self, site: Stack, name: str) -> None:
        self.site = site
        self.name = name
        self.http = requests.Session()

    def csrf(self, path: str) -> str:
        page = self.http.get(self.site.url + path, timeout=30).text
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        data = {"csrfmiddlewaretoken": self.csrf(path), **data}
        return self.http.post(
            self.site.url + path,
            data=data,
            headers={"Referer": self.site.url + path},
            timeout=kwargs.pop("timeout", 120),
            **kwargs,
        )

    def sign_up_with_team(self) -> Person:
        self.post(
            "/accounts/signup/",
            {
                "username": self.name,
                "email": f"{self.name}@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        ).raise_for_status()
        self.post("/teams/new/", {"name": f"Team {self.name}"}).raise_for_status()
        return self

    def use_cloud(self, key: str) -> None:
        self.post(
            "/team/settings/",
            {"name": f"Team {self.name}", "provider": "cloud", "api_key": key},
        ).raise_for_status()

    def enhance(self, files: list[tuple[str, bytes]], scale: int = 4) -> requests.Response:
        fields = {"scale": scale, "details": 1, "modification": 1, "output_format": "webp"}
        return self.post(
            "/enhance/",
            {**fields, "auto_fit": "on"},
            files=[("images", (name, data, "image/jpeg")) for name, data in files],
        )


def photo(width: int, height: int, seed: int) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [
            0.5 + 0.4 * np.sin(x / width * (3 + seed % 5)),
            0.5 + 0.4 * np.cos(y / height * 2.7),
            0.5 + 0.3 * np.sin((x + y) / (width + height) * 5.0),
        ],
        axis=-1,
    )
    base += rng.normal(0, 0.04, base.shape)
    buffer = io.BytesIO()
    Image.fromarray((np.clip(base, 0, 1) * 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


# --- Reading the outcome ---------------------------------------------------------------------


def jobs_of(person: Person):
    from enhancer.models import Job

    return Job.objects.filter(created_by__username=person.name)


def wait_final(person: Person, count: int, timeout: float) -> dict[str, int]:
    from enhancer.models import Job

    def done() -> bool:
        jobs = jobs_of(person)
        return jobs.count() >= count and not jobs.filter(status__in=Job.PENDING_STATUSES).exists()

    wait_for(done, timeout, f"{count} jobs of {person.name} to end", every=1.0)
    statuses: dict[str, int] = {}
    for status in jobs_of(person).values_list("status", flat=True):
        statuses[status] = statuses.get(status, 0) + 1
    return statuses


def delivered_twice(person: Person) -> int:
    """Jobs for which the engine made more than one artwork (sent, and so billed, twice)."""
    from enhancer.engine.models import Artwork

    parameters = Artwork.objects.values_list("parameters", flat=True)
    urls = [str(given.get("imageUrl", "")) for given in parameters]
    return sum(
        sum(str(job_id) in url for url in urls) > 1
        for job_id in jobs_of(person).values_list("pk", flat=True)
    )


def wait_idle(timeout: float = 600) -> None:
    """Let the engine finish what an earlier scenario left (a failed scenario may leave work)."""
    from enhancer.models import Job, Team

    wait_for(
        lambda: (
            not Job.objects.filter(
                provider=Team.Provider.BUILTIN, status__in=Job.PENDING_STATUSES
            ).exists()
        ),
        timeout,
        "the engine's earlier work to end",
        every=1.0,
    )


@dataclass
class Report:
    """Targets met or missed. A missed timing is printed, and fails the run only with --strict:
    these machines are shared and noisy. Lost, failed or twice-sent work always fails it."""

    strict: bool = False
    lines: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    slow: list[str] = field(default_factory=list)

    def figure(self, text: str) -> None:
        self.lines.append(text)
        print(text, flush=True)

    def target(self, name: str, ok: bool, detail: str, *, timing: bool = False) -> None:
        self.figure(f"  {'met   ' if ok else 'MISSED'}  {name}: {detail}")
        if not ok:
            (self.slow if timing and not self.strict else self.missed).append(name)


# --- Scenarios -------------------------------------------------------------------------------


def scenario_burst(site: Stack, report: Report, count: int) -> None:
    report.figure(f"burst: {count} photos of 600 x 450 at 4x in one request, then one other team")
    busy, other = Person(site, "burst").sign_up_with_team(), Person(site, "single")
    other.sign_up_with_team()
    files = [(f"photo-{n:03d}.jpg", photo(600, 450, n)) for n in range(count)]
    started = time.monotonic()
    response = busy.enhance(files)
    report.figure(
        f"  the form answered {response.status_code} in {time.monotonic() - started:.1f} s"
    )
    time.sleep(3)  # the batch is queued and the engine busy
    sent_single = time.monotonic()
    other.enhance([("single.jpg", photo(600, 450, 999))])
    single = wait_final(other, 1, 600)
    single_wait = time.monotonic() - sent_single
    statuses = wait_final(busy, count, 60 * 30)
    elapsed = time.monotonic() - started
    from enhancer.models import Job

    durations = [d for d in jobs_of(busy).values_list("duration", flat=True) if d]
    typical = statistics.median(durations) if durations else float("nan")
    succeeded = statuses.get(Job.Status.SUCCEEDED, 0)
    report.figure(
        f"  {succeeded}/{count} succeeded in {elapsed:.0f} s ({statuses}); "
        f"median processing {typical:.2f} s a job"
    )
    report.target("burst", succeeded == count, f"{succeeded}/{count} succeeded")
    report.target("other team's photo", single.get("succeeded") == 1, f"{single}")
    report.target(
        "fair share",
        single_wait <= 2 * typical + 10,
        f"the other team's photo done {single_wait:.1f} s after sending, while {count} waited "
        f"(about {single_wait / typical:.1f} jobs' processing time)",
        timing=True,
    )
    report.target("sent once", delivered_twice(busy) == 0, f"{delivered_twice(busy)} sent twice")


def process_ids(pattern: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if pattern in command:
                found.append(int(entry.name))
    return found


def of_this_stack(site: Stack, pids: list[int]) -> list[int]:
    mine = []
    for pid in pids:
        with contextlib.suppress(OSError):  # it may have ended meanwhile
            if str(site.data_dir).encode() in Path(f"/proc/{pid}/environ").read_bytes():
                mine.append(pid)
    return mine


def engine_worker_pids(site: Stack) -> list[int]:
    return of_this_stack(site, process_ids("manage.py worker --queue-name engine"))


def scenario_kill(site: Stack, report: Report) -> None:
    report.figure("kill: kill -9 of the engine worker in the middle of a job")
    person = Person(site, "victim").sign_up_with_team()
    from enhancer.engine.models import Artwork

    person.enhance([("big.jpg", photo(1200, 900, 5))], scale=8)  # several seconds of work
    job = wait_for(lambda: jobs_of(person).exclude(upstream_id="").first(), 120, "the submit")
    wait_for(
        lambda: Artwork.objects.filter(pk=job.upstream_id, status="processing").exists(),
        120,
        "the engine to be processing it",
        every=0.05,
    )
    (victim,) = engine_worker_pids(site)
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    new = wait_for(lambda: [p for p in engine_worker_pids(site) if p != victim], 60, "a restart")
    restarted = time.monotonic() - killed
    worst_unhealthy = 0.0
    unhealthy_since = None
    healthy_again = None
    while time.monotonic() - killed < 40:
        if site.healthz() == 200:
            if unhealthy_since is not None:
                worst_unhealthy = max(worst_unhealthy, time.monotonic() - unhealthy_since)
                unhealthy_since = None
            healthy_again = healthy_again or time.monotonic() - killed
        elif unhealthy_since is None:
            unhealthy_since = time.monotonic()
        time.sleep(0.5)
    statuses = wait_final(person, 1, 300)
    done_after = time.monotonic() - killed
    job.refresh_from_db()
    report.target(
        "restart",
        restarted <= 10,
        f"engine worker {new[0]} started {restarted:.1f} s after",
        timing=True,
    )
    report.target(
        "healthz",
        healthy_again is not None and healthy_again <= 30 and unhealthy_since is None,
        f"200 again {healthy_again or float('nan'):.1f} s after; longest non-200 spell "
        f"{worst_unhealthy:.1f} s",
        timing=True,
    )
    report.target("carried on", statuses.get("succeeded") == 1, f"job {job.status}")
    report.target(
        "within 3 minutes", done_after <= 180, f"done {done_after:.0f} s after", timing=True
    )
    report.target("sent once", delivered_twice(person) == 0, f"{delivered_twice(person)} twice")


def timed_builtin_job(person: Person, name: str) -> float:
    sent = time.monotonic()
    before = jobs_of(person).count()
    person.enhance([(name, photo(600, 450, 42))], scale=2)
    wait_final(person, before + 1, 300)
    return time.monotonic() - sent


def scenario_slow_cloud(site: Stack, cloud: ScriptedServer, report: Report) -> None:
    report.figure("slow-cloud: team A's cloud API hangs 30 s per call; team B's built-in job")
    b = Person(site, "steady").sign_up_with_team()
    timed_builtin_job(b, "warm-up.jpg")  # the engine loads its network on its first job
    baseline = timed_builtin_job(b, "baseline.jpg")
    a = Person(site, "stuck").sign_up_with_team()
    a.use_cloud("tk_live_0123456789abcdef")
    cloud.script("*", re.compile(r"/v2/.*"), Delay(30))
    a.enhance([(f"cloud-{n}.jpg", photo(300, 200, n)) for n in range(4)], scale=2)
    time.sleep(2)  # team A's calls are hanging now
    during = timed_builtin_job(b, "during.jpg")
    report.target(
        "slow provider isolated",
        during - baseline < 5,
        f"team B's job took {during:.1f} s against {baseline:.1f} s idle "
        f"(delayed {during - baseline:+.1f} s)",
        timing=True,
    )


class Body(io.RawIOBase):
    """A multipart body of one file of `size` bytes, streamed without holding it in memory."""

    def __init__(self, boundary: str, size: int, prefix: bytes) -> None:
        self.head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="images"; '
            f'filename="huge.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode() + prefix
        self.tail = f"\r\n--{boundary}--\r\n".encode()
        self.size = len(self.head) + size - len(prefix) + len(self.tail)
        self.position = 0

    def __len__(self) -> int:
        return self.size

    def readable(self) -> bool:
        return True

    def tell(self) -> int:  # requests reads the length left as len() - tell()
        return self.position

    def read(self, n: int = -1) -> bytes:
        if self.position >= self.size:
            return b""
        n = self.size - self.position if n is None or n < 0 else min(n, self.size - self.position)
        out = bytearray()
        while len(out) < n:
            at = self.position + len(out)
            if at < len(self.head):
                out += self.head[at : at + n - len(out)]
            elif at < self.size - len(self.tail):
                out += b"\0" * min(n - len(out), self.size - len(self.tail) - at)
            else:
                start = at - (self.size - len(self.tail))
                out += self.tail[start : start + n - len(out)]
        self.position += len(out)
        return bytes(out)


def rss_kb(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def web_worker_pids(site: Stack) -> list[int]:
    master = of_this_stack(site, process_ids("gunicorn detailer_site.wsgi"))
    children = []
    for pid in master:
        with contextlib.suppress(OSError):
            parent = int(Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[1])
            if parent in master:
                children.append(pid)
    return children


def upload(site: Stack, person: Person, size: int) -> tuple[int, float, int]:
    """POST a `size`-byte file; returns the status, the seconds to the answer and the largest
    growth of any web worker's resident memory meanwhile, in KB."""
    workers = web_worker_pids(site)
    before = {pid: rss_kb(pid) for pid in workers}
    peak = dict(before)
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for pid in workers:
                peak[pid] = max(peak[pid], rss_kb(pid))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    boundary = "detailerload"
    body = Body(boundary, size, photo(64, 48, 1)[:200])
    token = person.csrf("/enhance/")
    started = time.monotonic()
    try:
        response = person.http.post(
            site.url + "/enhance/",
            data=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-CSRFToken": token,
                "Referer": site.url + "/enhance/",
            },
            timeout=60,
        )
        status = response.status_code
    except requests.ConnectionError:
        status = -1  # the server answered and closed while the body was still being sent
    elapsed = time.monotonic() - started
    stop.set()
    watcher.join()
    return status, elapsed, max(peak[pid] - before[pid] for pid in workers)


def refused_from_headers(site: Stack, person: Person, size: int) -> tuple[int, float]:
    """Send only the headers of a `size`-byte upload and time the answer."""
    host, port = site.url.split("//", 1)[1].split(":")
    cookies = "; ".join(f"{k}={v}" for k, v in person.http.cookies.items())
    token = person.csrf("/enhance/")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                f"POST /enhance/ HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {size}\r\n"
                f"Cookie: {cookies}\r\nX-CSRFToken: {token}\r\n\r\n"
            ).encode()
        )
        answer = sock.recv(4096).decode(errors="replace")
    return int(answer.split()[1]), time.monotonic() - started


def scenario_upload(site: Stack, report: Report) -> None:
    report.figure("upload: 200 MB uploads")
    person = Person(site, "uploader").sign_up_with_team()
    status, seconds = refused_from_headers(site, person, 200 * 1000 * 1000 + 64 * MB)
    report.target(
        "over the request cap",
        status == 413,
        f"264 MB answered {status} in {seconds * 1000:.0f} ms, before the body was sent",
    )
    status, seconds, grew = upload(site, person, 200 * MB)
    report.target("200 MB upload refused", status in (413, -1), f"answered {status}")
    report.target("in under 2 s", seconds < 2, f"{seconds:.2f} s", timing=True)
    report.target("memory", grew < 30 * 1024, f"web worker grew {grew / 1024:.1f} MB")
    status, seconds, grew = upload(site, person, 170 * MB)
    report.target(
        "170 MB image under the request cap, over the per-image limit, refused in the form",
        status == 200 and grew < 30 * 1024,
        f"answered {status} after {seconds:.2f} s (the whole body is read, to a discarded "
        f"stream); web worker memory grew {grew / 1024:.1f} MB",
    )


def scenario_fuzz(site: Stack, report: Report, count: int) -> None:
    report.figure(f"fuzz: {count} mutated images through the real stack")
    person = Person(site, "fuzzer").sign_up_with_team()
    rng = random.Random(1)  # noqa: S311
    seeds = [photo(48, 32, n) for n in range(4)]
    five_xx = 0
    for n in range(count):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(data))
            action = rng.choice(["flip", "cut", "insert", "delete"])
            if action == "flip":
                data[at] = rng.randrange(256)
            elif action == "cut":
                del data[max(at, 4) :]
            elif action == "insert":
                data[at:at] = rng.randbytes(rng.randint(1, 64))
            else:
                del data[at : at + rng.randint(1, 64)]
        response = person.enhance([(f"fuzz-{n}.jpg", bytes(data))], scale=1)
        five_xx += response.status_code >= 500
    wait_final(person, jobs_of(person).count(), 600)
    report.target("no 5xx", five_xx == 0, f"{five_xx} answers of 5xx in {count}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--burst", type=int, default=60)
    parser.add_argument("--fuzz", type=int, default=100)
    parser.add_argument("--only", default="burst,kill,slow-cloud,upload,fuzz")
    parser.add_argument("--strict", action="store_true", help="fail on missed timings too")
    args = parser.parse_args()
    chosen = set(args.only.split(","))
    report = Report(strict=args.strict)
    with ScriptedServer() as cloud, stack(cloud.url) as site:
        django_setup()
        report.figure(f"the stack: {site.url}, data in {site.data_dir}, {os.cpu_count()} cores")
        scenarios = {
            "upload": lambda: scenario_upload(site, report),
            "kill": lambda: scenario_kill(site, report),
            "burst": lambda: scenario_burst(site, report, args.burst),
            "fuzz": lambda: scenario_fuzz(site, report, args.fuzz),
            # Last: team A's cloud jobs go on retrying (on the cloud queue) until the end.
            "slow-cloud": lambda: scenario_slow_cloud(site, cloud, report),
        }
        for name, run in scenarios.items():
            if name in chosen:
                started = time.monotonic()
                try:
                    wait_idle()
                    run()
                except Exception as exc:  # report it and go on with the next scenario
                    report.target(name, False, f"{exc.__class__.__name__}: {exc}")
                    print(site.log_tail(), flush=True)
                report.figure(f"  ({time.monotonic() - started:.0f} s)")
    if report.slow:
        print(f"\nslower than the target on this machine: {', '.join(report.slow)}")
    print("\nall targets met" if not report.missed else f"\nMISSED: {', '.join(report.missed)}")
    return 1 if report.missed else 0


if __name__ == "__main__":
    sys.exit(main())
