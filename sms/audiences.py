"""Audiences: who a campaign goes to. Other apps offer theirs ("applicants of vacancy X") by registering a
source here, so sms never imports them:

    from sms import audiences

    @audiences.source("vacancy", label=_("Applicants of a vacancy"))
    def vacancy_audiences() -> list[audiences.Audience]: ...

An ``Audience`` has a key ("vacancy:12"), a label, the placeholder fields its recipients carry, a count and
an iterator of ``Recipient``s. sms's own source offers the contact groups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Recipient:
    phone: str  # E.164 preferred; other forms are normalised (and refused if not a mobile) when messages are made
    language: str = "ur"
    fields: Mapping[str, str] = field(default_factory=dict)  # values for the template's placeholders


@dataclass(frozen=True)
class Audience:
    key: str
    label: str
    fields: tuple[str, ...]
    count: Callable[[], int]
    recipients: Callable[[], Iterator[Recipient]]


@dataclass(frozen=True)
class _Source:
    label: Promise | str
    lister: Callable[[], list[Audience]]


_SOURCES: dict[str, _Source] = {}


def source(prefix: str, *, label: Promise | str):
    """Register a function listing the audiences whose keys start with ``prefix:``."""

    def wrap(lister: Callable[[], list[Audience]]):
        _SOURCES[prefix] = _Source(label, lister)
        return lister

    return wrap


def all_audiences() -> list[tuple[str, list[Audience]]]:
    return [(str(src.label), src.lister()) for _prefix, src in sorted(_SOURCES.items())]


def get(key: str) -> Audience | None:
    prefix = key.split(":", 1)[0]
    src = _SOURCES.get(prefix)
    if src is None:
        return None
    return next((a for a in src.lister() if a.key == key), None)


# --- sms's own: contact groups ----------------------------------------------------------------------------

CONTACT_FIELDS = ("name", "organisation")


def _group_audience(group_id: int | None, label: str) -> Audience:
    from .models import Contact

    def queryset():
        qs = Contact.objects.all()
        return qs.filter(groups=group_id) if group_id is not None else qs

    def recipients() -> Iterator[Recipient]:
        rows = queryset().order_by("id").values_list("phone", "language", "name", "organisation")
        for phone, language, name, organisation in rows.iterator(chunk_size=5000):
            yield Recipient(phone, language, {"name": name, "organisation": organisation})

    return Audience(
        key=f"group:{group_id if group_id is not None else 'all'}",
        label=label,
        fields=CONTACT_FIELDS,
        count=lambda: queryset().count(),
        recipients=recipients,
    )


@source("group", label=_("Contact groups"))
def contact_group_audiences() -> list[Audience]:
    from .models import ContactGroup

    groups = ContactGroup.objects.annotate(size=Count("contacts")).order_by("name")
    found = [_group_audience(None, str(_("All contacts")))]
    found += [_group_audience(g.pk, f"{g.name} ({g.size})") for g in groups]
    return found
