from __future__ import annotations

from enhancer.models.jobs import Batch, Job, Preferences, WebhookEvent
from enhancer.models.teams import Membership, Team

__all__ = ["Batch", "Job", "Membership", "Preferences", "Team", "WebhookEvent"]
