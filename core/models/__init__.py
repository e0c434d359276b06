"""core models; one module per subject, the same public names here."""

from .audit import AuditEvent
from .geography import (
    CensusBlock,
    Constituency,
    District,
    Division,
    House,
    PollingStation,
    Province,
    StationType,
    Tehsil,
)
from .jobs import FINISHED_STATUSES, Job, JobStatus
from .offices import SECRETARIAT_KINDS, Holiday, Office, OfficeHours, OfficeKind
from .users import ROLE_SCOPE, Role, RoleAssignment, User

__all__ = [
    "AuditEvent",
    "CensusBlock",
    "Constituency",
    "District",
    "Division",
    "FINISHED_STATUSES",
    "Holiday",
    "House",
    "Job",
    "JobStatus",
    "Office",
    "OfficeHours",
    "OfficeKind",
    "PollingStation",
    "Province",
    "ROLE_SCOPE",
    "Role",
    "RoleAssignment",
    "SECRETARIAT_KINDS",
    "StationType",
    "Tehsil",
    "User",
]
