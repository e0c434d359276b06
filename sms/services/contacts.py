"""Contacts: CSV import with a line-by-line report of bad rows (the good ones are kept), and opt-outs."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import DomainError
from core.phone import InvalidPhone, normalize_mobile

from ..models import Contact, ContactGroup, Language, OptOut
from .common import CONTACTS_IMPORTED, OPTED_IN, OPTED_OUT, require_officer

CSV_COLUMNS = ("name", "phone", "language", "organisation", "groups")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)  # {"line", "field", "message"}

    @property
    def imported(self) -> int:
        return self.created + self.updated


@dataclass
class _Row:
    name: str
    phone: str
    language: str
    organisation: str
    groups: tuple[str, ...]


def _read(text: str, report: ImportReport) -> list[_Row]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("name", "phone") if c not in header]
    if missing:
        raise DomainError(
            "csv_columns",
            _("The file has no column %(cols)s. The first line must name the columns: %(all)s.")
            % {"cols": ", ".join(missing), "all": ", ".join(CSV_COLUMNS)},
            field="file",
        )
    reader.fieldnames = header
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for count, raw in enumerate(reader, start=1):
        line = reader.line_num  # the file's line where this row ends (blank lines and quoted newlines count)
        if count > settings.SMS_CONTACTS_MAX_ROWS:
            raise DomainError(
                "csv_too_long",
                _("The file has more than %(n)s rows; split it.") % {"n": settings.SMS_CONTACTS_MAX_ROWS},
                field="file",
            )
        values = {k: (v or "").strip() for k, v in raw.items() if k}
        name = values.get("name", "")
        if not name:
            report.errors.append({"line": line, "field": "name", "message": _("The name is empty.")})
            continue
        try:
            phone = normalize_mobile(values.get("phone", ""))
        except InvalidPhone as exc:
            report.errors.append({"line": line, "field": "phone", "message": str(exc)})
            continue
        language = (values.get("language") or Language.URDU).lower()
        if language not in Language.values:
            report.errors.append(
                {"line": line, "field": "language", "message": _("The language is “ur” or “en”, not “%s”.") % language}
            )
            continue
        if phone in seen:
            report.errors.append(
                {
                    "line": line,
                    "field": "phone",
                    "message": _("This number is already on line %(line)s of the file.") % {"line": seen[phone]},
                }
            )
            continue
        seen[phone] = line
        groups = tuple(g.strip() for g in values.get("groups", "").split(";") if g.strip())
        rows.append(_Row(name[:120], phone, language, values.get("organisation", "")[:120], groups))
    return rows


def contacts_import(*, actor, text: str, group: ContactGroup | None = None, file_name: str = "") -> ImportReport:
    """Add or update contacts from CSV text (columns: name, phone[, language, organisation, groups]).

    Bad rows are reported with their line and skipped; the good ones are saved together (all or none of
    them). Contacts are matched by phone number; groups named in the file are created when new."""
    require_officer(actor)
    report = ImportReport()
    try:
        rows = _read(text, report)
    except csv.Error as exc:
        raise DomainError("csv_unreadable", _("The file is not a readable CSV file: %s") % exc, field="file") from exc
    with transaction.atomic():
        existing = {c.phone: c for c in Contact.objects.filter(phone__in=[r.phone for r in rows])}
        group_names = {g for r in rows for g in r.groups}
        groups = {g.name: g for g in ContactGroup.objects.filter(name__in=group_names)}
        for name in group_names - groups.keys():
            groups[name] = ContactGroup.objects.create(name=name[:80])
        new, changed = [], []
        for r in rows:
            contact = existing.get(r.phone)
            if contact is None:
                new.append(Contact(name=r.name, phone=r.phone, language=r.language, organisation=r.organisation))
            elif (contact.name, contact.language, contact.organisation) != (r.name, r.language, r.organisation):
                contact.name, contact.language, contact.organisation = r.name, r.language, r.organisation
                changed.append(contact)
        Contact.objects.bulk_create(new, batch_size=2000)
        Contact.objects.bulk_update(changed, ["name", "language", "organisation"], batch_size=2000)
        ids = dict(Contact.objects.filter(phone__in=[r.phone for r in rows]).values_list("phone", "id"))
        through = Contact.groups.through
        links = [through(contact_id=ids[r.phone], contactgroup_id=groups[g].pk) for r in rows for g in r.groups]
        if group is not None:
            links += [through(contact_id=ids[r.phone], contactgroup_id=group.pk) for r in rows]
        through.objects.bulk_create(links, batch_size=5000, ignore_conflicts=True)
        report.created, report.updated = len(new), len(rows) - len(new)
        audit.record(
            actor=actor,
            action=CONTACTS_IMPORTED,
            target=group,
            data={
                "file": file_name[:200],
                "created": report.created,
                "updated": report.updated,
                "bad_rows": len(report.errors),
            },
        )
    return report


def is_opted_out(phone: str) -> bool:
    return OptOut.objects.filter(phone=phone).exists()


def optout_add(*, phone: str, keyword: str = "", actor=None) -> bool:
    """Stop campaign (and notification) messages to ``phone``; False when it had already opted out."""
    with transaction.atomic():
        _row, created = OptOut.objects.get_or_create(phone=phone, defaults={"keyword": keyword[:30]})
        if created:
            audit.record(actor=actor, action=OPTED_OUT, target=("sms.optout", phone), data={"keyword": keyword})
    return created


def optout_remove(*, phone: str, keyword: str = "", actor=None) -> bool:
    """Resume campaign messages to ``phone``; False when it had not opted out."""
    with transaction.atomic():
        deleted, _rows = OptOut.objects.filter(phone=phone).delete()
        if deleted:
            audit.record(actor=actor, action=OPTED_IN, target=("sms.optout", phone), data={"keyword": keyword})
    return bool(deleted)
