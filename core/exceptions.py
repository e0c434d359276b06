"""Domain errors: services raise DomainError; the API turns it into
{"code", "message", "fields"} with a 400 (or the status given); HTML views
show the message beside the field."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the request. Nothing was changed.

    ``code`` is a stable, per-app code (tests assert it); ``message`` is for
    people (translatable); ``field`` names the input the rule is about.
    """

    status = 400

    def __init__(
        self,
        code: str,
        message: str,
        field: str | None = None,
        *,
        status: int | None = None,
        fields: dict[str, list[str]] | None = None,
    ):
        super().__init__(message)
        self.code = str(code)
        self.message = str(message)
        self.field = field
        # Several fields at once (e.g. every rule a form breaks); else just `field`.
        self.fields = fields if fields is not None else ({field: [self.message]} if field else {})
        if status is not None:
            self.status = status

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "fields": self.fields}


class ConflictError(DomainError):
    """The object is not in the state the request assumed (409)."""

    status = 409


class PermissionDeniedError(DomainError):
    status = 403
