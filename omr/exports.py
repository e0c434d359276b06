"""OMR documents made from the database: the published merit list as a PDF (reportlab; Urdu names through
core/pdf_text)."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone

from core import pdf_text

from . import selectors
from .models import Exam, MeritList


def _pdf_cell(text: str) -> tuple[str, bool]:
    """Text ready for reportlab (Urdu shaped and in display order) and whether it needs the Naskh face."""
    if pdf_text.ARABIC_RE.search(text or ""):
        return pdf_text.visual(pdf_text.shape(text), True), True
    return pdf_text.shape(text or ""), False


def merit_pdf(exam: Exam, merit: MeritList) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdf_text.register_fonts()
    names = [s.name for s in exam.sections.all()]
    page = landscape(A4) if len(names) > 3 else A4
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=page, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
        title=f"{exam.title}: merit list v{merit.version}", author="Election Commission of Pakistan", invariant=1,
    )  # fmt: skip
    heading = ParagraphStyle("h", fontName=pdf_text.LATIN_BOLD, fontSize=14, leading=18)
    small = ParagraphStyle("s", fontName=pdf_text.LATIN, fontSize=9, leading=12)
    urdu = ParagraphStyle("u", fontName=pdf_text.NASKH_BOLD, fontSize=14, leading=24, alignment=2)
    story = [Paragraph(escape(f"{exam.title} — Merit list (version {merit.version})"), heading)]
    if exam.title_ur:
        story.append(Paragraph(escape(_pdf_cell(exam.title_ur)[0]), urdu))
    published = timezone.localtime(merit.published_at).strftime("%Y-%m-%d %H:%M")
    policy = merit.policy.get("tie_breaks") or ["-"]
    story.append(
        Paragraph(
            escape(f"Exam {exam.code}, held on {exam.held_on:%Y-%m-%d}. Published {published}. "
                    f"Tie-breakers: {', '.join(policy)}."),
            small,
        )
    )  # fmt: skip
    story.append(Spacer(1, 4 * mm))
    header = ["Rank", "Roll number", "Name", "Total", *names, "Selected in"]
    head = ParagraphStyle("th", fontName=pdf_text.LATIN_BOLD, fontSize=8.5, leading=10)
    head_right = ParagraphStyle("thr", parent=head, alignment=2)
    numeric = {0, 3, *range(4, 4 + len(names))}
    rows: list[list] = [
        [Paragraph(escape(pdf_text.shape(h)), head_right if i in numeric else head) for i, h in enumerate(header)]
    ]
    naskh: list[tuple[int, int]] = []
    for entry in selectors.merit_entries(merit).iterator(chunk_size=2_000):
        result = entry.result
        cells = [str(entry.rank), result.candidate.roll, result.candidate.name, str(result.total)]
        cells += [str(result.sections.get(n, "")) for n in names]
        cells.append(entry.selected_in)
        row = []
        for col, text in enumerate(cells):
            shown, is_urdu = _pdf_cell(text)
            if is_urdu:
                naskh.append((col, len(rows)))
            row.append(shown)
        rows.append(row)
    width = page[0] - 30 * mm
    fixed = [14 * mm, 26 * mm, None, 18 * mm, *[22 * mm] * len(names), 24 * mm]
    rest = width - sum(w for w in fixed if w)
    widths = [w if w else max(rest, 40 * mm) for w in fixed]
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, 0), pdf_text.LATIN_BOLD),
        ("FONTNAME", (0, 1), (-1, -1), pdf_text.LATIN),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6f2ea")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#01411c")),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#d3ded7")),
        ("ALIGN", (0, 0), (0, -1), "RIGHT"),
        ("ALIGN", (3, 0), (3 + len(names), -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    style += [("FONTNAME", cell, cell, pdf_text.NASKH) for cell in naskh]
    table.setStyle(TableStyle(style))
    story.append(table)
    doc.build(story)
    return buf.getvalue()
