"""The sms service API — what other apps call (never the models directly):

- ``message_send(to=…, body=…, purpose=…, language=…, idempotency_key=…)``: one message (an OTP, a
  notification, a slip the law requires, a reply), queued and handed to a worker after the caller's commit.
- ``campaign_create(actor=…, title=…, audience_key=…, template_ur=…, template_en=…, send_at=…)``: a bulk
  campaign to an audience (``sms.audiences``), waiting for a second officer's ``campaign_approve``.
- ``optout_add`` / ``optout_remove`` / ``is_opted_out``; ``contacts_import``; ``delivery_report_apply``;
  ``inbound_receive`` (the keyword router, ``sms.inbound``);
  ``otp_send`` / ``otp_verify`` / ``otp_verified`` (one-time codes).

docs/sms.md explains the states, exactly-once hand-over and the webhooks.
"""

from .campaigns import (
    campaign_approve,
    campaign_cancel,
    campaign_create,
    campaign_estimate,
    campaign_pause,
    campaign_reject,
    campaign_resume,
    campaign_start_run,
)
from .contacts import ImportReport, contacts_import, is_opted_out, optout_add, optout_remove
from .dispatch import campaign_dispatch_run, message_dispatch_run, recover_expired_leases, sweep
from .inbound import inbound_receive
from .messages import delivery_report_apply, message_send, template_check
from .otp import otp_send, otp_verified, otp_verify

__all__ = [
    "ImportReport",
    "campaign_approve",
    "campaign_cancel",
    "campaign_create",
    "campaign_dispatch_run",
    "campaign_estimate",
    "campaign_pause",
    "campaign_reject",
    "campaign_resume",
    "campaign_start_run",
    "contacts_import",
    "delivery_report_apply",
    "inbound_receive",
    "is_opted_out",
    "message_dispatch_run",
    "message_send",
    "otp_send",
    "otp_verified",
    "otp_verify",
    "optout_add",
    "optout_remove",
    "recover_expired_leases",
    "sweep",
    "template_check",
]
