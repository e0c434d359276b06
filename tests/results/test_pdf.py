"""Forms 47, 48 and 49 as PDF (results/pdf.py): plain data in, deterministic bytes out.

No database: the renderer takes a dict. Text is checked with poppler's
``pdftotext -layout`` and the QR code is read back with zxing-cpp from a
150 dpi rendering of page 1 made by ``pdftoppm``.
"""

from __future__ import annotations

import random
import re
import subprocess
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from core import pdf_text as bidi_text
from results import pdf

HASH = "9f2c4e1b7a6d8c3e5f0a1b2c3d4e5f60718293a4b5c6d7e8f9012345abcdef01"

CANDIDATES = [
    # (name, name_ur, party, party_ur, symbol, symbol_ur)
    ("Ahmed Raza Qureshi", "احمد رضا قریشی", "Qaumi Taraqqi Party", "قومی ترقی پارٹی", "Tiger", "شیر"),
    (
        "Saba Nadeem",
        "صبا ندیم",
        "Jamhoori Ittehad Parliamentarians",
        "جمہوری اتحاد پارلیمنٹیرینز",
        "Arrow",
        "تیر",
    ),
    ("Imran Haider", "عمران حیدر", "Independent", "آزاد", "Chair", "کرسی"),
    (
        "Khalid Mehmood Abbasi",
        "خالد محمود عباسی",
        "Khidmat-e-Khalq Party Pakistan",
        "خدمت خلق پارٹی پاکستان",
        "Scales",
        "ترازو",
    ),
    ("Farhat Bibi", "فرحت بی بی", "Shehri Haqooq Tehreek Pakistan", "شہری حقوق تحریک پاکستان", "Kite", "پتنگ"),
    # no Urdu name: the Urdu form falls back to the English one
    ("Zubair Ali Shah", "", "Independent", "آزاد", "Lantern", "لالٹین"),
]


def make_data(
    form: str, *, candidates: int = 6, stations: int = 20, awaited: int = 3, seed: int = 46
) -> dict[str, Any]:
    rng = random.Random(seed)
    cands = []
    for i in range(candidates):
        base = CANDIDATES[i % len(CANDIDATES)]
        suffix = f" {i // len(CANDIDATES) + 1}" if i >= len(CANDIDATES) else ""
        name_ur = base[1] + suffix if base[1] else ""
        cands.append(
            {
                "ballot_order": i + 1,
                "name": base[0] + suffix,
                "name_ur": name_ur,
                "party": base[2],
                "party_ur": base[3],
                "symbol": base[4],
                "symbol_ur": base[5],
            }
        )
    weights = [rng.uniform(0.2, 1.0) ** 2 for _ in cands]
    rows = []
    for n in range(1, stations + 1):
        registered = rng.randint(1200, 1800)
        polled = int(registered * rng.uniform(0.45, 0.7))
        excluded = rng.randint(5, 25)
        valid = polled - excluded
        shares = [w * rng.uniform(0.7, 1.3) for w in weights]
        votes = [int(valid * s / sum(shares)) for s in shares]
        votes[0] += valid - sum(votes)
        rows.append(
            {
                "number": n,
                "name": f"Government Boys Primary School Sector G-{n}",
                "name_ur": f"گورنمنٹ بوائز پرائمری اسکول سیکٹر G-{n}",
                "registered": registered,
                "polled": polled,
                "excluded": excluded,
                "votes": {str(c["ballot_order"]): v for c, v in zip(cands, votes, strict=True)},
            }
        )
    for c in cands:
        c["votes"] = sum(r["votes"][str(c["ballot_order"])] for r in rows)
    registered = sum(r["registered"] for r in rows)
    polled = sum(r["polled"] for r in rows)
    excluded = sum(r["excluded"] for r in rows)
    female = int(polled * 0.43)
    totals: dict[str, Any] = {
        "registered": registered,
        "polled_male": polled - female,
        "polled_female": female,
        "polled": polled,
        "excluded": excluded,
        "valid": polled - excluded,
        "turnout_percent": f"{polled * 100 / registered:.2f}",
    }
    if form in ("48", "49"):
        for c in cands:
            c["postal"] = rng.randint(10, 140)
            c["total"] = c["votes"] + c["postal"]
        totals["postal_counted"] = sum(c["postal"] for c in cands)
        totals["postal_rejected"] = 17
    data: dict[str, Any] = {
        "form": form,
        "version": 2,
        "election": {
            "code": "GE-2026",
            "name": "General Election 2026",
            "name_ur": "عام انتخابات 2026",
            "poll_date": "2026-02-08",
        },
        "contest": {
            "code": "NA-46",
            "name": "Islamabad-I",
            "name_ur": "اسلام آباد-۱",
            "house": "NA",
            "province": "Islamabad Capital Territory",
            "province_ur": "وفاقی دارالحکومت اسلام آباد",
        },
        "produced_at": "2026-02-09T01:40:00+05:00",
        "produced_by": "Saima Demo (Returning Officer)",
        "content_hash": HASH,
        "candidates": cands,
        "totals": totals,
        "flags": [
            {
                "rule": "contest.recount_eligible",
                "severity": "warning",
                "message": "Margin 1,200 is below the recount threshold 7,000.",
            },
            {
                "rule": "contest.excluded_exceed_margin",
                "severity": "warning",
                "message": "Votes excluded from the count (310) are at least the margin of victory (290).",
            },
        ],
    }
    if form in ("47", "48"):
        data["stations"] = rows
    if form == "47":
        data["awaited"] = [
            {
                "number": stations + k,
                "name": f"Government Girls High School No. {k}",
                "name_ur": f"گورنمنٹ گرلز ہائی اسکول نمبر {k}",
            }
            for k in range(1, awaited + 1)
        ]
    if form == "49":
        winner = max(cands, key=lambda c: c["total"])
        data["returned"] = {k: winner[k] for k in ("ballot_order", "name", "name_ur", "party")}
        data["signed_by"] = "Saima Demo (Returning Officer)"
    return data


def pdf_text(data: bytes, *, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", "-layout", *pages, "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def logical(text: str) -> str:
    """pdftotext of reshaped Urdu: presentation forms -> letters, bidi marks gone, spaces collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).translate(_CONTROLS))


def squash(text: str) -> str:
    """logical() without any whitespace: poppler moves spaces around where Urdu meets figures."""
    return re.sub(r"\s+", "", logical(text))


def letters(text: str) -> str:
    """Only letters and digits: poppler also moves punctuation drawn between Urdu words."""
    return "".join(ch for ch in logical(text) if ch.isalnum())


def qr_texts(data: bytes, tmp_path: Path) -> list[str]:
    (tmp_path / "doc.pdf").write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile", "doc.pdf", "page1"],
        cwd=tmp_path,
        check=True,
    )
    with Image.open(tmp_path / "page1.png") as image:
        return [r.text for r in zxingcpp.read_barcodes(image)]


FORMS_AND_LANGUAGES = [(f, lang) for f in pdf.FORMS for lang in ("en", "ur")]


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, str], bytes]:
    return {(f, lang): pdf.render_form(make_data(f), language=lang) for f, lang in FORMS_AND_LANGUAGES}  # type: ignore[arg-type]


@pytest.mark.parametrize(("form", "language"), FORMS_AND_LANGUAGES)
def test_renders_a_deterministic_pdf(rendered, form, language):
    data = rendered[form, language]
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    again = pdf.render_form(make_data(form), language=language)
    assert again == data, "two renders of the same data must be byte-identical (the PDF's SHA-256 is audited)"


@pytest.mark.parametrize(("form", "language"), FORMS_AND_LANGUAGES)
def test_text_holds_figures_codes_and_hash(rendered, form, language):
    data = make_data(form)
    text = pdf_text(rendered[form, language])
    flat = logical(text)
    for c in data["candidates"]:
        assert f"{c['votes']:,}" in text, (c["ballot_order"], c["votes"])
        if form != "47":
            assert f"{c['total']:,}" in text
            assert str(c["postal"]) in text
    totals = data["totals"]
    for key in ("registered", "polled_male", "polled_female", "polled", "excluded", "valid"):
        assert f"{totals[key]:,}" in text, key
    assert f"{totals['turnout_percent']}%" in text
    if form != "47":
        assert f"{totals['postal_counted']:,}" in text
    assert "NA-46" in text
    # the hash is printed whole, in one piece, on every page
    pages = text.split("\f")
    pages = [p for p in pages if p.strip()]
    assert pages and all(HASH in p for p in pages)
    for i, page in enumerate(pages, start=1):
        assert squash(pdf.label("page", language, page=i, pages=len(pages))) in squash(page)
    # the constituency and date come out whole
    assert "8" in flat and "2026" in flat
    if form == "47":
        for s in data["awaited"]:
            assert re.search(rf"(?<![\d,]){s['number']}(?![\d,])", text), s["number"]
    if form == "49":
        winner = data["returned"]
        assert (winner["name_ur"] if language == "ur" else winner["name"]) in flat


@pytest.mark.parametrize("form", pdf.FORMS)
def test_urdu_form_has_urdu_labels_and_names_in_logical_order(rendered, form):
    flat = logical(pdf_text(rendered[form, "ur"]))
    for key in ("ecp", f"title_{form}", "col_name", "registered", "sec_totals"):
        assert pdf.label(key, "ur") in flat, key
    assert "اسلام آباد" in flat
    assert "احمد رضا قریشی" in flat and "قومی ترقی پارٹی" in flat
    assert "Zubair Ali Shah" in flat, "an empty name_ur falls back to the English name"
    assert pdf.label("title_47", "en") not in flat


@pytest.mark.parametrize("form", pdf.FORMS)
def test_english_form_has_english_labels(rendered, form):
    flat = logical(pdf_text(rendered[form, "en"]))
    for key in ("ecp", f"title_{form}", "col_name", "registered", "sec_totals"):
        assert pdf.label(key, "en") in flat, key
    assert "Ahmed Raza Qureshi" in flat and "Islamabad-I" in flat
    assert not re.search("[\u0600-\u06ff]", flat)


def test_form47_lists_awaited_stations_or_says_all_reported():
    data = make_data("47", awaited=0)
    for language in ("en", "ur"):
        text = pdf_text(pdf.render_form(data, language=language))  # type: ignore[arg-type]
        assert letters(pdf.label("all_reported", language)) in letters(text)  # type: ignore[arg-type]
    text = pdf_text(pdf.render_form(make_data("47"), language="en"))
    assert "Form-45 received from 20 of 23 polling stations; 3 still awaited." in logical(text)
    for name in ("Government Girls High School No. 1", "Government Girls High School No. 3"):
        assert name in text


def test_form49_tie_prints_no_returned_candidate():
    data = make_data("49")
    del data["returned"]
    en = logical(pdf_text(pdf.render_form(data, language="en")))
    assert "No candidate returned: tie recorded for the Commission" in en
    ur = pdf_text(pdf.render_form(data, language="ur"))
    assert letters(pdf.label("tie", "ur")) in letters(ur)
    assert letters(data["candidates"][0]["name_ur"]) in letters(ur)


@pytest.mark.parametrize(("form", "language"), FORMS_AND_LANGUAGES)
def test_qr_code_on_page_one_decodes_to_the_content_hash(rendered, form, language, tmp_path):
    texts = qr_texts(rendered[form, language], tmp_path)
    assert len(texts) == 1, texts
    assert HASH in texts[0]
    assert texts[0] == pdf.verification_payload(make_data(form))
    assert f"FORM-{form}" in texts[0] and "NA-46" in texts[0]


def test_urdu_figures_and_codes_are_not_scrambled():
    """Numbers, codes and dates inside Urdu sentences keep their Western, left-to-right order."""
    data = make_data("47")
    text = pdf_text(pdf.render_form(data, language="ur"))
    flat = logical(text)
    assert "NA-46" in flat and "64-AN" not in flat
    assert "01:40" in flat and "UTC+05:00" in flat
    assert "2026" in flat and "6202" not in flat
    # the awaited count sentence: 20 of 23, 3 awaited
    assert squash("23 میں سے 20 پولنگ اسٹیشنوں کا فارم 45 موصول") in squash(text)
    for c in data["candidates"]:
        assert f"{c['votes']:,}" in text and f"{c['votes']:,}"[::-1] not in text


def test_bidi_helper_mirrors_brackets_and_keeps_figures():
    visual = bidi_text.visual(bidi_text.shape("حلقہ (NA-46) میں 12,345 ووٹ، ٹرن آؤٹ 56.00%"), True)
    # drawn left to right: figures read left to right, brackets face the enclosed text
    assert "12,345" in visual and "56.00%" in visual and "(NA-46)" in visual
    assert visual.index("56.00%") < visual.index("12,345") < visual.index("(NA-46)")
    assert bidi_text.visual("Saima Demo (Returning Officer)", False) == "Saima Demo (Returning Officer)"


def test_every_urdu_label_has_glyphs_in_the_vendored_font():
    from reportlab.pdfbase import pdfmetrics

    bidi_text.register_fonts()
    covered = pdfmetrics.getFont("ECPNaskh").face.charToGlyph
    for key, (_, ur) in pdf.LABELS.items():
        for ch in bidi_text.shape(ur):
            if bidi_text.is_arabic(ch):
                assert ord(ch) in covered, (key, ch, hex(ord(ch)))


def test_wide_form48_with_30_candidates_and_300_stations():
    data = make_data("48", candidates=30, stations=300, seed=7)
    out = pdf.render_form(data, language="en")
    assert out.startswith(b"%PDF")
    text = pdf_text(out)
    # a station row: its number first, then (the name wraps onto its own lines) registered, polled, ...
    rows = Counter(int(m) for m in re.findall(r"^\s{0,4}(\d+)\s{3,}\d[\d,]*\s", text, re.M))
    assert rows == Counter(dict.fromkeys(range(1, 301), 3)), "every station once in each of the 3 column bands"
    for n in range(1, 301):
        assert re.search(rf"Sector G-{n}\b", text), n
    for c in data["candidates"]:
        assert f"{c['total']:,}" in text
    assert "Candidates 21–30 of 30 (part 3 of 3)" in text
    ur = pdf_text(pdf.render_form(data, language="ur"))
    for n in range(1, 301):
        assert re.search(rf"G-{n}\b", ur), n


def test_rejects_unknown_form_or_language():
    with pytest.raises(ValueError, match="form"):
        pdf.render_form({**make_data("47"), "form": "45"}, language="en")
    with pytest.raises(ValueError, match="language"):
        pdf.render_form(make_data("47"), language="fr")  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["en", "ur"])
@pytest.mark.parametrize("form", pdf.FORMS)
def test_sparse_data_still_renders(form, language):
    """Missing optional keys, empty Urdu names and unusual values never stop a form from printing."""
    assert pdf.render_form({"form": form, "content_hash": HASH}, language=language).startswith(b"%PDF")
    data = make_data(form, candidates=2, stations=1, awaited=0)
    data["candidates"][0]["name_ur"] = "مُحمّد\u200cعلی (جونیئر) اللہ دتہ"
    data["contest"]["name_ur"] = ""
    data["produced_by"] = ""
    data["totals"]["turnout_percent"] = 56.456
    data["flags"].append({"rule": "x", "severity": "error", "message": "e", "message_ur": "سنگین غلطی: فارم 45"})
    text = pdf_text(pdf.render_form(data, language=language))
    assert "56.46%" in text
    assert "Islamabad-I" in logical(text), "an empty Urdu name falls back to the English one"
