"""Writes owned by core: roles, offices, jobs, the second factor. Each public
service is one transaction and records its audit event."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit
from .exceptions import ConflictError, DomainError
from .models import ROLE_SCOPE, Constituency, Job, JobStatus, Office, Role, RoleAssignment, User

MAX_JOB_ERRORS_KEPT = 1000

# --- roles ------------------------------------------------------------------


@transaction.atomic(durable=True)
def role_grant(
    *, actor: User | None, user: User, role: str, office: Office | None = None, constituency: Constituency | None = None
) -> RoleAssignment:
    if role not in Role.values:
        raise DomainError("unknown_role", _("There is no role called %(role)s.") % {"role": role}, "role")
    needs = ROLE_SCOPE[Role(role)]
    if needs == "office" and office is None:
        raise DomainError("scope_required", _("This role needs an office."), "office")
    if needs == "constituency" and constituency is None:
        raise DomainError("scope_required", _("This role needs a constituency."), "constituency")
    if needs is None and (office is not None or constituency is not None):
        raise DomainError("scope_not_allowed", _("This role is not limited to an office or constituency."), "role")
    if needs == "office" and constituency is not None or needs == "constituency" and office is not None:
        raise DomainError("scope_not_allowed", _("Give the scope this role takes, and only that."), "role")
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(user=user, role=role, office=office, constituency=constituency)
    except IntegrityError as exc:
        raise ConflictError("role_exists", _("This user already has this role with this scope."), "role") from exc
    audit.record(
        actor=actor,
        action="user.role_granted",
        target=user,
        data={
            "role": role,
            "office": office.code if office else None,
            "constituency": getattr(constituency, "code", None),
        },
    )
    return assignment


@transaction.atomic(durable=True)
def role_revoke(*, actor: User | None, assignment: RoleAssignment) -> None:
    data = {
        "role": assignment.role,
        "office": assignment.office.code if assignment.office else None,
        "constituency": assignment.constituency.code if assignment.constituency else None,
    }
    user = assignment.user
    deleted, _count = RoleAssignment.objects.filter(pk=assignment.pk).delete()
    if not deleted:
        raise ConflictError("role_gone", _("This role was already revoked."))
    audit.record(actor=actor, action="user.role_revoked", target=user, data=data)


# --- the second factor --------------------------------------------------------

BACKUP_CODE_COUNT = 8
BACKUP_DEVICE_NAME = "Backup codes"


@transaction.atomic(durable=True)
def otp_enrol_confirm(*, user: User, device: TOTPDevice) -> list[str]:
    """Confirm a new authenticator (its code was just verified), replace the backup codes, audit.

    Returns the backup codes, to be shown once. One authenticator per person:
    anything else they had half set up goes. ConflictError if the device was
    confirmed or removed meanwhile (another window)."""
    confirmed = TOTPDevice.objects.filter(pk=device.pk, user=user, confirmed=False).update(confirmed=True)
    if not confirmed:
        raise ConflictError("device_gone", _("This set-up was finished or cancelled in another window."))
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    StaticDevice.objects.filter(user=user).delete()
    backup = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < BACKUP_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
    audit.record(
        action="user.otp_enrolled",
        actor=user,
        target=user,
        data={"device": device.persistent_id, "backup_codes": len(codes)},
    )
    return codes


# --- offices ----------------------------------------------------------------


@transaction.atomic(durable=True)
def office_create(*, actor: User | None, **fields: Any) -> Office:
    parent = fields.get("parent")
    if parent is None and fields.get("kind") != "cec":
        raise DomainError("parent_required", _("Every office but the CEC's reports to a parent office."), "parent")
    try:
        with transaction.atomic():
            office = Office.objects.create(**fields)
    except IntegrityError as exc:
        raise ConflictError("office_exists", _("An office with this code already exists."), "code") from exc
    audit.record(actor=actor, action="office.created", target=office, data={"kind": office.kind, "code": office.code})
    return office


# --- jobs -------------------------------------------------------------------
# Progress updates are single UPDATE statements (F expressions) so that many
# workers can report on one job without a lost update; they are not audited,
# but a job's start and end are.


def job_create(*, actor: User | None, kind: str, title: str, total: int = 0) -> Job:
    return Job.objects.create(kind=kind, title=title, total=max(0, total), created_by=actor)


def job_start(*, job_id, total: int | None = None) -> None:
    changes: dict[str, Any] = {"status": JobStatus.RUNNING, "started_at": timezone.now()}
    if total is not None:
        changes["total"] = max(0, total)
    with transaction.atomic():
        updated = Job.objects.filter(pk=job_id, status=JobStatus.PENDING).update(**changes)
        if updated:
            audit.record(action="job.started", target=("core.job", job_id), data={"total": total})


def job_advance(*, job_id, by: int = 1) -> None:
    Job.objects.filter(pk=job_id).update(done=F("done") + by)


def job_set_progress(*, job_id, done: int, total: int | None = None) -> None:
    """Set progress; a total that turns out too low (the work grew meanwhile) is raised to ``done``."""
    done = max(0, done)
    new_total = Greatest(Value(max(0, total)) if total is not None else F("total"), Value(done))
    Job.objects.filter(pk=job_id).update(done=done, total=new_total)


def job_add_errors(*, job_id, errors: list[dict[str, Any]]) -> None:
    """Append error entries (kept up to MAX_JOB_ERRORS_KEPT; the count keeps going)."""
    if not errors:
        return
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        room = MAX_JOB_ERRORS_KEPT - len(job.errors)
        if room > 0:
            job.errors = job.errors + errors[:room]
        job.error_count += len(errors)
        job.save(update_fields=["errors", "error_count"])


def job_finish(*, job_id, status: str = JobStatus.SUCCEEDED, message: str = "", result: dict | None = None) -> None:
    if status not in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
        raise ValueError(f"not a finishing status: {status}")
    with transaction.atomic():
        changes: dict[str, Any] = {"status": status, "finished_at": timezone.now(), "message": message[:500]}
        if result is not None:
            changes["result"] = result
        if status == JobStatus.SUCCEEDED:
            changes["done"] = F("total")
        updated = Job.objects.filter(pk=job_id, status__in=[JobStatus.PENDING, JobStatus.RUNNING]).update(**changes)
        if updated:
            audit.record(
                action="job.finished", target=("core.job", job_id), data={"status": status, "message": message}
            )


# --- audit chain verification as a job --------------------------------------


def audit_verification_start(*, actor: User | None) -> Job:
    """Start walking the audit chain on a worker; the Job shows its progress."""
    from .models import AuditEvent
    from .tasks import audit_verify_task

    with transaction.atomic():
        job = job_create(
            actor=actor, kind="audit.verify", title=_("Verify the audit chain"), total=AuditEvent.objects.count()
        )
        transaction.on_commit(lambda: audit_verify_task.delay(str(job.pk)))
    return job


def audit_verification_run(*, job_id) -> str:
    """Body of core.audit_verify: idempotent (a finished job is not run again)."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return job.status
    job_start(job_id=job_id)
    report = audit.verify_chain(progress=lambda checked: job_set_progress(job_id=job_id, done=checked))
    result = {"ok": report.ok, "checked": report.checked, "broken_seq": report.broken_seq, "head": report.head_hash}
    if report.ok:
        message = _("Intact: %(n)s events verified.") % {"n": report.checked}
        job_set_progress(job_id=job_id, done=report.checked, total=report.checked)
        job_finish(job_id=job_id, status=JobStatus.SUCCEEDED, message=message, result=result)
    else:
        message = _("Broken at event #%(seq)s: %(reason)s") % {"seq": report.broken_seq, "reason": report.reason}
        job_add_errors(job_id=job_id, errors=[{"item": report.broken_seq, "message": report.reason}])
        job_finish(job_id=job_id, status=JobStatus.FAILED, message=message, result=result)
    return Job.objects.values_list("status", flat=True).get(pk=job_id)
