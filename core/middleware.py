"""Request context: a request id (taken from X-Request-ID when it is sane,
otherwise generated) and the client IP in a contextvar for logs and the
audit trail; the user is added once authentication has run."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import replace

from . import context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")
_CNIC_LIKE = re.compile(r"(?<![0-9])[0-9]{5}[\s-]?[0-9]{7}[\s-]?[0-9](?![0-9])")


def client_ip(request) -> str | None:
    from django.conf import settings

    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = context.set_context(context.ActorContext(request_id=request_id, ip=client_ip(request), label="web"))
        try:
            response = self.get_response(request)
        finally:
            context.reset_context(token)
        response["X-Request-ID"] = request_id
        return response


class AuditUserMiddleware:
    """After authentication: put the signed-in user into the acting context."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            token = context.set_context(replace(context.current(), user=user))
            try:
                return self.get_response(request)
            finally:
                context.reset_context(token)
        return self.get_response(request)


class RequestContextLogFilter(logging.Filter):
    """Adds %(request_id)s to every record and masks anything shaped like a CNIC."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.current().request_id or "-"
        message = record.getMessage()
        if _CNIC_LIKE.search(message):
            record.msg = _CNIC_LIKE.sub("[cnic]", message)
            record.args = None
        return True
