"""SMS: campaigns, single messages, delivery reports, opt-outs and inbound keywords (docs/sms.md)."""
