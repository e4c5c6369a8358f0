"""Running Debian's wrk against one URL and reading its report."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad_responses: int  # non-2xx/3xx answers and socket errors
    socket_errors: int


class WrkMissing(Exception):
    pass


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing("wrk is not installed: `apt-get install wrk` (Debian's package).")
    return path


def milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def parse(report: str) -> Result:
    """Read req/s, the 50th and 99th latency percentiles and the errors from `wrk --latency`."""
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)\s*$", report, re.MULTILINE))
    if "Requests/sec:" not in report or {"50", "99"} - percentiles.keys():
        raise ValueError(f"Unexpected wrk output:\n{report}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))
    requests = int(re.search(r"(\d+) requests in", report).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", report)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report
    )
    socket_errors = sum(int(n) for n in errors.groups()) if errors else 0
    return Result(
        requests_per_second=rate,
        p50_ms=milliseconds(percentiles["50"]),
        p99_ms=milliseconds(percentiles["99"]),
        requests=requests,
        bad_responses=(int(non_2xx.group(1)) if non_2xx else 0),
        socket_errors=socket_errors,
    )


def run(
    url: str, *, headers: dict[str, str], connections: int, duration: float, threads: int = 2
) -> Result:
    command = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    # Our own fixed command line; the URL and headers are made by the benchmark.
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    return parse(done.stdout)
