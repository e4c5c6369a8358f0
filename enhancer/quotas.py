"""Monthly job quotas, for the whole team and for each member, set by team admins.

A month is a calendar month in the site's time zone (TIME_ZONE). Every job sent counts,
whatever became of it: the cloud may have done (and billed) the work before it failed, and
deleting or canceling a job later gives nothing back. What was sent is read from the ledger of
API jobs through its monthly roll-up (`UsageMonth`, exact: it grows in the ledger's own
transaction), which keeps its counts when jobs are deleted; jobs created but not sent yet
count too, so a burst of submissions cannot overtake the limit. A quota
is checked where jobs are created, inside their transaction and under a lock on the team's row,
so two submissions at once cannot both slip under the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Sum
from django.db.models.functions import Greatest
from django.utils import timezone

from enhancer.models import Job, Membership, Team, UsageMonth
from enhancer.models.usage import month_of


class QuotaExceeded(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class QuotaUse:
    used: int
    limit: int | None

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)


def month_start(now: datetime | None = None) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(now: datetime | None = None) -> datetime:
    start = month_start(now)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def resets_on(now: datetime | None = None) -> str:
    return f"{next_month_start(now).day} {next_month_start(now):%B}"


def sent_this_month(team: Team, now: datetime | None = None):
    """The month's roll-up rows: artworks the API was asked for, deleted jobs included."""
    return UsageMonth.objects.filter(team=team, month=month_of(now or timezone.now()))


def waiting_this_month(team: Team, now: datetime | None = None):
    """Artworks of jobs created this month that are not in the ledger yet (queued, or being
    sent). A large image counts its tiles: planned while it is checked, then each tile job (the
    job they belong to no longer counts itself)."""
    return Job.all_objects.filter(
        team=team,
        created_at__gte=month_start(now),
        created_at__lt=next_month_start(now),
        status__in=(Job.Status.PREPARING, Job.Status.QUEUED, Job.Status.SUBMITTING),
        api_jobs__isnull=True,
    ).exclude(tile_count__gt=0, status__in=(Job.Status.QUEUED, Job.Status.SUBMITTING))


def used_this_month(team: Team, user_id: int | None = None, now: datetime | None = None) -> int:
    sent, waiting = sent_this_month(team, now), waiting_this_month(team, now)
    if user_id is not None:
        sent, waiting = sent.filter(member=user_id), waiting.filter(created_by=user_id)
    unsent = waiting.aggregate(n=Sum(Greatest("tile_count", 1)))["n"] or 0
    return (sent.aggregate(n=Sum("api_jobs"))["n"] or 0) + unsent


def team_use(team: Team, now: datetime | None = None) -> QuotaUse:
    return QuotaUse(used_this_month(team, now=now), team.monthly_job_limit)


def member_use(team: Team, user_id: int, now: datetime | None = None) -> QuotaUse:
    return QuotaUse(used_this_month(team, user_id, now=now), team.member_monthly_job_limit)


def check_quota(
    membership: Membership, count: int, now: datetime | None = None, *, tiles: bool = False
) -> None:
    """Refuse `count` new API jobs over either quota. Call inside the transaction creating them.

    `tiles`: some images are sent in tiles, so `count` is more than the number of images."""
    # The limits as they are now (an admin may just have changed them), and the row lock.
    team = Team.objects.select_for_update().get(pk=membership.team_id)
    if team.monthly_job_limit is None and team.member_monthly_job_limit is None:
        return
    when = f"the limit resets on {resets_on(now)}."
    team_now = team_use(team, now)
    if team_now.limit is not None and team_now.used + count > team_now.limit:
        raise QuotaExceeded(refusal("Your team has", "its", team_now, count, when, tiles))
    own = member_use(team, membership.user_id, now)
    if own.limit is not None and own.used + count > own.limit:
        raise QuotaExceeded(refusal("You have", "your", own, count, when, tiles))


def refusal(who: str, whose: str, use: QuotaUse, count: int, when: str, tiles: bool = False) -> str:
    if use.limit is not None and use.used > use.limit:
        # The limit was lowered after the jobs were sent: never "9 of your 2".
        sent = f"{who} sent {use.used} jobs this month"
        return f"{sent}, more than {whose} limit of {use.limit}; {when}"
    used = f"{who} used {use.used} of {whose} {use.limit} jobs this month"
    if use.remaining and count > 1 and tiles:
        return (
            f"{used}, so {use.remaining} more can be sent, and these need {count} API jobs "
            "(an image over the API's size limit is sent as tiles, each one API job). "
            f"Send fewer or smaller images, choose Shrink to fit instead, or wait: {when}"
        )
    if use.remaining and count > 1:
        return (
            f"{used}, so {use.remaining} more can be sent, and these are {count} images. "
            f"Send fewer, or wait: {when}"
        )
    return f"{used}; {when}"
