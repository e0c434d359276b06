"""Public downloads of the open result exports (no login; docs/results-exports.md).

- ``/results/live/<election>/export.csv`` and ``.json``: the whole election.
  Built once per revision of the election into MEDIA_ROOT
  (``exports.national_file``) and served from that file; a burst of downloads
  never rebuilds it.
- ``/results/live/<election>/<constituency>/export.csv`` and ``.json``: one
  contest, built on the fly and streamed.

Every answer carries an ETag (the revision, or the contest's published
version) and Last-Modified; a request whose If-None-Match names the current
one gets 304 and no body. The CSV is in the page's language: under ``/ur/``
names are in Urdu where recorded. The JSON carries both languages.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    JsonResponse,
    StreamingHttpResponse,
)
from django.utils import translation
from django.utils.http import content_disposition_header, http_date, quote_etag
from django.utils.translation import gettext as _
from django.views import View

from core.http import if_none_match

from . import exports
from .models import Election

CACHE_CONTROL = "public, no-cache"  # caches may keep a copy but must ask (ETag) before using it
RETRY_AFTER_SECONDS = 30


def _language(fmt: str) -> str:
    return "ur" if fmt == "csv" and translation.get_language() == "ur" else "en"


def _not_modified(etag: str) -> HttpResponse:
    response = HttpResponseNotModified()
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


def _problem(fmt: str, status: int, code: str, message: str) -> HttpResponse:
    """The project's error shape for the JSON downloads; the message as plain text for the CSV ones."""
    if fmt == "json":
        return JsonResponse({"code": code, "message": message, "fields": {}}, status=status)
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _no_election(fmt: str, code: str) -> HttpResponse:
    return _problem(
        fmt, 404, "election_not_found", _("There is no election with the code “%(code)s”.") % {"code": code}
    )


def _encoded(chunks: Generator[str, None, None]) -> Iterator[bytes]:
    """UTF-8 bytes of the chunks; a download cut short closes the export (and its snapshot) at once."""
    try:
        for chunk in chunks:
            yield chunk.encode("utf-8")
    finally:
        chunks.close()


class ElectionExportView(View):
    """The national export of one election, from its file for the current revision."""

    fmt = "csv"

    def get(self, request: HttpRequest, election_code: str) -> HttpResponse:
        election = exports.election_get(code=election_code)
        if election is None:
            return _no_election(self.fmt, election_code)
        language = _language(self.fmt)
        revision = exports.election_revision(election)
        etag = quote_etag(exports.etag_value(election=election, fmt=self.fmt, revision=revision, language=language))
        if if_none_match(request, etag):
            return _not_modified(etag)
        try:
            export = exports.national_file(election=election, fmt=self.fmt, language=language, revision=revision)
        except exports.ExportBusy:
            response = _problem(
                self.fmt,
                503,
                "export_in_progress",
                _("This export is being prepared. Please try again in a minute."),
            )
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        # Another request may be building a newer revision: then this is the previous file, with its own tag.
        etag = quote_etag(
            exports.etag_value(election=election, fmt=self.fmt, revision=export.revision, language=language)
        )
        if if_none_match(request, etag):
            export.file.close()
            return _not_modified(etag)
        response = FileResponse(
            export.file, as_attachment=True, filename=export.name, content_type=exports.CONTENT_TYPES[self.fmt]
        )
        response["ETag"] = etag
        response["Last-Modified"] = http_date(export.modified)
        response["Cache-Control"] = CACHE_CONTROL
        return response


class ContestExportView(View):
    """One contest's export, built while it is sent."""

    fmt = "csv"

    def get(self, request: HttpRequest, election_code: str, constituency_code: str) -> HttpResponse:
        election: Election | None = exports.election_get(code=election_code)
        if election is None:
            return _no_election(self.fmt, election_code)
        contest = exports.contest_get(election=election, constituency_code=constituency_code)
        if contest is None:
            return _problem(
                self.fmt,
                404,
                "contest_not_found",
                _("%(election)s has no contest in a constituency “%(code)s”.")
                % {"election": election.name, "code": constituency_code},
            )
        language = _language(self.fmt)
        version = contest.published_version
        etag = quote_etag(
            exports.etag_value(election=election, fmt=self.fmt, revision=version, language=language, contest=contest)
        )
        if if_none_match(request, etag):
            return _not_modified(etag)
        chunks = exports.contest_chunks(contest=contest, fmt=self.fmt, language=language)
        response = StreamingHttpResponse(_encoded(chunks), content_type=exports.CONTENT_TYPES[self.fmt])
        name = exports.download_name(
            election=election, fmt=self.fmt, revision=version, language=language, contest=contest
        )
        response["Content-Disposition"] = content_disposition_header(True, name)
        response["ETag"] = etag
        published_at = exports.contest_published_at(contest)
        if published_at is not None:
            response["Last-Modified"] = http_date(published_at.timestamp())
        response["Cache-Control"] = CACHE_CONTROL
        return response
