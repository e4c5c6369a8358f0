"""`python manage.py serve`: the web server and the task workers together, in the foreground.

What `make run` ends with. gunicorn serves the site (static files through whitenoise); one
db_worker works the default queue (submitting, polling, collecting, webhooks) and one works the
engine's queue, so a long 8x job never delays the rest. Ctrl+C stops them all; if any of them
dies, the others are stopped too, so a half-running site never goes unnoticed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from enhancer.sweep import sweep

# How often stale jobs are looked for (see enhancer/sweep.py).
SWEEP_EVERY = 300.0


class Command(BaseCommand):
    help = "Run the web server and the background workers until Ctrl+C."

    def add_arguments(self, parser) -> None:
        site = urlsplit(settings.SITE_URL)
        parser.add_argument("--bind", default=f"127.0.0.1:{site.port or 8000}")
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--engine-workers", type=int, default=1)

    def handle(self, *args, bind: str, web_workers: int, threads: int, engine_workers: int, **kw):
        python = sys.executable
        commands = {
            "web": [
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
            ],
            "worker": [
                python,
                "manage.py",
                "db_worker",
                "--queue-name",
                "default",
                "--interval",
                "0.5",
                "--no-reload",
            ],
        }
        for n in range(engine_workers):
            commands[f"engine-{n + 1}"] = [
                python,
                "manage.py",
                "db_worker",
                "--queue-name",
                "engine",
                "--interval",
                "0.5",
                "--no-reload",
            ]
        processes: dict[str, subprocess.Popen] = {}
        for name, command in commands.items():
            # Our own fixed commands: no shell, nothing from users.
            processes[name] = subprocess.Popen(  # noqa: S603
                command, cwd=settings.BASE_DIR, env=os.environ.copy()
            )
        self.stdout.write(
            self.style.SUCCESS(f"Detailer is running at {settings.SITE_URL}  (Ctrl+C to stop)")
        )

        stopping = False

        def stop(signum, frame) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        next_sweep = time.monotonic() + SWEEP_EVERY
        try:
            while not stopping:
                if time.monotonic() >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + SWEEP_EVERY
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(
                            f"{name} exited with code {process.returncode}; stopping."
                        )
                        exit_code = process.returncode or 1
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            self.shutdown(processes)
        if exit_code:
            sys.exit(exit_code)

    def sweep(self) -> None:
        try:
            jobs, artworks = sweep()
        except Exception as exc:  # a busy database must not take the site down; next time
            self.stderr.write(f"Sweeping stale jobs failed: {exc}")
            return
        if jobs or artworks:
            self.stdout.write(f"Failed {jobs} stale job(s) and {artworks} stale artwork(s).")
        close_old_connections()

    def shutdown(self, processes: dict[str, subprocess.Popen]) -> None:
        self.stdout.write("Stopping…")
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 25
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        self.stdout.write("Stopped.")
