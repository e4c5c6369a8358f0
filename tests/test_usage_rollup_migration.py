"""The data migration fills the usage roll-up from the ledger rows already written."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("enhancer", "0009_audit_actions")]
AFTER = [("enhancer", "0011_usage_rollup")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_ledger():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    User = apps.get_model("auth", "User")
    Team = apps.get_model("enhancer", "Team")
    Job = apps.get_model("enhancer", "Job")
    ApiJob = apps.get_model("enhancer", "ApiJob")
    user = User.objects.create(username="ann")
    team = Team.objects.create(name="T", created_by=user)
    common = {"team": team, "created_by": user, "provider": "builtin", "scale": 2}
    done = Job.objects.create(
        **common, status="succeeded", original_width=30, original_height=20,
        result_width=60, result_height=40, duration=3.0,
    )  # fmt: skip
    failed = Job.objects.create(**common, status="failed", original_width=30, original_height=20)
    for job, upstream in ((done, "a"), (failed, "b")):
        ApiJob.objects.create(
            **common, job=job, upstream_id=upstream, width=30, height=20, sent_at=timezone.now()
        )
    # A ledger row whose job was deleted still counts as sent.
    ApiJob.objects.create(**common, upstream_id="c", width=10, height=10, sent_at=timezone.now())

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    UsageMonth = executor.loader.project_state(AFTER).apps.get_model("enhancer", "UsageMonth")
    row = UsageMonth.objects.get()
    assert (row.api_jobs, row.pixels_in, row.succeeded, row.failed) == (3, 1300, 1, 1)
    assert (row.pixels_out, row.seconds, row.timed) == (2400, 3.0, 1)
    assert row.month == timezone.localdate().replace(day=1)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
