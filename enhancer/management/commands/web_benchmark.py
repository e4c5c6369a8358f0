"""`python manage.py web_benchmark`: how fast the pages are, on the real stack, under wrk.

Seeds one team with N jobs into a database of its own (a fresh SQLite file by default, or the
PostgreSQL database given with --database-url), starts gunicorn exactly as `serve` does, with a
bare Django view added beside the real site, and drives each page with Debian's wrk in one run.
Prints requests per second, p50 and p99 latency, each as a ratio to the bare view, and the SQL
queries each page makes. The machine's speed drifts by half within a minute on a shared host, so
the bare view is measured right before and right after every page, each page is measured in
several rounds, and a page's figures are the medians over the rounds of its ratios to its own
neighbours. Figures, never pass/fail: compare ratios within one run.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from enhancer.management.commands.serve import web_command
from enhancer.webbench import wrk

# `serve`'s defaults: the benchmark measures the configuration people run.
WEB_WORKERS = 2
THREADS = 4
# The targets: the poll against the bare view, every other page at a million jobs.
POLL_RATE_TARGET = 0.35
POLL_P99_TARGET = 2.0
PAGE_RATE_TARGET = 0.15


@dataclass(frozen=True)
class Measured:
    """One round of a page, with the bare view's runs right before and right after it."""

    result: wrk.Result
    bare: tuple[wrk.Result, wrk.Result]

    @property
    def rate_ratio(self) -> float:
        return self.result.requests_per_second / median(b.requests_per_second for b in self.bare)

    @property
    def p99_ratio(self) -> float:
        return self.result.p99_ms / median(b.p99_ms for b in self.bare)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Command(BaseCommand):
    help = "Measure the web pages with wrk on the real gunicorn stack against a bare view."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--jobs", type=int, default=1000, help="Jobs in the team (1000).")
        parser.add_argument(
            "--database-url",
            default="",
            help="A PostgreSQL database for the benchmark (its tables are migrated and its "
            "'Web benchmark' team replaced). Default: a fresh SQLite file in a temporary folder.",
        )
        parser.add_argument("--connections", type=int, default=50)
        parser.add_argument(
            "--duration", type=float, default=5.0, help="Seconds per page and round (5)."
        )
        parser.add_argument("--rounds", type=int, default=3, help="Rounds over the pages (3).")
        parser.add_argument(
            "--reuse", action="store_true", help="Keep an already seeded team of that size."
        )
        parser.add_argument("--pages", default="", help="Comma-separated page names (all).")

    def handle(self, *args, jobs: int, database_url: str, connections: int, **options) -> None:
        try:
            wrk.wrk_path()
        except wrk.WrkMissing as exc:
            raise CommandError(str(exc)) from exc
        if jobs < 30:
            raise CommandError("Give at least 30 jobs (--jobs), so every page has a full page.")
        data_dir = Path(tempfile.mkdtemp(prefix="detailer-webbench-"))
        try:
            self.run(data_dir, jobs, database_url, connections, **options)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)

    def run(self, data_dir: Path, jobs: int, database_url: str, connections: int, **options):
        port = free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "enhancer.webbench.settings",
            "DETAILER_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url or f"sqlite:///{data_dir / 'bench.sqlite3'}",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]

        def django(*arguments: str) -> str:
            # Our own fixed commands, no shell.
            done = subprocess.run(  # noqa: S603
                [*manage, *arguments], env=env, cwd=settings.BASE_DIR, capture_output=True,
                text=True,
            )  # fmt: skip
            if done.returncode:
                raise CommandError(f"{' '.join(arguments)} failed:\n{done.stderr[-3000:]}")
            return done.stdout

        self.say(f"Preparing the database and seeding {jobs:,} jobs…")
        django("migrate", "--noinput", "--verbosity", "0")
        if not (settings.STATIC_ROOT / "staticfiles.json").exists():
            django("collectstatic", "--noinput", "--verbosity", "0")
        seed_args = ["web_benchmark_seed", str(jobs)] + (["--reuse"] if options["reuse"] else [])
        report = json.loads(django(*seed_args).strip().splitlines()[-1])
        self.say(f"Seeded in {report['seconds_to_seed']} s ({report['vendor']}).")

        command = web_command(sys.executable, f"127.0.0.1:{port}", WEB_WORKERS, THREADS)
        # gunicorn's log goes to a file: a pipe nobody reads fills up after a few dozen logged
        # errors, and then every thread that logs one waits on it forever.
        self.web_log = data_dir / "gunicorn.log"
        with self.web_log.open("w") as log:
            web = subprocess.Popen(  # noqa: S603  (serve's own command line)
                command, env=env, cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL,
                stderr=log, text=True,
            )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            self.wait_until_up(web, f"{base}/bench/bare/")
            results = self.measure(base, report, connections, options)
        finally:
            web.terminate()
            try:
                web.wait(timeout=25)
            except subprocess.TimeoutExpired:
                web.kill()
        self.print_table(report, results, jobs, connections, options)
        self.print_logged_errors()

    def print_logged_errors(self) -> None:
        """What the site logged as errors while it was measured (the log goes with the run's
        temporary folder): the first line of each kind, and how often."""
        kinds: dict[str, int] = {}
        for line in self.web_log.read_text(errors="replace").splitlines():
            # Django's "… ERROR django.request: …" and gunicorn's "… [ERROR] …", "[CRITICAL]".
            marks = (" ERROR ", "[ERROR]", "[CRITICAL]")
            if any(mark in line for mark in marks) or line.startswith("Traceback"):
                kind = line.split("] ", 3)[-1] if line.startswith("[") else line
                kind = kind.split(" ERROR ", 1)[-1][:160]
                kinds[kind] = kinds.get(kind, 0) + 1
        if kinds:
            self.stdout.write("The site logged errors while measured:")
            for kind, count in sorted(kinds.items(), key=lambda item: -item[1])[:10]:
                self.stdout.write(f"  {count} x {kind}")

    def wait_until_up(self, web: subprocess.Popen, url: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if web.poll() is not None:
                raise CommandError(f"gunicorn stopped:\n{self.web_log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (loopback)
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise CommandError("gunicorn did not answer within a minute.")

    def measure(self, base: str, report: dict, connections: int, options: dict) -> dict:
        """{page: [Measured, one per round]}, and {"bare view": [every bare run]}."""
        wanted = [name.strip() for name in options["pages"].split(",") if name.strip()]
        names = [
            name
            for name in report["pages"]
            if name != "bare view" and (not wanted or name in wanted)
        ]
        results: dict[str, list] = {"bare view": []}

        def run(name: str, *, warm_up: bool) -> wrk.Result:
            page = report["pages"][name]
            headers = {"Cookie": report["cookie"]}
            if page["htmx"]:
                headers["HX-Request"] = "true"
            url = base + page["url"]
            if warm_up:
                # Every gunicorn thread opens its database connection and compiles its
                # templates before the first measured run.
                wrk.run(url, headers=headers, connections=connections, duration=2)
            result = wrk.run(
                url, headers=headers, connections=connections, duration=options["duration"]
            )
            # wrk stops waiting, the server does not: let a slow page's requests finish
            # before the next run.
            self.settle(f"{base}/bench/bare/")
            return result

        for round_number in range(options["rounds"]):
            self.say(f"  round {round_number + 1} of {options['rounds']}…")
            before = run("bare view", warm_up=round_number == 0)
            results["bare view"].append(before)
            for name in names:
                result = run(name, warm_up=round_number == 0)
                after = run("bare view", warm_up=False)
                results["bare view"].append(after)
                results.setdefault(name, []).append(Measured(result, (before, after)))
                before = after
        return results

    def settle(self, url: str, deadline: float = 180.0) -> None:
        """Wait until the bare view answers quickly three times in a row."""
        quick, end = 0, time.monotonic() + deadline
        while quick < 3 and time.monotonic() < end:
            started = time.monotonic()
            try:
                with urllib.request.urlopen(url, timeout=10):  # noqa: S310 (loopback)
                    pass
            except OSError:
                quick = 0
                continue
            quick = quick + 1 if time.monotonic() - started < 0.2 else 0
            time.sleep(0.2)

    def print_table(self, report: dict, results: dict, jobs: int, connections: int, options):
        bare_runs = results["bare view"]
        out = self.stdout.write
        out("")
        out(
            f"{jobs:,} jobs on {report['vendor']}, {connections} connections, "
            f"{options['duration']:g} s per page in each of {options['rounds']} rounds, gunicorn "
            f"{WEB_WORKERS} workers x {THREADS} threads (as `serve`), "
            f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})"
        )
        rates = [r.requests_per_second for r in bare_runs]
        out(
            f"bare view: {min(rates):,.0f} to {max(rates):,.0f} req/s over its {len(rates)} "
            "runs, one before and after every page: each page's ratios are to its own two, "
            "and the medians over the rounds are shown"
        )
        out("")
        header = (
            f"{'page':<17}{'req/s':>9}{'x bare':>8}{'p50 ms':>9}{'p99 ms':>9}"
            f"{'p99 x bare':>12}{'queries':>9}  errors"
        )
        out(header)
        out("-" * len(header))
        out(
            f"{'bare view':<17}{median(rates):>9,.0f}{1:>7.2f}x"
            f"{median(r.p50_ms for r in bare_runs):>9.1f}"
            f"{median(r.p99_ms for r in bare_runs):>9.1f}{1:>11.2f}x{0:>9}"
        )
        figures = {}
        for name, rounds in results.items():
            if name == "bare view":
                continue
            queries = report["pages"][name]["queries"]
            errors = sum(m.result.bad_responses + m.result.socket_errors for m in rounds)
            if not all(m.result.requests for m in rounds):
                out(f"{name:<17}{'no answer within 10 s':>45}{queries:>12}  {errors or ''}")
                figures[name] = (0.0, float("inf"))
                continue
            rate_ratio = median(m.rate_ratio for m in rounds)
            p99_ratio = median(m.p99_ratio for m in rounds)
            figures[name] = (rate_ratio, p99_ratio)
            out(
                f"{name:<17}{median(m.result.requests_per_second for m in rounds):>9,.0f}"
                f"{rate_ratio:>7.2f}x{median(m.result.p50_ms for m in rounds):>9.1f}"
                f"{median(m.result.p99_ms for m in rounds):>9.1f}{p99_ratio:>11.2f}x"
                f"{queries:>9}  {errors or ''}"
            )
        out("")
        if "poll" in figures:
            rate_ratio, p99_ratio = figures["poll"]
            rate_ok, p99_ok = rate_ratio >= POLL_RATE_TARGET, p99_ratio <= POLL_P99_TARGET
            out(
                f"Poll: {rate_ratio:.2f}x the bare view "
                f"(target {POLL_RATE_TARGET}x: {'met' if rate_ok else 'NOT met'}), p99 "
                f"{p99_ratio:.2f}x (target at most {POLL_P99_TARGET:g}x: "
                f"{'met' if p99_ok else 'NOT met'})."
            )
        slow = [
            name
            for name, (rate_ratio, _) in figures.items()
            if name != "poll" and rate_ratio < PAGE_RATE_TARGET
        ]
        out(
            f"Pages under {PAGE_RATE_TARGET}x the bare view: {', '.join(slow) if slow else 'none'}."
        )

    def say(self, message: str) -> None:
        self.stderr.write(message)
