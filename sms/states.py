"""The message state machine (pure; RapidPro-like), shared by the dispatcher and the delivery reports.

    queued ──claim──> sending ──accepted──> sent ──report──> delivered
      ^                 │  │                  └────report──> failed
      └──transient──────┘  └──permanent / expired / too many errors──> failed
    queued ──campaign cancelled──> cancelled

A status only moves forward in rank: a delivery report that arrives late ("sent" after "delivered")
never moves a message back. delivered, failed and cancelled are final.
"""

from __future__ import annotations

QUEUED, SENDING, SENT, DELIVERED, FAILED, CANCELLED = "queued", "sending", "sent", "delivered", "failed", "cancelled"

RANK = {QUEUED: 0, SENDING: 1, SENT: 2, DELIVERED: 3, FAILED: 3, CANCELLED: 3}
FINAL = frozenset({DELIVERED, FAILED, CANCELLED})

# Twilio's MessageStatus values → ours (None: no change worth recording).
TWILIO_STATUS = {
    "accepted": None,
    "scheduled": None,
    "queued": None,
    "sending": None,
    "sent": SENT,
    "delivered": DELIVERED,
    "read": DELIVERED,
    "undelivered": FAILED,
    "failed": FAILED,
    "canceled": FAILED,
}


def report_applies(current: str, reported: str) -> bool:
    """Whether a delivery report of ``reported`` moves a message that is ``current``: only forward, never out
    of a final state (a late "sent" after "delivered", a second "delivered", a "failed" after "delivered")."""
    if current in FINAL:
        return False
    return RANK[reported] > RANK[current]
