"""The browser suite's harness: the real site, the system Chromium, and what every page must pass.

- `site` (session): the whole stack as `make run` starts it (migrate, collectstatic, then
  `manage.py serve`: gunicorn, a default-queue worker and an engine worker) in a subprocess, on a
  free loopback port, with its own data directory, so the built-in engine does real processing.
  On PostgreSQL (DATABASE_URL) it gets a database of its own, created and dropped here.
- `image_server` (session): a ScriptedServer on loopback serving the test images, which the
  site's SSRF guard is told to let through (DETAILER_SSRF_ALLOW_HOSTS).
- `browser` (session): the system Chromium (Debian package `chromium`, or CHROMIUM_PATH); never
  a downloaded browser. Without it the suite is skipped, unless REQUIRE_BROWSER=1 (CI), when
  that is an error.
- `new_context` / `page`: browser contexts that record console errors, uncaught exceptions,
  failed requests and HTTP errors; a test ends with none of them, or it fails.
- `audit`: axe-core (from npm, see package.json) on the page; no serious or critical violation.
- `shoot`: with SAVE_SCREENSHOTS=1 (`make screenshots`), saves the page into docs/screenshots/.
- The watchdog: a browser test still running after 7 minutes gets every thread's stack printed
  and its Chromium killed (a new one serves the next test); after 10, the run is interrupted.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.browser import images
from tests.scripted_server import ScriptedServer

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
ARTIFACTS = ROOT / "test-artifacts" / "browser"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def require_browser() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").strip() == "1"


def find_chromium() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH", "").strip()
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_browser_reason() -> str | None:
    """Why the suite cannot run here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if find_chromium() is None:
        return (
            "no Chromium found: install the Debian package chromium (apt-get install chromium) "
            "or set CHROMIUM_PATH"
        )
    return None


# --- Collection: mark, order, and skip or fail without a browser ------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if HERE in Path(str(item.path)).parents]
    if not ours:
        return
    reason = missing_browser_reason()
    for item in ours:
        item.add_marker(pytest.mark.browser)
        if reason and not require_browser():
            item.add_marker(
                pytest.mark.skip(reason=f"browser suite skipped: {reason} (REQUIRE_BROWSER unset)")
            )
    # The first visitor becomes the site administrator, so that journey goes first on the
    # session's fresh site; the rest keep their order.
    first = [item for item in items if item.get_closest_marker("first_visitor")]
    if first:
        rest = [item for item in items if item not in first]
        index = next((i for i, item in enumerate(rest) if item in ours), len(rest))
        items[:] = rest[:index] + first + rest[index:]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "first_visitor: runs before the other browser tests (the first account)"
    )


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    reason = missing_browser_reason()
    if reason:
        # Only reached with REQUIRE_BROWSER=1 (otherwise collection skipped the test).
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    return find_chromium()  # type: ignore[return-value]


# --- Test images and the loopback image server ------------------------------------------------


@pytest.fixture(scope="session")
def test_images(tmp_path_factory: pytest.TempPathFactory) -> images.TestImages:
    return images.make_all(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="session")
def image_server(test_images: images.TestImages) -> Iterator[ScriptedServer]:
    """Serves the test photo on loopback, as a picture on some website would be."""
    with ScriptedServer() as server:
        data = test_images.photo.read_bytes()
        server.script("GET", "/pictures/harbour.jpg", (200, data, {"Content-Type": "image/jpeg"}))
        yield server


@pytest.fixture(scope="session")
def cloud_server() -> Iterator[ScriptedServer]:
    """A scripted stand-in for the Tengr.ai cloud API, on loopback (scripted by the tests)."""
    with ScriptedServer() as server:
        yield server


# --- The site -------------------------------------------------------------------------------


@dataclass
class Site:
    url: str
    data_dir: Path
    log_path: Path
    env: dict[str, str]
    process: subprocess.Popen | None = None

    def path(self, path: str) -> str:
        return self.url + path

    def log_tail(self, lines: int = 60) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def own_database(env: dict[str, str]) -> Iterator[None]:
    """On PostgreSQL, a database of the suite's own (created now, dropped after); else SQLite
    in the site's data directory."""
    url = env.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        env.pop("DATABASE_URL", None)
        yield
        return
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'detailer'}_browser"
    admin_url = parts._replace(path="/postgres").geturl()

    def run(sql: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql)

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = parts._replace(path=f"/{name}").geturl()
    try:
        yield
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def site(
    chromium_executable: str,
    image_server: ScriptedServer,
    cloud_server: ScriptedServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Site]:
    """The real stack, started as `make run` does, on a free loopback port."""
    data_dir = tmp_path_factory.mktemp("site-data")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The defaults of a fresh install (DEBUG off, the built-in engine on, console email), not
    # whatever the caller's shell has set; only DATABASE_URL is honoured (see own_database).
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DETAILER_"))
        and key not in {"SITE_URL", "EMAIL_URL", "FIELD_ENCRYPTION_KEYS", "DEFAULT_FROM_EMAIL"}
    }
    env.update(
        DETAILER_DATA_DIR=str(data_dir),
        SITE_URL=url,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DETAILER_SSRF_ALLOW_HOSTS=",".join(
            urlsplit(server.url).netloc for server in (image_server, cloud_server)
        ),
        # The cloud API is the scripted one (a team's own address is set by the site admin).
        DETAILER_API_URL=cloud_server.url,
        DJANGO_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    log_path = data_dir / "server.log"
    with own_database(env), log_path.open("w") as log:
        site = Site(url=url, data_dir=data_dir, log_path=log_path, env=env)
        for step in (["migrate", "--noinput"], ["collectstatic", "--noinput", "--verbosity", "0"]):
            done = subprocess.run(
                [sys.executable, "manage.py", *step],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            if done.returncode:
                pytest.fail(f"manage.py {step[0]} failed:\n{site.log_tail()}", pytrace=False)
        site.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so nothing outlives the suite
        )
        try:
            wait_until_healthy(site)
            yield site
        finally:
            stop(site.process)


def wait_until_healthy(site: Site, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if site.process.poll() is not None:
            pytest.fail(f"the site exited at start:\n{site.log_tail()}", pytrace=False)
        with contextlib.suppress(requests.RequestException):
            if requests.get(site.path("/healthz"), timeout=2).status_code == 200:
                return
        time.sleep(0.1)  # the server is starting; nothing on a page to wait on yet
    pytest.fail(f"the site did not answer /healthz in {timeout:.0f} s:\n{site.log_tail()}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # `serve` stops gunicorn and the workers
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
    # Whatever is left of the group (a worker that did not stop in time) is killed.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


# --- Browser, contexts, and the problems every page is checked for ---------------------------


@pytest.fixture(scope="session")
def playwright_instance(chromium_executable: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


class SessionBrowser:
    """The session's Chromium, launched again when the watchdog (below) had to kill it, so one
    wedged browser fails one test, not every test after it. Anything else is the browser's."""

    def __init__(self, playwright, executable: str) -> None:
        self._playwright = playwright
        self._executable = executable
        self._browser = None

    def current(self):
        if BROWSER_KILLED.is_set() or self._browser is None or not self._browser.is_connected():
            BROWSER_KILLED.clear()
            self._browser = self._playwright.chromium.launch(
                executable_path=self._executable, args=[*CHROMIUM_ARGS, BROWSER_MARK]
            )
        return self._browser

    def __getattr__(self, name: str):
        return getattr(self.current(), name)

    def close(self) -> None:
        if self._browser is not None and self._browser.is_connected():
            self._browser.close()


@pytest.fixture(scope="session")
def browser(playwright_instance, chromium_executable: str):
    browser = SessionBrowser(playwright_instance, chromium_executable)
    browser.current()
    yield browser
    browser.close()


@dataclass
class Problems:
    """Console errors, uncaught exceptions, failed requests and HTTP errors seen in a context.

    Requests the browser cancels on its own are not failures: a link that turns into a download
    (Chromium aborts its navigation), and what was still loading when the page navigated away
    (an htmx poll in flight when a person clicks a link). Both end as net::ERR_ABORTED.
    """

    found: list[str] = field(default_factory=list)
    expected: list[tuple[int, re.Pattern[str]]] = field(default_factory=list)
    aborted: list[tuple[object, str, str, float]] = field(default_factory=list)
    downloads: set[str] = field(default_factory=set)
    navigations: dict[object, list[float]] = field(default_factory=dict)

    def expect_status(self, status: int, url_pattern: str) -> None:
        """An HTTP error the test causes on purpose (e.g. the 404 page for an outsider)."""
        self.expected.append((status, re.compile(url_pattern)))

    def attach(self, context) -> None:
        context.on("console", self._console)
        context.on("weberror", lambda error: self.found.append(f"page error: {error.error}"))
        context.on("requestfailed", self._request_failed)
        context.on("response", self._response)
        context.on("page", self._page)

    def _page(self, page) -> None:
        page.on("download", lambda download: self.downloads.add(download.url))

        def navigated(frame) -> None:
            if frame == page.main_frame:
                self.navigations.setdefault(page, []).append(time.time() * 1000)

        page.on("framenavigated", navigated)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        # An HTTP error is also logged as "Failed to load resource"; _response judges those.
        if message.text.startswith("Failed to load resource: the server responded with"):
            return
        where = message.page.url if message.page else "?"
        self.found.append(f"console error on {where}: {message.text}")

    def _request_failed(self, request) -> None:
        failure = request.failure or ""
        text = f"request failed: {request.method} {request.url} ({failure})"
        if failure == "net::ERR_ABORTED":
            page = request.frame.page if request.frame else None
            self.aborted.append((page, request.url, text, request.timing.get("startTime", 0)))
            return
        self.found.append(text)

    def _response(self, response) -> None:
        if response.status < 400:
            return
        for status, pattern in self.expected:
            if response.status == status and pattern.search(response.url):
                return
        self.found.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def problems(self) -> list[str]:
        found = list(self.found)
        for page, url, text, started in self.aborted:
            left = any(when >= started for when in self.navigations.get(page, []))
            if url not in self.downloads and not left:
                found.append(text)
        return found

    def check(self) -> None:
        found = self.problems()
        if found:
            pytest.fail("problems on the pages:\n  " + "\n  ".join(found), pytrace=False)


@dataclass
class Browsing:
    """A browser context with its problem log."""

    context: object
    problems: Problems


@pytest.fixture
def new_context(browser, site: Site, request: pytest.FixtureRequest):
    """Factory: new_context(phone=False, dark=False, **options) -> (context, problems).

    Every context made is checked at the end of the test: no console error, no uncaught
    exception, no failed request, no HTTP error that the test did not expect.
    """
    made: list[Browsing] = []

    def make(*, phone: bool = False, dark: bool = False, **options):
        settings = {
            **(PHONE if phone else DESKTOP),
            "device_scale_factor": 1,
            "color_scheme": "dark" if dark else "light",
            "base_url": site.url,
            "accept_downloads": True,
            "locale": "en-GB",
            "timezone_id": "UTC",
            **options,
        }
        context = browser.new_context(**settings)
        context.set_default_timeout(15_000)
        problems = Problems()
        problems.attach(context)
        made.append(Browsing(context, problems))
        return context, problems

    yield make
    failed = getattr(request.node, "rep_call", None)
    for browsing in made:
        if failed is not None and failed.failed:
            save_failure_artifacts(request.node.name, browsing.context)
        with contextlib.suppress(Exception):
            browsing.context.close()
    for browsing in made:
        browsing.problems.check()


@pytest.fixture
def page(new_context):
    context, _problems = new_context()
    return context.new_page()


# --- The watchdog: no browser test can stop the run ------------------------------------------
# Playwright bounds every action and expectation, but not what waits on Chromium itself: a
# script (page.evaluate), opening or closing a context, a download's end. Once, after a test had
# passed, the suite waited there until CI's 90 minutes ran out. So each browser test runs under
# a watchdog: past WATCHDOG_KILL_SECONDS (setup, test and teardown; the slowest test takes about
# half a minute here) it prints every thread's stack and the processes and kills this session's
# Chromium, which ends whatever waited on it (the next test gets a new browser); past
# WATCHDOG_STOP_SECONDS it interrupts the run, which then ends with its report. Both reports are
# also repeated at the end of the run and kept in test-artifacts/browser/watchdog.txt.

WATCHDOG_KILL_SECONDS = 420
WATCHDOG_STOP_SECONDS = 600
# A switch Chromium ignores, to tell this session's browser from any other.
BROWSER_MARK = f"--detailer-test-session={os.getpid()}-{time.time_ns()}"
WATCHDOG_REPORTS: list[str] = []
BROWSER_KILLED = threading.Event()


def processes() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def output_of(pid: int) -> set[str]:
    """What the process's standard output and error are (a pipe's or socket's identity)."""
    found = set()
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            found.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return found


def kill_browser() -> str:
    """Kills this session's Chromium: its process group, and whatever else writes to its
    output (Chromium's crash handlers leave the group, and Playwright notices the browser's
    end only when the last of them lets go of it). Says what it did."""
    BROWSER_KILLED.set()  # the next test launches a new one, whatever Playwright has noticed
    marked = []
    for pid in processes():
        with contextlib.suppress(OSError):
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if BROWSER_MARK.encode() in arguments:
                marked.append(pid)
    outputs = set().union(*(output_of(pid) for pid in marked)) if marked else set()
    # Playwright gives Chromium output streams of its own; never what this run writes to.
    outputs -= output_of(os.getpid()) | output_of(os.getppid())
    holders = [
        pid
        for pid in processes()
        if pid not in marked and pid != os.getpid() and outputs & output_of(pid)
    ]
    for pid in marked:
        with contextlib.suppress(OSError):
            group = os.getpgid(pid)
            if group != os.getpgrp():  # Playwright starts Chromium in a group of its own
                os.killpg(group, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
    for pid in holders:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if not marked:
        return "found no Chromium of this session"
    return f"killed Chromium {marked} and {len(holders)} processes sharing its output"


class Watchdog:
    def __init__(self, item: pytest.Item) -> None:
        self.item = item
        self.started = time.monotonic()
        self._timers = [
            threading.Timer(WATCHDOG_KILL_SECONDS, self._kill),
            threading.Timer(WATCHDOG_STOP_SECONDS, self._stop),
        ]
        for timer in self._timers:
            timer.daemon = True
            timer.start()

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()

    def _report(self, action: str) -> None:
        """Every thread's stack and the processes, into the run's report and the artifacts;
        whatever of this fails (no `ps`, a read-only folder) must not stop the watchdog."""
        try:
            with tempfile.TemporaryFile("w+") as dump:
                faulthandler.dump_traceback(file=dump, all_threads=True)
                dump.seek(0)
                stacks = dump.read()
        except OSError as error:
            stacks = f"(no stacks: {error})"
        try:
            processes = subprocess.run(
                ["ps", "-eo", "pid,pgid,stat,etime,rss,args", "--sort=pid"],
                capture_output=True,
                text=True,
                check=False,
                timeout=10,
            ).stdout
        except (OSError, subprocess.SubprocessError) as error:
            processes = f"(no process list: {error})"
        seconds = time.monotonic() - self.started
        text = (
            f"\nWATCHDOG: {self.item.nodeid} has run for {seconds:.0f} s; {action}.\n"
            f"--- stacks ---\n{stacks}\n--- processes ---\n{processes}\n"
        )
        WATCHDOG_REPORTS.append(text)
        with contextlib.suppress(OSError):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            with (ARTIFACTS / "watchdog.txt").open("a") as log:
                log.write(text)

    def _kill(self) -> None:
        self._report(kill_browser())

    def _stop(self) -> None:
        try:
            self._report("interrupting the run")
        finally:
            os.kill(os.getpid(), signal.SIGINT)  # a real signal ends a wait in select()


def pytest_terminal_summary(terminalreporter) -> None:
    """What the watchdog did, at the end of the run's report: a test whose wait it ended may
    have passed, and its output would be lost with the test's captured output."""
    if WATCHDOG_REPORTS:
        terminalreporter.section("browser watchdog", sep="=", red=True)
        for text in WATCHDOG_REPORTS:
            terminalreporter.write(text)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    # Not while someone debugs a test (--pdb, --trace): they are the one waiting.
    debugging = item.config.getoption("usepdb") or item.config.getoption("trace")
    if HERE not in Path(str(item.path)).parents or debugging:
        return (yield)
    watchdog = Watchdog(item)
    try:
        return (yield)
    finally:
        watchdog.cancel()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    if report.failed and report.when == "call" and "site" in getattr(item, "fixturenames", ()):
        site = item.funcargs.get("site") if hasattr(item, "funcargs") else None
        if site is not None:
            report.sections.append(("site log (last lines)", site.log_tail()))
    return report


def save_failure_artifacts(name: str, context) -> None:
    """A screenshot of each open page, for whoever reads a red CI run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    for number, page in enumerate(context.pages):
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"{safe}-{number}.png"), full_page=True)


# --- Accessibility (axe-core) and screenshots ---------------------------------------------------


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from the npm package pinned in package.json, installed on first need."""
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            message = "axe-core is not installed and npm is missing (cd tests/browser; npm ci)"
            if require_browser():
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(HERE)],
            cwd=HERE,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            pytest.fail(f"npm ci (axe-core) failed:\n{done.stderr}", pytrace=False)
    return AXE_JS.read_text()


def run_axe(page, axe_source: str) -> list[dict]:
    """Serious and critical axe violations on the page as it is now.

    The site's CSP (script-src 'self') blocks <script> tags with inline content, which is what
    page.add_script_tag(path=...) makes. page.evaluate goes through the DevTools protocol,
    which CSP does not govern, so axe runs on the page exactly as served, CSP on: a CSP
    violation of the site's own would still show up as a console error.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(f"() => {{ {axe_source}\n }}")
    results = page.evaluate(
        """async () => {
            const results = await axe.run(document, { resultTypes: ["violations"] });
            return results.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map((n) => ({
                        target: n.target.join(" "), summary: n.failureSummary })),
                }));
        }"""
    )
    return results


@pytest.fixture
def audit(axe_source: str) -> Callable[..., list[str]]:
    """audit(page, label) -> a description of each serious or critical violation (none: [])."""

    def check(page, label: str) -> list[str]:
        return [
            f"axe on {label} ({page.url}): {violation['id']} ({violation['impact']}): "
            f"{violation['help']}\n" + json.dumps(violation["nodes"], indent=2)
            for violation in run_axe(page, axe_source)
        ]

    return check


def saving_screenshots() -> bool:
    return os.environ.get("SAVE_SCREENSHOTS", "").strip() == "1"


@pytest.fixture
def shoot() -> Callable[..., None]:
    """shoot(page, name): with SAVE_SCREENSHOTS=1, save the page as docs/screenshots/NAME.png."""

    def save(page, name: str) -> None:
        if not saving_screenshots():
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # No focus ring or blinking caret from an autofocused field: the same page gives the
        # same picture, so only real changes show up in a commit.
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        # Playwright's defaults (hide the caret, stop animations) inject a <style>, which the
        # site's CSP refuses with a console error: take the page as it is.
        page.screenshot(
            path=str(SCREENSHOTS / f"{name}.png"),
            full_page=True,
            animations="allow",
            caret="initial",
        )

    return save


def no_horizontal_overflow(page) -> None:
    """Nothing on the page is wider than the screen (a phone user never scrolls sideways)."""
    problem = horizontal_overflow(page)
    assert problem is None, problem


def horizontal_overflow(page) -> str | None:
    """Why the page scrolls sideways, or None when it does not.

    What sits in a scrolling box of its own (a wide table in an overflow-x: auto wrapper) is
    fine; the page itself must not scroll sideways. The message names the widest culprits.
    """
    widths = page.evaluate(
        """() => {
            const doc = document.documentElement;
            // Whether a box that scrolls or clips (overflow-x not visible) holds the element in.
            // Such a box clips an absolutely positioned element only from its containing block
            // (the nearest positioned ancestor) up: a visually hidden label inside a scrolled
            // table escapes a static wrapper and widens the page.
            const clipped = (el) => {
                const position = getComputedStyle(el).position;
                let inBlock = position !== "absolute" && position !== "fixed";
                for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
                    const style = getComputedStyle(up);
                    if (!inBlock && style.position !== "static") inBlock = true;
                    if (inBlock && style.overflowX !== "visible") return true;
                }
                return false;
            };
            const wide = [...document.body.querySelectorAll("*")]
                .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 1)
                .filter((el) => !clipped(el))
                .slice(0, 6)
                .map((el) => el.tagName.toLowerCase()
                     + (typeof el.className === "string" && el.className
                        ? "." + el.className.trim().split(/\\s+/).join(".") : "")
                     + " right=" + Math.round(el.getBoundingClientRect().right)
                     + " text=" + JSON.stringify((el.textContent || "").trim().slice(0, 30)));
            return { scroll: doc.scrollWidth, client: doc.clientWidth, wide };
        }"""
    )
    if widths["scroll"] <= widths["client"]:
        return None
    return (
        f"{page.url} scrolls sideways at {widths['client']} px wide "
        f"(content {widths['scroll']} px): {widths['wide']}"
    )
