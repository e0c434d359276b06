"""Forms 47, 48 and 49 of the Result Management System as PDF, in English or Urdu.

``render_form(data, language=...)`` turns a plain, JSON-safe mapping (see the
module's README in the docstring of :func:`render_form`) into the bytes of an
official-looking PDF. Nothing here touches the database or Django: every label
comes from the bilingual table ``LABELS`` below, and the same data always gives
byte-identical output (reportlab's ``invariant`` mode), because the SHA-256 of
the PDF is recorded and audited.

Urdu
----
reportlab draws glyphs one by one and has no shaping engine, so Urdu text is

1. reshaped with ``arabic-reshaper`` (letters replaced by their joined
   presentation forms, lam-alef ligatures only),
2. broken into lines in logical order (so a wrapped paragraph keeps its line
   order),
3. reordered line by line with the Unicode bidi algorithm (``python-bidi``'s
   levels; we apply rule L2 ourselves and mirror brackets on right-to-left
   levels, rule L4, which python-bidi 0.6 leaves out), with every number or
   code that holds a digit (``12,345``, ``NA-46``, ``2026-02-08``, ``56.00%``)
   wrapped in a left-to-right isolate first, so figures never come out
   scrambled next to Urdu words,
4. drawn run by run: Arabic-script characters in Noto Naskh Arabic (vendored in
   ``static/fonts/``), everything else (Western digits, Latin, punctuation) in
   Helvetica, the same face the English form uses for figures.

Noto Nastaliq Urdu is not used: it maps no presentation forms and needs an
OpenType shaping engine (HarfBuzz) that reportlab does not have here.

Wide contests (Form-48)
-----------------------
Form-48 is set on landscape A4. The station-wise table keeps the station
columns (number, name, registered, polled, excluded, valid) on the left (on the
right in Urdu) and gives each candidate a column of at least ``_MIN_CAND_COL``
points; when the candidates do not fit, they are split into column bands of
equal size ("candidates 1-10 of 30, part 1 of 3"), each band a full table of all
stations that repeats the station columns and ends with the station total,
postal ballots and grand total rows. Rows split across pages with the header
repeated.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    HRFlowable,
    KeepTogether,
    PageTemplate,
    Spacer,
    Table,
    TableStyle,
)

from core import pdf_text

__all__ = ["FORMS", "LABELS", "label", "render_form", "verification_payload"]

Language = Literal["en", "ur"]
FORMS = ("47", "48", "49")

# ---------------------------------------------------------------------------
# Labels: (English, Urdu). Placeholders are filled with str.format.
# ---------------------------------------------------------------------------
LABELS: dict[str, tuple[str, str]] = {
    "ecp": ("ELECTION COMMISSION OF PAKISTAN", "الیکشن کمیشن آف پاکستان"),
    "rms": ("Result Management System", "رزلٹ مینجمنٹ سسٹم"),
    "form": ("FORM", "فارم"),
    "form_ref": ("Form-{form}", "فارم {form}"),
    "title_47": (
        "Provisional Consolidated Statement of Results of the Count",
        "گنتی کے نتائج کا عارضی مجموعی گوشوارہ",
    ),
    "title_48": (
        "Consolidated Statement of the Results of the Count",
        "گنتی کے نتائج کا مجموعی گوشوارہ",
    ),
    "title_49": ("Final Consolidated Result", "حتمی مجموعی نتیجہ"),
    "subtitle_47": (
        "Prepared by the Returning Officer from the Results of the Count (Form-45) received so far. "
        "Provisional: postal ballots are not included.",
        "ریٹرننگ افسر کی جانب سے اب تک موصول ہونے والے نتائج گنتی (فارم 45) کی بنیاد پر تیار کردہ۔ "
        "عارضی: اس میں پوسٹل بیلٹ شامل نہیں۔",
    ),
    "subtitle_48": (
        "Consolidation of the results of the count of all polling stations, with postal ballots, "
        "in the presence of the contesting candidates or their election agents.",
        "تمام پولنگ اسٹیشنوں کے نتائج گنتی کی پوسٹل بیلٹ سمیت یکجائی، "
        "مقابلہ کرنے والے امیدواروں یا ان کے الیکشن ایجنٹوں کی موجودگی میں۔",
    ),
    "subtitle_49": (
        "Final consolidated result of the constituency, submitted by the Returning Officer to the Commission.",
        "حلقے کا حتمی مجموعی نتیجہ، جو ریٹرننگ افسر کی جانب سے کمیشن کو پیش کیا گیا۔",
    ),
    "election": ("Election", "انتخاب"),
    "poll_date": ("Date of poll", "تاریخ پولنگ"),
    "constituency": ("Constituency", "حلقہ"),
    "house": ("House", "ایوان"),
    "house_na": ("National Assembly", "قومی اسمبلی"),
    "house_pa": ("Provincial Assembly", "صوبائی اسمبلی"),
    "province": ("Province / Area", "صوبہ / علاقہ"),
    "version": ("Version", "نسخہ"),
    "produced_at": ("Prepared on", "تاریخ و وقت تیاری"),
    "produced_by": ("Prepared by", "تیار کنندہ"),
    "sec_candidates": ("Votes secured by the contesting candidates", "مقابلہ کرنے والے امیدواروں کے حاصل کردہ ووٹ"),
    "col_ballot": ("Ballot No.", "بیلٹ نمبر"),
    "col_name": ("Name of candidate", "امیدوار کا نام"),
    "col_party": ("Party affiliation", "سیاسی وابستگی"),
    "col_symbol": ("Symbol", "انتخابی نشان"),
    "col_votes_47": ("Votes (provisional)", "ووٹ (عارضی)"),
    "col_votes": ("Votes at polling stations", "پولنگ اسٹیشنوں کے ووٹ"),
    "col_postal": ("Postal ballots", "پوسٹل بیلٹ"),
    "col_total": ("Total votes", "کل ووٹ"),
    "row_total": ("Total", "میزان"),
    "sec_totals": ("Summary of votes polled", "ڈالے گئے ووٹوں کا خلاصہ"),
    "registered": ("Registered voters", "رجسٹرڈ ووٹرز"),
    "polled_male": ("Votes polled — male", "ڈالے گئے ووٹ — مرد"),
    "polled_female": ("Votes polled — female", "ڈالے گئے ووٹ — خواتین"),
    "polled": ("Total votes polled", "ڈالے گئے ووٹوں کی کل تعداد"),
    "excluded": ("Ballot papers excluded from the count (rejected)", "گنتی سے خارج شدہ (مسترد) بیلٹ پیپر"),
    "valid": ("Total valid votes", "کل درست ووٹ"),
    "turnout": ("Turnout", "ٹرن آؤٹ"),
    "postal_counted": ("Postal ballots counted", "شمار کیے گئے پوسٹل بیلٹ"),
    "postal_rejected": ("Postal ballots rejected", "مسترد شدہ پوسٹل بیلٹ"),
    "sec_stations_47": (
        "Polling stations whose Result of the Count (Form-45) has been received",
        "پولنگ اسٹیشن جن کا نتیجہ گنتی (فارم 45) موصول ہو چکا ہے",
    ),
    "col_ps_no": ("PS No.", "نمبر"),
    "col_ps_name": ("Polling station", "پولنگ اسٹیشن"),
    "col_registered": ("Registered voters", "رجسٹرڈ ووٹرز"),
    "col_polled": ("Votes polled", "ڈالے گئے ووٹ"),
    "col_excluded": ("Excluded (rejected)", "خارج شدہ (مسترد)"),
    "col_valid": ("Valid votes", "درست ووٹ"),
    "col_turnout": ("Turnout", "ٹرن آؤٹ"),
    "sec_awaited": (
        "Polling stations whose Form-45 is still awaited",
        "پولنگ اسٹیشن جن کا فارم 45 تاحال موصول نہیں ہوا",
    ),
    "awaited_count": (
        "Form-45 received from {received} of {expected} polling stations; {awaited} still awaited.",
        "{expected} میں سے {received} پولنگ اسٹیشنوں کا فارم 45 موصول ہو چکا ہے؛ {awaited} کا تاحال انتظار ہے۔",
    ),
    "all_reported": (
        "All polling stations reported: Form-45 received from every polling station.",
        "تمام پولنگ اسٹیشنوں کے نتائج موصول ہو چکے ہیں: ہر پولنگ اسٹیشن کا فارم 45 موصول ہو گیا ہے۔",
    ),
    "sec_stationwise": ("Station-wise results of the count", "پولنگ اسٹیشن وار نتائج گنتی"),
    "band": (
        "Candidates {first}–{last} of {count} (part {part} of {parts})",
        "امیدوار نمبر {first} تا {last}، کل {count} امیدوار (حصہ {part} از {parts})",
    ),
    "row_stations_total": ("Total of polling stations", "پولنگ اسٹیشنوں کا میزان"),
    "row_postal": ("Postal ballots", "پوسٹل بیلٹ"),
    "row_grand_total": ("Grand total", "کل میزان"),
    "sec_flags": ("Flags raised by the automatic result checks", "نتائج کی خودکار جانچ کی نشاندہیاں"),
    "flags_note": (
        "Flags inform the Returning Officer and the Commission; they decide nothing by themselves.",
        "یہ نشاندہیاں ریٹرننگ افسر اور کمیشن کی اطلاع کے لیے ہیں؛ ان سے خود بخود کوئی فیصلہ نہیں ہوتا۔",
    ),
    "col_severity": ("Severity", "نوعیت"),
    "col_rule": ("Check", "جانچ"),
    "col_message": ("Observation", "مشاہدہ"),
    "sev_info": ("Note", "اطلاع"),
    "sev_warning": ("Warning", "انتباہ"),
    "sev_error": ("Error", "سنگین"),
    "sec_returned": ("Returned candidate", "کامیاب قرار پانے والا امیدوار"),
    "tie": (
        "No candidate returned: tie recorded for the Commission",
        "کوئی امیدوار کامیاب قرار نہیں پایا: ووٹ برابر ہونے کا معاملہ کمیشن کے لیے درج کر لیا گیا ہے",
    ),
    "signature": ("Signature and stamp of the Returning Officer", "ریٹرننگ افسر کے دستخط اور مہر"),
    "signed_by": ("Signed by", "دستخط کنندہ"),
    "page": ("Page {page} of {pages}", "صفحہ {page} از {pages}"),
    "hash": ("content hash:", "مندرجات کا ہیش:"),
    "verify": ("Scan to verify this copy", "تصدیق کے لیے اسکین کریں"),
    "version_short": ("version {version}", "نسخہ {version}"),
}

_MONTHS = (
    ("January", "جنوری"),
    ("February", "فروری"),
    ("March", "مارچ"),
    ("April", "اپریل"),
    ("May", "مئی"),
    ("June", "جون"),
    ("July", "جولائی"),
    ("August", "اگست"),
    ("September", "ستمبر"),
    ("October", "اکتوبر"),
    ("November", "نومبر"),
    ("December", "دسمبر"),
)


def label(key: str, language: Language, **values: Any) -> str:
    """The label ``key`` in ``language``, with its placeholders filled."""
    text = LABELS[key][1 if language == "ur" else 0]
    return text.format(**values) if values else text


class _Text(Flowable):  # type: ignore[misc]
    """A paragraph that wraps in logical order and draws each line with bidi and font fallback."""

    def __init__(
        self,
        text: Any,
        rtl_doc: bool,
        *,
        size: float = 8.0,
        bold: bool = False,
        align: str = "start",
        color: Any = None,
        mono: bool = False,
    ) -> None:
        super().__init__()
        raw = "" if text is None else str(text)
        self.shaped = raw if mono else pdf_text.shape(raw)
        has_arabic = bool(pdf_text.ARABIC_RE.search(raw))
        self.rtl = rtl_doc and has_arabic  # base direction: auto, like dir="auto"
        self.size, self.bold, self.mono = size, bold, mono
        self.color = color or _INK
        if align == "start":
            align = "right" if rtl_doc else "left"
        elif align == "end":
            align = "left" if rtl_doc else "right"
        self.align = align
        self.leading, self.baseline = pdf_text.metrics(size, rtl_doc or has_arabic)
        self._lines: list[str] = []

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self._lines = pdf_text.break_lines(self.shaped, availWidth, self.size, self.bold, self.mono)
        self.width = availWidth
        self.height = self.leading * len(self._lines)
        return self.width, self.height

    def draw(self) -> None:
        canv = self.canv
        canv.setFillColor(self.color)
        x = {"left": 0.0, "right": self.width, "center": self.width / 2}[self.align]
        for i, line in enumerate(self._lines):
            y = self.height - (i + 1) * self.leading + self.baseline
            pdf_text.draw_line(
                canv, line, x, y, size=self.size, bold=self.bold, mono=self.mono, rtl=self.rtl, align=self.align
            )


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------
def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return int(number) if number == number.to_integral_value() else None


def _num(value: Any) -> str:
    """12345 -> '12,345'; missing -> an em dash."""
    number = _int(value)
    if number is None:
        return "—" if value in (None, "") else str(value)
    return f"{number:,}"


def _percent(value: Any) -> str:
    if value in (None, ""):
        return "—"
    try:
        return f"{Decimal(str(value)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"
    except InvalidOperation:
        return str(value)


def _ratio(part: Any, whole: Any) -> str:
    p, w = _int(part), _int(whole)
    if p is None or not w:
        return "—"
    return _percent(Decimal(p) * 100 / Decimal(w))


def _date(value: Any, language: Language) -> str:
    if not value:
        return "—"
    try:
        d = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    month = _MONTHS[d.month - 1][1 if language == "ur" else 0]
    return f"{d.day} {month} {d.year}"


def _datetime(value: Any, language: Language) -> str:
    if not value:
        return "—"
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    text = f"{_date(dt.date().isoformat(), language)}{'،' if language == 'ur' else ','} {dt:%H:%M}"
    offset = dt.strftime("%z")
    if offset:
        text += f" (UTC{offset[:3]}:{offset[3:]})"
    return text


# ---------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------
_INK = colors.HexColor("#111111")
_GREEN = colors.HexColor("#0b5d36")
_RULE = colors.HexColor("#4d4d4d")
_HEAD_FILL = colors.HexColor("#e4ebe6")
_LABEL_FILL = colors.HexColor("#f2f4f2")
_TOTAL_FILL = colors.HexColor("#eeeeee")
_FLAG_FILL = colors.HexColor("#fff7e0")
_RETURNED_FILL = colors.HexColor("#e8f3ec")
_MIN_CAND_COL = 36.0  # points: room for "12,345" at 7 pt with padding
_MAX_CAND_COL = 64.0
_STATION_FIXED = (26.0, 118.0, 46.0, 42.0, 42.0, 42.0)  # Form-48: PS No., name, registered, polled, excluded, valid


@dataclass
class _Ctx:
    data: Mapping[str, Any]
    language: Language
    form: str
    page_width: float
    page_height: float
    margin_x: float = 15 * mm
    margin_top: float = 13 * mm
    margin_bottom: float = 19 * mm

    @property
    def rtl(self) -> bool:
        return self.language == "ur"

    @property
    def width(self) -> float:
        return self.page_width - 2 * self.margin_x

    def t(self, key: str, **values: Any) -> str:
        return label(key, self.language, **values)

    def loc(self, obj: Mapping[str, Any] | None, key: str) -> str:
        """obj[key + '_ur'] in Urdu (falling back to obj[key]), obj[key] in English."""
        if not obj:
            return ""
        if self.rtl:
            value = obj.get(f"{key}_ur")
            if value not in (None, ""):
                return str(value)
        value = obj.get(key)
        return "" if value is None else str(value)

    def text(self, value: Any, **kw: Any) -> _Text:
        return _Text(value, self.rtl, **kw)

    # -- tables -------------------------------------------------------------
    def table(
        self,
        rows: list[list[Any]],
        widths: Sequence[float],
        style: Iterable[tuple[Any, ...]] = (),
        *,
        repeat: int = 0,
        grid: bool = True,
    ) -> Table:
        """A table written in logical (start-to-end) column order, mirrored for Urdu."""
        n = len(widths)
        cmds: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, -1), pdf_text.LATIN, 8),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("TEXTCOLOR", (0, 0), (-1, -1), _INK),
        ]
        if grid:
            cmds += [("GRID", (0, 0), (-1, -1), 0.4, _RULE), ("BOX", (0, 0), (-1, -1), 0.9, _INK)]
        cmds += list(style)
        widths = list(widths)
        if self.rtl:
            rows = [list(reversed(r)) for r in rows]
            widths.reverse()
            cmds = [_mirror_cmd(c, n) for c in cmds]
            for op, (c0, r0), (c1, _r1), *_ in cmds:
                if op == "SPAN":  # reportlab draws a span's top-left cell: move the content there
                    row = rows[r0]
                    row[c0], row[c1] = row[c1], row[c0]
        table = Table(rows, colWidths=widths, repeatRows=repeat, hAlign="CENTER")
        table.setStyle(TableStyle(cmds))
        return table

    def heading(self, key_or_text: str, *, raw: bool = False) -> Table:
        text = key_or_text if raw else self.t(key_or_text)
        t = self.table(
            [[self.text(text, size=9.5, bold=True, color=_GREEN)]],
            [self.width],
            [
                ("BACKGROUND", (0, 0), (-1, -1), _HEAD_FILL),
                ("LINEBELOW", (0, 0), (-1, -1), 1.2, _GREEN),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), 5),
                ("RIGHTPADDING", (0, 0), (-1, -1), 5),
            ],
            grid=False,
        )
        return t

    def section(self, key_or_text: str, body: list[Flowable], *, raw: bool = False, keep: bool = True) -> list[Any]:
        head = self.heading(key_or_text, raw=raw)
        if keep:
            return [Spacer(1, 4 * mm), KeepTogether([head, Spacer(1, 1.5 * mm), *body])]
        return [Spacer(1, 4 * mm), CondPageBreak(45 * mm), head, Spacer(1, 1.5 * mm), *body]

    def head_cell(self, key: str, **kw: Any) -> _Text:
        return self.text(self.t(key), size=kw.pop("size", 7.5), bold=True, align=kw.pop("align", "center"), **kw)


def _mirror_cmd(cmd: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    op, (c0, r0), (c1, r1), *rest = cmd
    c0, c1 = c0 % n, c1 % n
    new0, new1 = n - 1 - c1, n - 1 - c0
    return (op, (new0, r0), (new1, r1), *rest)


# -- blocks ----------------------------------------------------------------
def verification_payload(data: Mapping[str, Any]) -> str:
    """The text of the QR code: enough to find the record and check a printed copy against it."""
    contest = data.get("contest") or {}
    return (
        f"ECP-RMS|FORM-{data.get('form', '')}|{contest.get('code', '')}|"
        f"v{data.get('version', '')}|sha256:{data.get('content_hash', '')}"
    )


def _qr(payload: str, size: float) -> Drawing:
    widget = QrCodeWidget(payload, barWidth=size, barHeight=size, barLevel="M", barBorder=2)
    drawing = Drawing(size, size)
    drawing.add(widget)
    return drawing


def _title_block(ctx: _Ctx) -> list[Any]:
    form = ctx.form
    qr_size = 30 * mm
    box_w, qr_w = 24 * mm, qr_size + 4 * mm
    mid_w = ctx.width - box_w - qr_w
    form_box = [
        ctx.text(ctx.t("form"), size=9, bold=True, align="center", color=_GREEN),
        ctx.text(form, size=26, bold=True, align="center", color=_GREEN),
    ]
    middle = [
        ctx.text(ctx.t("ecp"), size=12.5, bold=True, align="center"),
        ctx.text(ctx.t("rms"), size=8, align="center", color=_RULE),
        Spacer(1, 2.5 * mm),
        ctx.text(ctx.t(f"title_{form}"), size=13.5, bold=True, align="center", color=_GREEN),
        Spacer(1, 1 * mm),
        ctx.text(ctx.t(f"subtitle_{form}"), size=7.5, align="center", color=_RULE),
    ]
    qr = [_qr(verification_payload(ctx.data), qr_size), ctx.text(ctx.t("verify"), size=6, align="center")]
    block = ctx.table(
        [[form_box, middle, qr]],
        [box_w, mid_w, qr_w],
        [
            ("BOX", (0, 0), (0, 0), 1.6, _GREEN),
            ("ALIGN", (2, 0), (2, 0), "CENTER"),
            ("LINEBELOW", (0, 0), (-1, 0), 1.6, _GREEN),
            ("LEFTPADDING", (1, 0), (1, 0), 8),
            ("RIGHTPADDING", (1, 0), (1, 0), 8),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ],
        grid=False,
    )
    return [block, Spacer(1, 3 * mm), _particulars(ctx)]


def _house_name(ctx: _Ctx, house: Any) -> str:
    code = str(house or "").upper()
    if code == "NA":
        return f"{ctx.t('house_na')} (NA)"
    if code in ("PA", "PP", "PS", "PK", "PB"):
        return f"{ctx.t('house_pa')} ({code})"
    return str(house or "—")


def _particulars(ctx: _Ctx) -> Table:
    d = ctx.data
    election, contest = d.get("election") or {}, d.get("contest") or {}
    code, name = str(contest.get("code") or ""), ctx.loc(contest, "name")
    produced_by = ctx.loc(d, "produced_by") or "—"
    pairs = [
        ("election", ctx.loc(election, "name") or "—"),
        ("poll_date", _date(election.get("poll_date"), ctx.language)),
        ("constituency", f"{code} — {name}" if name else code or "—"),
        ("house", _house_name(ctx, contest.get("house"))),
        ("province", ctx.loc(contest, "province") or "—"),
        ("version", str(d.get("version", "—"))),
        ("produced_at", _datetime(d.get("produced_at"), ctx.language)),
        ("produced_by", produced_by),
    ]
    rows: list[list[Any]] = []
    for i in range(0, len(pairs), 2):
        row: list[Any] = []
        for key, value in pairs[i : i + 2]:
            row += [ctx.text(ctx.t(key), size=7.5, bold=True), ctx.text(value, size=8.5, bold=key == "constituency")]
        rows.append(row)
    lw = 27 * mm
    vw = ctx.width / 2 - lw
    return ctx.table(
        rows,
        [lw, vw, lw, vw],
        [("BACKGROUND", (0, 0), (0, -1), _LABEL_FILL), ("BACKGROUND", (2, 0), (2, -1), _LABEL_FILL)],
    )


def _candidates(ctx: _Ctx) -> list[Any]:
    cands = sorted(ctx.data.get("candidates") or [], key=lambda c: _int(c.get("ballot_order")) or 0)
    postal = ctx.form in ("48", "49")
    returned = _int((ctx.data.get("returned") or {}).get("ballot_order")) if ctx.form == "49" else None
    heads = ["col_ballot", "col_name", "col_party", "col_symbol"]
    heads += ["col_votes", "col_postal", "col_total"] if postal else ["col_votes_47"]
    frac = [0.07, 0.27, 0.25, 0.12, 0.11, 0.08, 0.10] if postal else [0.08, 0.33, 0.29, 0.15, 0.15]
    widths = [f * ctx.width for f in frac]
    rows: list[list[Any]] = [[ctx.head_cell(h) for h in heads]]
    style: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), _HEAD_FILL),
        ("ALIGN", (0, 1), (0, -1), "CENTER"),
    ]
    sums = [0, 0, 0]
    for i, c in enumerate(cands, start=1):
        is_returned = returned is not None and _int(c.get("ballot_order")) == returned
        figures = [c.get("votes")] + ([c.get("postal"), c.get("total")] if postal else [])
        for j, v in enumerate(figures):
            sums[j] += _int(v) or 0
        rows.append(
            [
                str(c.get("ballot_order", "")),
                ctx.text(ctx.loc(c, "name"), size=8, bold=is_returned),
                ctx.text(ctx.loc(c, "party"), size=8),
                ctx.text(ctx.loc(c, "symbol"), size=8),
                *[_num(v) for v in figures],
            ]
        )
        if is_returned:
            style += [
                ("BACKGROUND", (0, i), (-1, i), _RETURNED_FILL),
                ("FONT", (0, i), (-1, i), pdf_text.LATIN_BOLD, 8),
            ]
    n = len(rows)
    rows.append(
        [
            ctx.text(ctx.t("row_total"), size=8, bold=True, align="end"),
            "",
            "",
            "",
            *[f"{s:,}" for s in sums[: len(heads) - 4]],
        ]
    )
    style += [
        ("SPAN", (0, n), (3, n)),
        ("BACKGROUND", (0, n), (-1, n), _TOTAL_FILL),
        ("FONT", (4, n), (-1, n), pdf_text.LATIN_BOLD, 8),
        ("LINEABOVE", (0, n), (-1, n), 1, _INK),
    ]
    if postal:
        style.append(("FONT", (6, 1), (6, -1), pdf_text.LATIN_BOLD, 8))
    return ctx.section("sec_candidates", [ctx.table(rows, widths, style, repeat=1)], keep=len(rows) < 25)


def _totals(ctx: _Ctx) -> list[Any]:
    totals = ctx.data.get("totals") or {}
    keys = ["registered", "polled_male", "polled_female", "polled", "excluded", "valid"]
    if ctx.form in ("48", "49"):
        keys += ["postal_counted", "postal_rejected"]
    pairs = [(k, _num(totals.get(k))) for k in keys]
    pairs.insert(6, ("turnout", _percent(totals.get("turnout_percent"))))
    rows: list[list[Any]] = []
    half = (len(pairs) + 1) // 2
    for left, right in zip(pairs[:half], pairs[half:] + [("", "")], strict=True):
        row: list[Any] = []
        for key, value in (left, right):
            row += [ctx.text(ctx.t(key) if key else "", size=8), value]
        rows.append(row)
    vw = 26 * mm
    lw = ctx.width / 2 - vw
    style = [
        ("BACKGROUND", (0, 0), (0, -1), _LABEL_FILL),
        ("BACKGROUND", (2, 0), (2, -1), _LABEL_FILL),
        ("FONT", (1, 0), (1, -1), pdf_text.LATIN_BOLD, 8.5),
        ("FONT", (3, 0), (3, -1), pdf_text.LATIN_BOLD, 8.5),
    ]
    return ctx.section("sec_totals", [ctx.table(rows, [lw, vw, lw, vw], style)])


def _station_summary(ctx: _Ctx) -> list[Any]:
    stations = sorted(ctx.data.get("stations") or [], key=lambda s: _int(s.get("number")) or 0)
    if not stations:
        return []
    heads = ["col_ps_no", "col_ps_name", "col_registered", "col_polled", "col_excluded", "col_valid", "col_turnout"]
    frac = [0.07, 0.38, 0.11, 0.11, 0.11, 0.11, 0.11]
    rows: list[list[Any]] = [[ctx.head_cell(h, size=7) for h in heads]]
    sums = [0, 0, 0, 0]
    for s in stations:
        valid = sum(_int(v) or 0 for v in (s.get("votes") or {}).values())
        figures = [s.get("registered"), s.get("polled"), s.get("excluded"), valid]
        for j, v in enumerate(figures):
            sums[j] += _int(v) or 0
        rows.append(
            [
                str(s.get("number", "")),
                ctx.text(ctx.loc(s, "name"), size=7.5),
                *[_num(v) for v in figures],
                _ratio(s.get("polled"), s.get("registered")),
            ]
        )
    n = len(rows)
    rows.append(
        [
            ctx.text(ctx.t("row_total"), size=7.5, bold=True, align="end"),
            "",
            *[f"{v:,}" for v in sums],
            _ratio(sums[1], sums[0]),
        ]
    )
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), _HEAD_FILL),
        ("FONT", (0, 1), (-1, -1), pdf_text.LATIN, 7.5),
        ("ALIGN", (0, 1), (0, -1), "CENTER"),
        ("SPAN", (0, n), (1, n)),
        ("BACKGROUND", (0, n), (-1, n), _TOTAL_FILL),
        ("FONT", (2, n), (-1, n), pdf_text.LATIN_BOLD, 7.5),
        ("LINEABOVE", (0, n), (-1, n), 1, _INK),
    ]
    table = ctx.table(rows, [f * ctx.width for f in frac], style, repeat=1)
    return ctx.section("sec_stations_47", [table], keep=False)


def _awaited(ctx: _Ctx) -> list[Any]:
    awaited = sorted(ctx.data.get("awaited") or [], key=lambda s: _int(s.get("number")) or 0)
    received = len(ctx.data.get("stations") or [])
    if not awaited:
        note = ctx.text(ctx.t("all_reported"), size=9, bold=True, color=_GREEN)
        return ctx.section("sec_awaited", [note])
    count = ctx.text(
        ctx.t("awaited_count", received=received, expected=received + len(awaited), awaited=len(awaited)),
        size=8.5,
        bold=True,
    )
    # Two stations a row: No. | name | No. | name
    rows: list[list[Any]] = [[ctx.head_cell("col_ps_no", size=7), ctx.head_cell("col_ps_name", size=7)] * 2]
    half = (len(awaited) + 1) // 2
    left, right = awaited[:half], awaited[half:]
    for i in range(half):
        row: list[Any] = []
        for s in (left[i], right[i] if i < len(right) else None):
            row += [str(s.get("number", "")), ctx.text(ctx.loc(s, "name"), size=7.5)] if s else ["", ""]
        rows.append(row)
    nw = 0.08 * ctx.width
    table = ctx.table(
        rows,
        [nw, ctx.width / 2 - nw, nw, ctx.width / 2 - nw],
        [
            ("BACKGROUND", (0, 0), (-1, 0), _HEAD_FILL),
            ("ALIGN", (0, 1), (0, -1), "CENTER"),
            ("ALIGN", (2, 1), (2, -1), "CENTER"),
            ("FONT", (0, 1), (-1, -1), pdf_text.LATIN_BOLD, 8),
            ("LINEAFTER", (1, 0), (1, -1), 1, _INK),
        ],
        repeat=1,
    )
    return ctx.section("sec_awaited", [count, Spacer(1, 1.5 * mm), table], keep=len(rows) < 20)


def _bands(count: int, room: float) -> list[tuple[int, int]]:
    """Split ``count`` candidate columns into equal bands that fit in ``room`` points."""
    if count == 0:
        return [(0, 0)]
    per_band_max = max(1, int(room // _MIN_CAND_COL))
    parts = -(-count // per_band_max)
    per_band = -(-count // parts)
    return [(start, min(start + per_band, count)) for start in range(0, count, per_band)]


def _stationwise(ctx: _Ctx) -> list[Any]:
    stations = sorted(ctx.data.get("stations") or [], key=lambda s: _int(s.get("number")) or 0)
    cands = sorted(ctx.data.get("candidates") or [], key=lambda c: _int(c.get("ballot_order")) or 0)
    fixed = list(_STATION_FIXED)
    room = ctx.width - sum(fixed)
    bands = _bands(len(cands), room)
    station_valid = [sum(_int(v) or 0 for v in (s.get("votes") or {}).values()) for s in stations]
    fixed_sums = [sum(_int(s.get(k)) or 0 for s in stations) for k in ("registered", "polled", "excluded")] + [
        sum(station_valid)
    ]
    totals = ctx.data.get("totals") or {}
    out: list[Any] = []
    for part, (first, last) in enumerate(bands, start=1):
        band = cands[first:last]
        col = min(room / max(1, len(band)), _MAX_CAND_COL)
        widths = fixed[:]
        widths[1] += room - col * len(band)  # what the candidates don't need goes to the station name
        heads: list[Any] = [
            ctx.head_cell(h, size=6.5)
            for h in ("col_ps_no", "col_ps_name", "col_registered", "col_polled", "col_excluded", "col_valid")
        ]
        for c in band:
            heads.append(
                [
                    ctx.text(str(c.get("ballot_order", "")), size=7.5, bold=True, align="center"),
                    ctx.text(ctx.loc(c, "name"), size=6.2, align="center"),
                ]
            )
        rows: list[list[Any]] = [heads]
        for s, valid in zip(stations, station_valid, strict=True):
            votes = s.get("votes") or {}
            rows.append(
                [
                    str(s.get("number", "")),
                    ctx.text(ctx.loc(s, "name"), size=6.8),
                    _num(s.get("registered")),
                    _num(s.get("polled")),
                    _num(s.get("excluded")),
                    f"{valid:,}",
                    *[_num(votes.get(str(c.get("ballot_order")))) for c in band],
                ]
            )
        n = len(rows)
        band_station_sums = [
            sum(_int((s.get("votes") or {}).get(str(c.get("ballot_order")))) or 0 for s in stations) for c in band
        ]
        postal_counted = totals.get("postal_counted")
        postal_int = _int(postal_counted)
        grand_valid = f"{fixed_sums[3] + postal_int:,}" if postal_int is not None else ""
        rows += [
            [ctx.text(ctx.t("row_stations_total"), size=7, bold=True, align="end"), "", *[f"{v:,}" for v in fixed_sums]]
            + [f"{v:,}" for v in band_station_sums],
            [ctx.text(ctx.t("row_postal"), size=7, bold=True, align="end"), "", "", "", "", _num(postal_counted)]
            + [_num(c.get("postal")) for c in band],
            [ctx.text(ctx.t("row_grand_total"), size=7, bold=True, align="end"), "", "", "", "", grand_valid]
            + [_num(c.get("total")) for c in band],
        ]
        style: list[tuple[Any, ...]] = [
            ("BACKGROUND", (0, 0), (-1, 0), _HEAD_FILL),
            ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
            ("FONT", (0, 1), (-1, -1), pdf_text.LATIN, 7),
            ("ALIGN", (0, 1), (0, -1), "CENTER"),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
            ("TOPPADDING", (0, 1), (-1, -1), 1.2),
            ("BOTTOMPADDING", (0, 1), (-1, -1), 1.2),
            ("LINEAFTER", (5, 0), (5, -1), 1, _INK),
            ("BACKGROUND", (0, n), (-1, -1), _TOTAL_FILL),
            ("LINEABOVE", (0, n), (-1, n), 1, _INK),
            ("FONT", (2, n), (-1, -1), pdf_text.LATIN_BOLD, 7),
            ("SPAN", (0, n), (1, n)),
            ("SPAN", (0, n + 1), (1, n + 1)),
            ("SPAN", (0, n + 2), (1, n + 2)),
            ("SPAN", (2, n + 2), (4, n + 2)),
            ("SPAN", (2, n + 1), (4, n + 1)),
            ("LINEABOVE", (0, n + 2), (-1, n + 2), 0.9, _INK),
        ]
        for i in range(2, n, 2):
            style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f7f7f7")))
        table = ctx.table(rows, widths + [col] * len(band), style, repeat=1)
        title = ctx.t("sec_stationwise")
        if len(bands) > 1:
            title += " — " + ctx.t(
                "band",
                first=band[0].get("ballot_order", first + 1),
                last=band[-1].get("ballot_order", last),
                count=len(cands),
                part=part,
                parts=len(bands),
            )
        out += ctx.section(title, [table], raw=True, keep=False)
    return out


def _flags(ctx: _Ctx, tail: list[Any]) -> list[Any]:
    """The flags box; ``tail`` (the signature) is kept on the same page as a short box."""
    flags = ctx.data.get("flags") or []
    if not flags:
        return [KeepTogether(tail)]
    rows: list[list[Any]] = [[ctx.head_cell(h, size=7) for h in ("col_severity", "col_rule", "col_message")]]
    for f in flags:
        severity = str(f.get("severity") or "info").lower()
        sev_key = f"sev_{severity}" if f"sev_{severity}" in LABELS else None
        rows.append(
            [
                ctx.text(ctx.t(sev_key) if sev_key else severity, size=7.5, bold=True),
                ctx.text(f.get("rule", ""), size=7, mono=True, align="left"),
                ctx.text(ctx.loc(f, "message"), size=7.5),
            ]
        )
    table = ctx.table(
        rows,
        [0.12 * ctx.width, 0.26 * ctx.width, 0.62 * ctx.width],
        [("BACKGROUND", (0, 0), (-1, 0), _HEAD_FILL), ("BACKGROUND", (0, 1), (-1, -1), _FLAG_FILL)],
        repeat=1,
    )
    note = ctx.text(ctx.t("flags_note"), size=7, color=_RULE)
    if len(rows) < 15:
        return ctx.section("sec_flags", [table, Spacer(1, 1 * mm), note, *tail])
    return [*ctx.section("sec_flags", [table, Spacer(1, 1 * mm), note], keep=False), KeepTogether(tail)]


def _returned(ctx: _Ctx) -> list[Any]:
    returned = ctx.data.get("returned")
    if not returned:
        body = ctx.text(ctx.t("tie"), size=10, bold=True, color=colors.HexColor("#8a1c1c"))
        box = ctx.table([[body]], [ctx.width], [("BOX", (0, 0), (-1, -1), 1.4, colors.HexColor("#8a1c1c"))], grid=False)
        return ctx.section("sec_returned", [box])
    order = _int(returned.get("ballot_order"))
    cand: Mapping[str, Any] = next(
        (c for c in ctx.data.get("candidates") or [] if _int(c.get("ballot_order")) == order), {}
    )
    name = ctx.loc(returned, "name") if returned.get("name_ur") or not cand else ctx.loc(cand, "name")
    party = ctx.loc(returned, "party") if returned.get("party_ur") or not cand else ctx.loc(cand, "party")
    name, party = name or ctx.loc(returned, "name"), party or ctx.loc(returned, "party")
    total = cand.get("total", cand.get("votes"))
    pairs = [
        ("col_name", ctx.text(name, size=10.5, bold=True)),
        ("col_party", ctx.text(party, size=9)),
        ("col_ballot", str(order if order is not None else "—")),
        ("col_total", _num(total)),
    ]
    lw = 30 * mm
    vw = ctx.width / 2 - lw
    rows = [
        [
            ctx.text(ctx.t(pairs[i][0]), size=7.5, bold=True),
            pairs[i][1],
            ctx.text(ctx.t(pairs[j][0]), size=7.5, bold=True),
            pairs[j][1],
        ]
        for i, j in ((0, 2), (1, 3))
    ]
    table = ctx.table(
        rows,
        [lw, vw, lw, vw],
        [
            ("BOX", (0, 0), (-1, -1), 1.6, _GREEN),
            ("BACKGROUND", (0, 0), (-1, -1), _RETURNED_FILL),
            ("FONT", (3, 0), (3, -1), pdf_text.LATIN_BOLD, 10.5),
            ("ALIGN", (3, 0), (3, -1), "CENTER"),
        ],
    )
    return ctx.section("sec_returned", [table])


def _signature(ctx: _Ctx) -> list[Any]:
    signer = ctx.loc(ctx.data, "signed_by") if ctx.form == "49" else ""
    signer = signer or ctx.loc(ctx.data, "produced_by")
    block: list[Any] = [
        HRFlowable(width="75%", thickness=0.6, color=_INK, spaceBefore=11 * mm, spaceAfter=1),
        ctx.text(ctx.t("signature"), size=7.5, align="center", color=_RULE),
    ]
    if signer:
        line = f"{ctx.t('signed_by')}: {signer}" if ctx.form == "49" else signer
        block.append(ctx.text(line, size=8.5, bold=True, align="center"))
    side = 0.45 * ctx.width
    table = ctx.table([["", block]], [ctx.width - side, side], [("ALIGN", (1, 0), (1, 0), "CENTER")], grid=False)
    return [Spacer(1, 2 * mm), table]


# ---------------------------------------------------------------------------
# Page furniture (running head, footer with page x of y and the content hash)
# ---------------------------------------------------------------------------
def _furniture(ctx: _Ctx) -> Callable[[Any, int, int], None]:
    contest = ctx.data.get("contest") or {}
    code = str(contest.get("code") or "")
    name = ctx.loc(contest, "name")
    digest = str(ctx.data.get("content_hash") or "")
    form_ref = ctx.t("form_ref", form=ctx.form)
    ident = f"{ctx.t('ecp')} — {form_ref} — {code}" + (f" {name}" if name else "")
    ident += " — " + ctx.t("version_short", version=ctx.data.get("version", "—"))
    rtl = ctx.rtl
    left, right = ctx.margin_x, ctx.page_width - ctx.margin_x
    start_x, end_x = (right, left) if rtl else (left, right)
    start_al, end_al = ("right", "left") if rtl else ("left", "right")

    def draw(canv: Any, page: int, pages: int) -> None:
        canv.saveState()
        canv.setFillColor(_INK)
        canv.setStrokeColor(_GREEN)
        # footer
        y_rule = ctx.margin_bottom - 4 * mm
        canv.setLineWidth(0.8)
        canv.line(left, y_rule, right, y_rule)
        y1 = y_rule - 3.6 * mm
        pdf_text.draw_line(canv, pdf_text.shape(ident), start_x, y1, size=6.8, rtl=rtl, align=start_al)
        pdf_text.draw_line(
            canv,
            pdf_text.shape(ctx.t("page", page=page, pages=pages)),
            end_x,
            y1,
            size=7.5,
            bold=True,
            rtl=rtl,
            align=end_al,
        )
        y2 = y1 - 3.6 * mm
        hash_label = pdf_text.shape(ctx.t("hash"))
        lw = pdf_text.width(hash_label, 6.8, False, False)
        hw = pdfmetrics.stringWidth(digest, pdf_text.MONO, 6.8)
        gap = 1.5 * mm
        x0 = (ctx.page_width - (lw + gap + hw)) / 2
        if rtl:  # label on the right of the digest
            canv.setFont(pdf_text.MONO, 6.8)
            canv.drawString(x0, y2, digest)
            pdf_text.draw_line(canv, hash_label, x0 + hw + gap, y2, size=6.8, rtl=True)
        else:
            pdf_text.draw_line(canv, hash_label, x0, y2, size=6.8)
            canv.setFont(pdf_text.MONO, 6.8)
            canv.drawString(x0 + lw + gap, y2, digest)
        # running head from page 2 on
        if page > 1:
            y_top = ctx.page_height - ctx.margin_top + 3 * mm
            pdf_text.draw_line(canv, pdf_text.shape(ident), start_x, y_top, size=7, rtl=rtl, align=start_al)
            title = ctx.t(f"title_{ctx.form}")
            pdf_text.draw_line(canv, pdf_text.shape(title), end_x, y_top, size=7, bold=True, rtl=rtl, align=end_al)
            canv.setLineWidth(0.5)
            canv.line(left, y_top - 2 * mm, right, y_top - 2 * mm)
        canv.restoreState()

    return draw


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """Defers each page's furniture to save(), when the page count is known."""

    def __init__(self, *args: Any, furniture: Callable[[Any, int, int], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._furniture = furniture
        self._saved_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved_pages)
        for number, state in enumerate(self._saved_pages, start=1):
            self.__dict__.update(state)
            self._furniture(self, number, total)
            super().showPage()
        super().save()


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------
def render_form(data: Mapping[str, Any], *, language: Literal["en", "ur"]) -> bytes:
    """Render Form 47, 48 or 49 from plain data; returns the PDF bytes (identical for identical input).

    ``data`` keys: ``form`` ("47"/"48"/"49"), ``version``, ``election`` {name, name_ur, poll_date},
    ``contest`` {code, name, name_ur, house, province, province_ur}, ``produced_at`` (ISO 8601),
    ``produced_by`` (+ optional ``produced_by_ur``), ``content_hash`` (64 hex), ``candidates`` (ballot
    order, name/_ur, party/_ur, symbol/_ur, votes, postal, total), ``stations`` (number, name/_ur,
    registered, polled, excluded, votes {ballot order as str: votes}), ``awaited`` (number, name/_ur),
    ``totals`` (registered, polled_male, polled_female, polled, excluded, valid, turnout_percent,
    postal_counted, postal_rejected), ``flags`` (rule, severity, message + optional ``message_ur``),
    ``returned`` (49; absent on a tie), ``signed_by`` (49, + optional ``signed_by_ur``).
    """
    if language not in ("en", "ur"):
        raise ValueError(f"language must be 'en' or 'ur', not {language!r}")
    form = str(data.get("form", ""))
    if form not in FORMS:
        raise ValueError(f"form must be one of {', '.join(FORMS)}, not {form!r}")
    pdf_text.register_fonts()
    pagesize = landscape(A4) if form == "48" else A4
    ctx = _Ctx(data=data, language=language, form=form, page_width=pagesize[0], page_height=pagesize[1])

    story: list[Any] = [*_title_block(ctx), *_candidates(ctx), *_totals(ctx)]
    if form == "47":
        story += [*_awaited(ctx), *_station_summary(ctx)]
    elif form == "48":
        story += _stationwise(ctx)
    else:
        story += _returned(ctx)
    story += _flags(ctx, _signature(ctx))

    contest = data.get("contest") or {}
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=ctx.margin_x,
        rightMargin=ctx.margin_x,
        topMargin=ctx.margin_top,
        bottomMargin=ctx.margin_bottom,
        invariant=1,
        title=f"Form-{form} {contest.get('code', '')} version {data.get('version', '')}".strip(),
        author="Election Commission of Pakistan",
        subject=label(f"title_{form}", "en"),
        creator="ECP Portal — Result Management System",
        keywords=f"sha256:{data.get('content_hash', '')}",
        lang="ur-PK" if language == "ur" else "en-PK",
    )
    frame = Frame(
        doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0, rightPadding=0, topPadding=0
    )
    doc.addPageTemplates([PageTemplate(id="form", frames=[frame])])
    furniture = _furniture(ctx)
    doc.build(story, canvasmaker=functools.partial(_NumberedCanvas, furniture=furniture))
    return buffer.getvalue()
