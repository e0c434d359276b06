"""Who is acting right now: request id, client IP and user, carried in a
contextvar set by middleware (web), by core.tasks (Celery) or by commands."""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class ActorContext:
    request_id: str = ""
    ip: str | None = None
    user: Any = None  # a core.User or None
    label: str = "system"  # used when there is no user: "task:sms.dispatch", "command:import_polling_scheme"


_current: contextvars.ContextVar[ActorContext] = contextvars.ContextVar(
    "ecp_actor",
    default=ActorContext(),  # noqa: B039 (a frozen dataclass: immutable)
)


def current() -> ActorContext:
    return _current.get()


@contextlib.contextmanager
def acting(**changes: Any):
    """Run a block with some of the context replaced (e.g. ``acting(label="command:seed_demo")``)."""
    token = _current.set(replace(_current.get(), **changes))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def set_context(ctx: ActorContext) -> contextvars.Token:
    return _current.set(ctx)


def reset_context(token: contextvars.Token) -> None:
    _current.reset(token)
