"""The audit trail: ``record(...)`` appends a hash-chained event inside the
caller's transaction; ``verify_chain()`` walks it (``manage.py verify_audit``).

Each event's hash is SHA-256 over its canonical content, which includes the
previous event's hash, so changing, removing or reordering any row breaks
every later link. Writers are serialised on the chain's tail: on PostgreSQL
by a transaction-scoped advisory lock (released at commit), on SQLite by the
database's single writer; the unique ``seq`` and ``hash`` columns make a
fork impossible either way. Call ``record`` last in a service, so the lock
is held only for the commit itself (see docs/adr/0002-audit-chain.md).

Actions are registered dotted names (``register("complaint.escalated", …)``);
recording an unregistered action is a programming error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from . import context
from .db import advisory_xact_lock

GENESIS_HASH = "0" * 64
# An arbitrary fixed key for pg_advisory_xact_lock: "ECP audit" in ASCII.
_ADVISORY_LOCK_KEY = 0x4543504155444954 & 0x7FFFFFFFFFFFFFFF

_ACTIONS: dict[str, str] = {}


def register(action: str, description: str) -> str:
    """Declare an audited action name (``<app>.<event>``); returns the name."""
    if action.count(".") < 1 or action != action.lower() or " " in action:
        raise ValueError(f"Audit action names are lower-case dotted names, not {action!r}.")
    _ACTIONS[action] = description
    return action


def registered_actions() -> dict[str, str]:
    return dict(_ACTIONS)


def _canonical_data(data: Any) -> Any:
    """JSON-safe copy of data (dates, decimals, UUIDs become strings) that reloads identically."""
    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder, ensure_ascii=False))


def compute_hash(fields: dict[str, Any]) -> str:
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _hashed_fields(event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "created_at": event.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_repr": event.target_repr,
        "data": event.data,
        "request_id": event.request_id,
        "ip": event.ip,
        "prev_hash": event.prev_hash,
    }


def _describe_target(target: Any) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk), str(target)[:200]
    if isinstance(target, tuple) and len(target) == 2:  # ("core.job", id) when there is no instance at hand
        return str(target[0]), str(target[1]), ""
    raise TypeError("audit target must be a model instance, a (type, id) pair or None")


def record(*, action: str, target: Any = None, data: dict | None = None, actor: Any = None):
    """Append one event to the chain, inside the current transaction.

    ``actor`` defaults to the user of the current request/task context; with
    no user the context's label ("task:…", "command:…", "system") is recorded.
    """
    from .models import AuditEvent  # the models import this module's neighbours, not the reverse

    if action not in _ACTIONS:
        raise ValueError(f"Unregistered audit action {action!r}: call core.audit.register first.")
    ctx = context.current()
    user = actor if actor is not None else ctx.user
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    target_type, target_id, target_repr = _describe_target(target)

    # Inside a caller's transaction no savepoint is needed: a failure here must undo the whole change.
    with transaction.atomic(savepoint=False):
        _lock_tail()
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        event = AuditEvent(
            seq=seq,
            created_at=timezone.now(),
            actor=user,
            actor_label=(user.get_username() if user is not None else ctx.label)[:150],
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_repr=target_repr,
            data=_canonical_data(data),
            request_id=ctx.request_id[:64],
            ip=ctx.ip,
            prev_hash=prev_hash,
        )
        event.hash = compute_hash(_hashed_fields(event))
        event.save(force_insert=True)
    return event


def _lock_tail() -> None:
    advisory_xact_lock(_ADVISORY_LOCK_KEY)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    head_hash: str = GENESIS_HASH


def verify_chain(*, batch_size: int = 5000, progress: Callable[[int], None] | None = None) -> ChainReport:
    """Walk the whole chain in order; report the first broken link.

    ``progress(checked)`` is called after each batch (for a Job's progress bar)."""
    from .models import AuditEvent

    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gte=expected_seq).order_by("seq")[:batch_size])
        if not batch:
            return ChainReport(True, checked, head_hash=expected_prev)
        for event in batch:
            if event.seq != expected_seq:
                reason = f"event #{expected_seq} is missing (next is #{event.seq})"
                return ChainReport(False, checked, expected_seq, reason)
            if event.prev_hash != expected_prev:
                return ChainReport(False, checked, event.seq, "its previous-hash does not match the event before it")
            if compute_hash(_hashed_fields(event)) != event.hash:
                return ChainReport(
                    False, checked, event.seq, "its content does not match its hash (the row was altered)"
                )
            expected_prev, expected_seq, checked = event.hash, event.seq + 1, checked + 1
        if progress is not None:
            progress(checked)


def head() -> tuple[int, str]:
    """(seq, hash) of the newest event, (0, genesis) when the log is empty."""
    from .models import AuditEvent

    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return (last[0], last[1]) if last else (0, GENESIS_HASH)


# The core app's own actions.
register("user.login", "A staff member logged in (password and second factor)")
register("user.login_failed", "A staff login was refused")
register("user.otp_enrolled", "A staff member enrolled an authenticator app")
register("user.role_granted", "A role was granted to a user")
register("user.role_revoked", "A role was revoked from a user")
register("geography.scheme_imported", "A polling scheme file was imported")
register("office.created", "An office was added to the hierarchy")
register("job.started", "A long job started")
register("job.finished", "A long job finished")
register("demo.seeded", "Demo data was seeded")
