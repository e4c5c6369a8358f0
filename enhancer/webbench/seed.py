"""One team with N jobs, the way a busy team's year looks: for the web benchmark.

Jobs are spread over the last 365 days (so the Usage page sees a whole year), mostly done, some
failed or canceled, with five still pending at the top so every page keeps polling. Up to
`TEMPLATE_JOBS` rows go through the ORM; on PostgreSQL the rest are copies of those (each with
an original of its own) made by
one INSERT … SELECT over generate_series (a million rows took 5 minutes on a busy 2-core
machine, the search's trigram indexes updated on the way), which also keeps working when
the Job model gains columns. Every finished job gets its ledger row (as if sent when created)
and the monthly roll-up is built from them, as the data migration does, so the Usage page and
the limits read what a real team's year leaves. `web_benchmark --reuse` keeps a seeded team of
the right size.
"""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from PIL import Image

from enhancer.models import ApiJob, Job, Membership, Team, UsageMonth
from enhancer.models.usage import rebuild

TEAM_NAME = "Web benchmark"
USERNAMES = ("bench", "bench-b", "bench-c")
PENDING = 5
TEMPLATE_JOBS = 2_000
BATCH = 5_000
# File names people give their photos; the benchmark searches for one of them.
WORDS = (
    "harbour", "portrait", "beach", "mountain", "product", "street", "wedding", "garden",
    "skyline", "forest", "kitchen", "studio", "market", "bridge", "river", "desert",
    "lighthouse", "museum", "station", "village",
)  # fmt: skip
SEARCH_WORD = "lighthouse"


def png(width: int, height: int, shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 120, 200 - shade)).save(buffer, "PNG")
    return buffer.getvalue()


def finished_job(team: Team, users: list, rng: random.Random, now: datetime) -> Job:
    created = now - timedelta(seconds=rng.uniform(600, 365 * 86400))
    roll = rng.random()
    status = (
        Job.Status.SUCCEEDED if roll < 0.93 else Job.Status.FAILED if roll < 0.98 else "canceled"
    )
    scale = rng.choice((2, 2, 4, 4, 8))
    width, height = rng.choice(((1024, 768), (800, 600), (1216, 912), (640, 480)))
    duration = round(rng.uniform(1.0, 25.0), 2)
    done = status == Job.Status.SUCCEEDED
    word = rng.choice(WORDS)
    return Job(
        team=team,
        created_by=rng.choice(users),
        title=f"{word.title()} shoot" if rng.random() < 0.3 else "",
        original_name=f"{word}-{rng.randrange(1, 99999):05d}.jpg",
        status=status,
        scale=scale,
        details=rng.choice((1, 2, 3)),
        modification=rng.choice((1, 2, 3)),
        provider=Team.Provider.BUILTIN,
        original=f"originals/bench-{rng.randrange(10**9)}.png",
        original_width=width,
        original_height=height,
        result=f"results/bench-{rng.randrange(10**9)}.webp" if done else "",
        result_width=width * scale if done else None,
        result_height=height * scale if done else None,
        result_bytes=width * height * scale * scale // 3 if done else None,
        error_message="" if done else "The engine could not read the image.",
        duration=duration if done else None,
        created_at=created,
        updated_at=created + timedelta(seconds=duration),
        submitted_at=created + timedelta(seconds=0.5),
        finished_at=created + timedelta(seconds=duration),
    )


def copy_jobs_in_sql(team: Team, count: int, now: datetime) -> None:
    """PostgreSQL: `count` more jobs, copies of the team's jobs at random moments of the year."""
    overrides = {
        "id": "gen_random_uuid()",
        "original_name": "g.n::text || '-' || t.original_name",
        # Each copy a photo of its own: shared originals would make every copy a version of
        # the same photo (500 Run agains of each), which no team's gallery looks like.
        "original": "t.original || '-' || g.n::text",
        "created_at": "%(now)s::timestamptz - (g.s * interval '365 days')",
        "updated_at": "%(now)s::timestamptz - (g.s * interval '365 days')",
        "submitted_at": "%(now)s::timestamptz - (g.s * interval '365 days')",
        "finished_at": "%(now)s::timestamptz - (g.s * interval '365 days')",
    }
    columns = [field.column for field in Job._meta.concrete_fields]
    select = ", ".join(overrides.get(column, f't."{column}"') for column in columns)
    template = Job.objects.filter(team=team).exclude(status__in=Job.PENDING_STATUSES)
    rows = template.count()
    # Each template row is copied `reps` times; a random fraction of the year keeps
    # the copies spread evenly (the same job may recur, as a re-run would).
    reps = -(-count // rows)
    sql = f"""
        INSERT INTO {Job._meta.db_table} ({", ".join(f'"{c}"' for c in columns)})
        SELECT {select}
        FROM (SELECT * FROM {Job._meta.db_table} WHERE team_id = %(team)s
              AND status NOT IN ('queued', 'submitting', 'starting', 'processing')) AS t
        CROSS JOIN LATERAL (
            SELECT n, (random() * 0.998 + 0.001) AS s FROM generate_series(1, %(reps)s) AS n
        ) AS g(n, s)
        LIMIT %(count)s
    """  # noqa: S608  (table and column names come from the model, values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "team": team.pk, "reps": reps, "count": count})
        cursor.execute(f"ANALYZE {Job._meta.db_table}")


def write_ledger(team: Team) -> None:
    """A ledger row for each of the team's finished jobs, in one INSERT … SELECT, then the
    team's monthly roll-up rebuilt from them."""
    job, ledger = Job._meta.db_table, ApiJob._meta.db_table
    final = ", ".join(f"'{status}'" for status in Job.FINAL_STATUSES)
    sql = f"""
        INSERT INTO {ledger} (team_id, job_id, created_by_id, provider, upstream_id, scale,
                              width, height, sent_at)
        SELECT team_id, id, created_by_id, provider, CAST(id AS TEXT), scale,
               original_width, original_height, created_at
        FROM {job} WHERE team_id = %s AND status IN ({final})
    """  # noqa: S608  (table names and statuses from the models; the team is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [team.pk])
        # Fresh statistics, as autovacuum (PostgreSQL) or `clean_up` (SQLite) would soon
        # have: without them the planner takes the team for one row and the gallery's version
        # check for a nested loop over the whole team (0.1 to 0.4 s at 1,000 jobs).
        cursor.execute(f"ANALYZE {job}")
        cursor.execute(f"ANALYZE {ledger}")
    rebuild(ApiJob, UsageMonth, [team.pk])


def seed(count: int, *, seed: int = 23) -> tuple[Team, object]:
    """A fresh benchmark team with `count` jobs; returns the team and the user who logs in."""
    rng = random.Random(seed)  # noqa: S311  (made-up data, reproducible)
    now = timezone.now()
    User = get_user_model()
    with transaction.atomic():
        Team.objects.filter(name=TEAM_NAME).delete()
        users = []
        for name in USERNAMES:
            user, _ = User.objects.get_or_create(username=name, defaults={"email": f"{name}@x"})
            users.append(user)
        team = Team.objects.create(name=TEAM_NAME, created_by=users[0])
        for index, user in enumerate(users):
            Membership.objects.create(
                team=team,
                user=user,
                role=Membership.Role.ADMIN if index == 0 else Membership.Role.MEMBER,
                last_selected_at=now if index == 0 else None,
            )
    finished = max(0, count - PENDING)
    in_orm = finished if connection.vendor != "postgresql" else min(finished, TEMPLATE_JOBS)
    made = 0
    while made < in_orm:
        size = min(BATCH, in_orm - made)
        Job.objects.bulk_create([finished_job(team, users, rng, now) for _ in range(size)])
        made += size
    if finished > in_orm:
        copy_jobs_in_sql(team, finished - in_orm, now)
    # The job page's job: a finished one with real files, so the page is what people see.
    page_job = Job.objects.filter(team=team, status=Job.Status.SUCCEEDED).order_by("-created_at")
    page_job = page_job.first()
    if page_job is not None:
        page_job.original.save(f"bench-{page_job.pk}.png", ContentFile(png(64, 48, 40)), False)
        page_job.result.save(f"bench-{page_job.pk}-2x.png", ContentFile(png(128, 96, 80)), False)
        page_job.thumbnail.save(f"bench-{page_job.pk}-t.png", ContentFile(png(32, 24, 60)), False)
        page_job.save(update_fields=["original", "result", "thumbnail"])
    for index in range(min(PENDING, count)):
        job = finished_job(team, users, rng, now)
        job.status = (Job.Status.QUEUED, Job.Status.PROCESSING)[index % 2]
        job.created_at = job.updated_at = now - timedelta(seconds=PENDING - index)
        job.result, job.result_width, job.result_height, job.duration = "", None, None, None
        job.finished_at = None
        job.save()
    write_ledger(team)
    return team, users[0]
