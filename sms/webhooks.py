"""Provider webhooks (language-neutral URLs, no session, no CSRF token — a Twilio signature instead):

- ``/sms/status/?m=<our message id>``: delivery reports (MessageSid, MessageStatus, ErrorCode).
- ``/sms/inbound/``: messages people send us (MessageSid, From, To, Body); the reply goes out through
  message_send, so the TwiML answer is empty.

Every request must carry ``X-Twilio-Signature`` computed with TWILIO_AUTH_TOKEN over the exact public URL
(PUBLIC_BASE_URL + path, or the address the request arrived at) and the POST parameters; anything else is
refused with 403 and changes nothing. Bodies over SMS_INBOUND_MAX_BYTES are refused with 413.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from core.exceptions import DomainError

from .services import delivery_report_apply, inbound_receive

log = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def public_url(request: HttpRequest) -> str:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return f"{base}{request.get_full_path()}" if base else request.build_absolute_uri()


def _refusal(request: HttpRequest) -> HttpResponse | None:
    """None when the request is a well-formed, correctly signed provider call; else the response refusing it."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.SMS_INBOUND_MAX_BYTES:
        return JsonResponse(
            {"code": "too_large", "message": f"Request bodies are limited to {settings.SMS_INBOUND_MAX_BYTES} bytes."},
            status=413,
        )
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature or not RequestValidator(token).validate(public_url(request), request.POST, signature):
        log.warning("Refused an unsigned or wrongly signed SMS webhook call to %s", request.path)
        return JsonResponse({"code": "bad_signature", "message": "Missing or wrong X-Twilio-Signature."}, status=403)
    return None


def _error(exc: DomainError) -> JsonResponse:
    return JsonResponse(exc.as_dict(), status=exc.status)


@csrf_exempt
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    refused = _refusal(request)
    if refused is not None:
        return refused
    raw_id = request.GET.get("m", "")
    if not raw_id.isdigit():
        return _error(DomainError("bad_message_id", "The status address has no message id (?m=…).", field="m"))
    try:
        delivery_report_apply(
            message_id=int(raw_id),
            provider_id=request.POST.get("MessageSid", ""),
            status=request.POST.get("MessageStatus", "") or request.POST.get("SmsStatus", ""),
            error_code=request.POST.get("ErrorCode", ""),
        )
    except DomainError as exc:
        return _error(exc)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    refused = _refusal(request)
    if refused is not None:
        return refused
    try:
        row = inbound_receive(
            provider_id=request.POST.get("MessageSid", "") or request.POST.get("SmsSid", ""),
            sender=request.POST.get("From", ""),
            recipient=request.POST.get("To", ""),
            body=request.POST.get("Body", ""),
        )
    except DomainError as exc:
        return _error(exc)
    if row.reply_text:  # SMS_INBOUND_REPLY=twiml: the provider sends the answer itself
        return HttpResponse(reply_twiml(row.reply_text), content_type="text/xml")
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


def reply_twiml(text: str) -> str:
    response = MessagingResponse()
    response.message(text)
    return str(response)
