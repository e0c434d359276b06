"""The API's shared pieces: pagination and the one error shape.

Every error leaves the API as ``{"code", "message", "fields"}``:
400 invalid input (``fields`` maps each field to its messages), 401/403,
404, 405, 409 wrong state, 429 throttled. Domain rules raise
``core.exceptions.DomainError`` in services; the handler maps it here.
Kept apart from core/api.py because DRF's settings import these while the
viewsets there are still being imported.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from .exceptions import DomainError


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _flatten(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _flatten(value)]
    return [str(detail)]


def _field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """{"field": [...], "items.0.votes": [...]} from DRF's (possibly nested) ValidationError detail."""
    key = prefix or "non_field_errors"
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for name, value in detail.items():
            fields.update(_field_errors(value, f"{prefix}.{name}" if prefix else str(name)))
        return fields
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        fields = {}
        for index, item in enumerate(detail):
            if item:
                fields.update(_field_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return fields
    return {key: _flatten(detail)}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def exception_handler(exc, context):
    """DRF exception handler producing the one error shape. Unexpected errors still propagate (500, logged)."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        fields = _field_errors(exc.detail)
        if list(fields) == ["non_field_errors"]:
            message = fields["non_field_errors"][0]
        else:
            first = next(iter(fields))
            message = _("Check the field %(field)s: %(error)s") % {"field": first, "error": fields[first][0]}
        body = error_body("invalid", message, fields)
    else:
        detail = exc.detail
        message = _flatten(detail)[0] if isinstance(detail, dict | list) else str(detail)
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        body = error_body(str(code), message)
    return Response(body, status=exc.status_code, headers=headers)
