from __future__ import annotations

from enhancer.models.audit import AuditEvent
from enhancer.models.invitations import Invitation, InvitationUnusable
from enhancer.models.jobs import Batch, Job, Preferences, WebhookEvent
from enhancer.models.ledger import ApiJob
from enhancer.models.previews import SettingsPreview
from enhancer.models.sharing import ShareLink
from enhancer.models.teams import Membership, Team
from enhancer.models.usage import UsageMonth
from enhancer.models.workers import WorkerHeartbeat

__all__ = [
    "ApiJob",
    "AuditEvent",
    "Batch",
    "Invitation",
    "InvitationUnusable",
    "Job",
    "Membership",
    "Preferences",
    "SettingsPreview",
    "ShareLink",
    "Team",
    "UsageMonth",
    "WebhookEvent",
    "WorkerHeartbeat",
]
