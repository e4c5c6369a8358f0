"""The web benchmark: its seed, its reading of wrk, and one short real run."""

from __future__ import annotations

import io
import shutil

import pytest
from django.core.management import call_command

from enhancer.models import Job
from enhancer.webbench import wrk
from enhancer.webbench.seed import PENDING, SEARCH_WORD, seed

REPORT = """Running 8s test @ http://127.0.0.1:40000/jobs/updates/
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   101.32ms   80.11ms   1.07s    88.18%
    Req/Sec   220.10     60.22   353.00     70.00%
  Latency Distribution
     50%   83.60ms
     75%  120.02ms
     90%  180.50ms
     99%    1.07s
  3402 requests in 8.01s, 1.02MB read
  Socket errors: connect 0, read 0, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:    424.73
Transfer/sec:    130.20KB
"""


def test_wrk_report_is_read():
    result = wrk.parse(REPORT)
    assert result.requests_per_second == 424.73
    assert (result.p50_ms, result.p99_ms) == (83.6, 1070.0)
    assert (result.requests, result.bad_responses, result.socket_errors) == (3402, 3, 2)
    assert wrk.milliseconds("950.00us") == pytest.approx(0.95)


def test_an_unexpected_report_is_an_error():
    with pytest.raises(ValueError, match="Unexpected wrk output"):
        wrk.parse("unable to connect to 127.0.0.1:9 Connection refused")


@pytest.mark.django_db
def test_the_seed_makes_one_team_with_a_year_of_jobs_and_five_pending():
    team, user = seed(60)
    jobs = Job.objects.filter(team=team)
    assert jobs.count() == 60
    assert jobs.filter(status__in=Job.PENDING_STATUSES).count() == PENDING
    assert jobs.filter(original_name__contains=SEARCH_WORD).exists()
    assert team.memberships.filter(user=user, role="admin").exists()
    again, _ = seed(40)  # replaces the team, leaves nothing behind
    assert Job.objects.count() == 40 and again.pk != team.pk


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_a_short_real_run_prints_every_page():
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "web_benchmark", "--jobs", "40", "--duration", "1", "--connections", "4",
        "--pages", "poll,usage", stdout=out, stderr=err,
    )  # fmt: skip
    report = out.getvalue()
    for name in ("bare view", "poll", "usage"):
        assert f"\n{name} " in report
    assert "Poll: " in report and "queries" in report
