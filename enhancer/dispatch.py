"""Handing queued jobs to the APIs: as many as each has room for, fairly between teams.

A job waits in our own queue (`queued`) until its API has room, instead of being sent at once
and refused. Our own capacity therefore never fails a job: a folder of 500 photos simply waits
its turn, and its maximum age only starts counting when a job leaves the queue.

Room is counted in jobs that have left the queue and are not finished yet (`submitting`,
`starting`, `processing`):

- the built-in engine is one pool for the whole site: its workers plus one more per worker, so
  the engine is never idle between two jobs, yet never holds a long backlog of its own that a
  newcomer would wait behind (never more than the engine's own in-flight cap for the site key);
- the cloud is a pool per team (`DETAILER_CLOUD_CONCURRENCY`): each team has its own key.

Within the engine's pool the free places go round the teams, the team with the fewest jobs in
flight first, oldest job first within a team: a single photo sent while another team's 500-image
batch waits is the next one sent, so it starts within about one job's processing time.

`dispatch()` is cheap and safe to run at any time, from any number of workers at once: every
job leaves the queue through one conditional UPDATE, so it is sent once; a lock per database
keeps two dispatchers from overfilling a pool (and if one ever did, the API's 429 is retried,
not failed).
"""

from __future__ import annotations

import heapq
import logging
from collections import Counter

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min
from django.utils import timezone

from enhancer.models import Job, Team
from enhancer.models.workers import WorkerHeartbeat
from enhancer.tiling.jobs import tile_settled

logger = logging.getLogger(__name__)

IN_FLIGHT = (Job.Status.SUBMITTING, Job.Status.STARTING, Job.Status.PROCESSING)
# An arbitrary constant: the key of PostgreSQL's advisory lock that serialises dispatchers.
_LOCK_KEY = 0x44455441  # "DETA"


def engine_capacity() -> int:
    """How many built-in engine jobs may be out of our queue at once, site-wide."""
    configured = settings.DETAILER_ENGINE_CONCURRENCY
    if configured:
        return configured
    from enhancer.workers import LEASE

    live = WorkerHeartbeat.objects.filter(
        queues__contains=",engine,", last_seen__gte=timezone.now() - LEASE
    ).count()
    # One processing and one waiting per worker; at least two, so a site whose engine workers
    # are still starting (or run without heartbeats) keeps moving.
    return min(max(2, 2 * live), settings.DETAILER_ENGINE_MAX_IN_FLIGHT)


def _lock() -> None:
    # SQLite runs every transaction here as BEGIN IMMEDIATE, which already serialises writers.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def dispatch() -> list[Job]:
    """Move as many queued jobs out of the queue as there is room for; enqueue their submits.

    Returns the jobs that left the queue.
    """
    from enhancer.tasks import enqueue_for, submit_job

    if not sendable().filter(status=Job.Status.QUEUED).exists():
        return []  # the common case, and the only query it costs
    with transaction.atomic():
        _lock()
        chosen = _pick_builtin() + _pick_cloud()
        now = timezone.now()
        sent = []
        for job in chosen:
            if job.advance(
                Job.Status.SUBMITTING,
                allowed_from=(Job.Status.QUEUED,),
                dispatched_at=now,
                retry_note="",
            ):
                sent.append(job)
                transaction.on_commit(lambda job=job: enqueue_for(job, submit_job))
    if sent:
        logger.info("Dispatched %d job(s)", len(sent))
        for parent_id in {job.parent_id for job in sent if job.parent_id}:
            transaction.on_commit(lambda parent_id=parent_id: tile_settled(parent_id))
    return sent


def sendable():
    """Jobs that are sent as artworks: tiles and jobs sent whole, never a job split in tiles
    (its tiles are sent instead, each taking a place of its own)."""
    return Job.all_objects.filter(tile_count=0).exclude(parent__status__in=Job.FINAL_STATUSES)


def _in_flight_by_team(provider: str) -> Counter:
    rows = (
        sendable()
        # A result already collected is being finished here: the API's place is free.
        .filter(status__in=IN_FLIGHT, provider=provider, result="")
        .values("team_id")
        .annotate(n=Count("pk"))
    )
    return Counter({row["team_id"]: row["n"] for row in rows})


def _waiting_teams(provider: str) -> dict[int, tuple[object, int]]:
    """Each team with queued jobs on `provider`: its oldest queued job's time, and how many."""
    rows = (
        sendable()
        .filter(status=Job.Status.QUEUED, provider=provider)
        .values("team_id")
        .annotate(oldest=Min("created_at"), waiting=Count("pk"))
    )
    return {row["team_id"]: (row["oldest"], row["waiting"]) for row in rows}


def _oldest_queued(team_id: int, provider: str, count: int) -> list[Job]:
    return list(
        sendable()
        .select_related("team")
        .filter(team_id=team_id, provider=provider, status=Job.Status.QUEUED)
        .order_by("created_at", "pk")[:count]
    )


def _pick_builtin() -> list[Job]:
    busy = _in_flight_by_team(Team.Provider.BUILTIN)
    free = engine_capacity() - sum(busy.values())
    waiting = _waiting_teams(Team.Provider.BUILTIN)
    if free <= 0 or not waiting:
        return []
    # Round robin, fewest in flight first, then the team that has waited longest.
    heap = [(busy[team_id], oldest, team_id) for team_id, (oldest, _) in waiting.items()]
    heapq.heapify(heap)
    taken: Counter = Counter()
    while free > 0 and heap:
        in_flight, oldest, team_id = heapq.heappop(heap)
        taken[team_id] += 1
        free -= 1
        if taken[team_id] < waiting[team_id][1]:  # the team has more waiting
            heapq.heappush(heap, (in_flight + 1, oldest, team_id))
    chosen: list[Job] = []
    for team_id, count in taken.items():
        chosen += _oldest_queued(team_id, Team.Provider.BUILTIN, count)
    return chosen


def _pick_cloud() -> list[Job]:
    busy = _in_flight_by_team(Team.Provider.CLOUD)
    chosen: list[Job] = []
    for team_id in _waiting_teams(Team.Provider.CLOUD):
        free = settings.DETAILER_CLOUD_CONCURRENCY - busy[team_id]
        if free > 0:
            chosen += _oldest_queued(team_id, Team.Provider.CLOUD, free)
    return chosen
