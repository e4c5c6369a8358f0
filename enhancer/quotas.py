"""Monthly job quotas, for the whole team and for each member, set by team admins.

A month is a calendar month in the site's time zone (TIME_ZONE). Every job sent counts,
whatever became of it: the cloud may have done (and billed) the work before it failed. A quota
is checked where jobs are created, inside their transaction and under a lock on the team's row,
so two submissions at once cannot both slip under the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from enhancer.models import Job, Membership, Team


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


def jobs_this_month(team: Team, now: datetime | None = None):
    start = month_start(now)
    return Job.objects.filter(
        team=team, created_at__gte=start, created_at__lt=next_month_start(now)
    )


def team_use(team: Team, now: datetime | None = None) -> QuotaUse:
    return QuotaUse(jobs_this_month(team, now).count(), team.monthly_job_limit)


def member_use(team: Team, user_id: int, now: datetime | None = None) -> QuotaUse:
    used = jobs_this_month(team, now).filter(created_by=user_id).count()
    return QuotaUse(used, team.member_monthly_job_limit)


def check_quota(membership: Membership, count: int, now: datetime | None = None) -> None:
    """Refuse `count` new jobs over either quota. Call inside the transaction creating them."""
    # The limits as they are now (an admin may just have changed them), and the row lock.
    team = Team.objects.select_for_update().get(pk=membership.team_id)
    if team.monthly_job_limit is None and team.member_monthly_job_limit is None:
        return
    when = f"the limit resets on {resets_on(now)}."
    team_now = team_use(team, now)
    if team_now.limit is not None and team_now.used + count > team_now.limit:
        raise QuotaExceeded(refusal("Your team has", "its", team_now, count, when))
    own = member_use(team, membership.user_id, now)
    if own.limit is not None and own.used + count > own.limit:
        raise QuotaExceeded(refusal("You have", "your", own, count, when))


def refusal(who: str, whose: str, use: QuotaUse, count: int, when: str) -> str:
    used = f"{who} used {use.used} of {whose} {use.limit} jobs this month"
    if use.remaining and count > 1:
        return (
            f"{used}, so {use.remaining} more can be sent, and these are {count} images. "
            f"Send fewer, or wait: {when}"
        )
    return f"{used}; {when}"
