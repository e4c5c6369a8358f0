"""`python manage.py serve`: the web server and the task workers together, in the foreground.

What `make run` ends with. gunicorn serves the site (static files through whitenoise); task
workers (`manage.py worker`, with heartbeats) work the queues: `default` (built-in engine jobs'
submitting, polling and collecting, webhooks), `cloud` (the same for the Tengr.ai cloud, so a
cloud API that hangs never holds up the rest) and `engine` (the engine's own processing, so a long
8x job never delays the rest).

A child that dies is started again, after a pause that doubles from 1 s to 30 s while it keeps
dying quickly, and the restart is logged; the tasks it held are taken back by the other workers
(enhancer/workers.py). Ctrl+C or SIGTERM stops them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from enhancer.cleanup import clean_up
from enhancer.retention import expire_files
from enhancer.sweep import sweep

# How often stale jobs are looked for (see enhancer/sweep.py).
SWEEP_EVERY = 300.0
# Restarting a child that died: the first pause, the longest, and how long a child must have
# run for its next death to count as a fresh one.
RESTART_FIRST_PAUSE = 1.0
RESTART_MAX_PAUSE = 30.0
RESTART_STABLE_AFTER = 60.0


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started: float = 0.0
    pause: float = RESTART_FIRST_PAUSE
    restart_at: float | None = None
    restarts: int = 0

    def start(self) -> None:
        # Our own fixed commands: no shell, nothing from users.
        self.process = subprocess.Popen(  # noqa: S603
            self.command, cwd=settings.BASE_DIR, env=os.environ.copy()
        )
        self.started = time.monotonic()
        self.restart_at = None


def web_command(python: str, bind: str, web_workers: int, threads: int) -> list[str]:
    """gunicorn as `serve` runs it; `web_benchmark` measures this very command line."""
    return [
        python,
        "-m",
        "gunicorn",
        "detailer_site.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(web_workers),
        # Threads, because the engine fetches images from this same site while a
        # request of its own may be waiting.
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--timeout",
        "60",
        "--graceful-timeout",
        "20",
        "--access-logfile",
        "-",
    ]


class Command(BaseCommand):
    help = "Run the web server and the background workers until Ctrl+C."

    def add_arguments(self, parser) -> None:
        site = urlsplit(settings.SITE_URL)
        parser.add_argument("--bind", default=f"127.0.0.1:{site.port or 8000}")
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--engine-workers", type=int, default=1)
        parser.add_argument("--cloud-workers", type=int, default=1)
        # Several hosts: `--role web` on the web hosts (or plain gunicorn), `--role workers`
        # on the worker hosts; see the README's deployment guide.
        parser.add_argument("--role", choices=["all", "web", "workers"], default="all")
        parser.add_argument("--default-workers", type=int, default=1)

    def handle(
        self,
        *args,
        bind: str,
        web_workers: int,
        threads: int,
        engine_workers: int,
        cloud_workers: int,
        role: str = "all",
        default_workers: int = 1,
        **kw,
    ):
        python = sys.executable
        commands = {
            "web": web_command(python, bind, web_workers, threads),
            "worker": self.worker_command("default"),
        }
        for n in range(cloud_workers):
            commands[f"cloud-{n + 1}"] = self.worker_command("cloud")
        for n in range(engine_workers):
            commands[f"engine-{n + 1}"] = self.worker_command("engine")
        for n in range(1, default_workers):
            commands[f"worker-{n + 1}"] = self.worker_command("default")
        if role == "web":
            commands = {"web": commands["web"]}
        elif role == "workers":
            del commands["web"]
        children = [Child(name, command) for name, command in commands.items()]
        for child in children:
            child.start()
        self.stdout.write(
            self.style.SUCCESS(f"Detailer is running at {settings.SITE_URL}  (Ctrl+C to stop)")
        )

        stopping = False

        def stop(signum, frame) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        next_sweep = time.monotonic() + SWEEP_EVERY
        try:
            while not stopping:
                # Stale jobs are swept where the workers run (the sweep is safe to run on
                # several hosts at once: every change is a conditional UPDATE).
                if role != "web" and time.monotonic() >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + SWEEP_EVERY
                for child in children:
                    self.supervise(child)
                time.sleep(0.5)
        finally:
            self.shutdown(children)

    def worker_command(self, queue: str) -> list[str]:
        return [
            sys.executable,
            "manage.py",
            "worker",
            "--queue-name",
            queue,
            "--interval",
            "0.5",
            "--no-reload",
        ]

    def supervise(self, child: Child) -> None:
        """Start a dead child again, with a growing pause while it keeps dying quickly."""
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.restarts += 1
                self.stderr.write(f"Starting {child.name} again (restart {child.restarts}).")
                child.start()
            return
        assert child.process is not None
        if child.process.poll() is None:
            return
        if now - child.started > RESTART_STABLE_AFTER:
            child.pause = RESTART_FIRST_PAUSE
        self.stderr.write(
            f"{child.name} exited with code {child.process.returncode}; "
            f"starting it again in {child.pause:.0f} s."
        )
        child.restart_at = now + child.pause
        child.pause = min(RESTART_MAX_PAUSE, child.pause * 2)

    def sweep(self) -> None:
        try:
            jobs, artworks = sweep()
        except Exception as exc:  # a busy database must not take the site down; next time
            self.stderr.write(f"Sweeping stale jobs failed: {exc}")
            return
        if jobs or artworks:
            self.stdout.write(f"Failed {jobs} stale job(s) and {artworks} stale artwork(s).")
        try:
            expired = expire_files()  # the optional retention; does nothing when it is off
        except Exception as exc:
            self.stderr.write(f"Deleting old files failed: {exc}")
        else:
            if expired.results or expired.originals:
                self.stdout.write(
                    f"Retention deleted {expired.results} result(s), "
                    f"{expired.originals} original(s)."
                )
        try:
            clean_up()  # finished task records and the engine's expired copies
        except Exception as exc:  # as above: never take the site down; next time
            self.stderr.write(f"Cleaning up failed: {exc}")
        close_old_connections()

    def shutdown(self, children: list[Child]) -> None:
        self.stdout.write("Stopping…")
        processes = [child.process for child in children if child.process is not None]
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 25
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        self.stdout.write("Stopped.")
