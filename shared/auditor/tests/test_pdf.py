"""The hand-written PDF: a valid file structure (every cross-reference pointing at its
object), the text as written, and as many pages as the lines need."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from benecomune_auditor.pdf import (
    rendicontazione_lines,
    rendicontazione_pdf,
    report_lines,
    text_pdf,
)

WHEN = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)


def structure(pdf: bytes) -> dict[int, bytes]:
    """The objects by number, checked against the cross-reference table and the trailer."""
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[startxref:].startswith(b"xref\n0 ")
    table = pdf[startxref:].split(b"trailer")[0].splitlines()
    count = int(table[1].split()[1])
    entries = table[3 : 2 + count]
    assert all(len(e) == 19 for e in entries)  # 20 bytes with the newline, as the format says
    objects = {}
    for number, entry in enumerate(entries, 1):
        offset = int(entry[:10])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number), number
        objects[number] = pdf[offset : pdf.index(b"endobj", offset)]
    trailer = pdf[pdf.index(b"trailer") :]
    assert b"/Size %d" % count in trailer and b"/Root 1 0 R" in trailer
    for number, body in objects.items():
        if b"stream\n" in body:
            length = int(re.search(rb"/Length (\d+)", body).group(1))  # type: ignore[union-attr]
            data = body.split(b"stream\n", 1)[1]
            assert data[length:].startswith(b"\nendstream"), number
    return objects


def test_a_summary_becomes_a_valid_pdf_with_its_text() -> None:
    pdf = text_pdf(
        "Rendicontazione buoni spesa",
        ["Comune 096004 (Biella)", "  redeemed 1.234,56 € (shops: Caffè (centro))"],
        created=WHEN,
    )
    objects = structure(pdf)
    assert b"/Count 1" in objects[2]
    assert b"(Rendicontazione buoni spesa) Tj" in pdf
    assert b"(  redeemed 1.234,56 \x80 \\(shops: Caff\xe8 \\(centro\\)\\)) Tj" in pdf  # WinAnsi
    assert b"/CreationDate (D:20261125003000Z)" in pdf


def test_long_summaries_run_over_several_pages_and_long_lines_wrap() -> None:
    lines = [f"line {n}" for n in range(100)] + ["x" * 50 + " " + "y" * 100]
    objects = structure(text_pdf("Title", lines, created=WHEN))
    pages = [body for body in objects.values() if b"/Type /Page " in body]
    assert len(pages) == 2 and b"/Count 2" in objects[2]
    text = b"".join(objects.values())
    assert b"(line 99) Tj" in text and b"(1 / 2) Tj" in text and b"(2 / 2) Tj" in text
    assert b"(" + b"x" * 50 + b") Tj" in text and b"(  " + b"y" * 100 + b") Tj" in text


class Result:
    """What the rendicontazione reads of an audit's result."""

    generated_at = WHEN

    def summary_lines(self) -> list[str]:
        rules = "  money rules: all hold (issued \u2264 allocated, \u22121)"
        return ["Vouchers audit", rules, "RESULT: OK"]


def test_an_audit_result_becomes_its_rendicontazione() -> None:
    lines = rendicontazione_lines(Result())  # type: ignore[arg-type]
    assert lines == [
        "Generata il 2026-11-25 00:30 UTC",
        "",
        "Vouchers audit",
        "  money rules: all hold (issued <= allocated, -1)",  # spelled out for WinAnsi
        "RESULT: OK",
    ]
    assert report_lines(WHEN, Result().summary_lines()) == lines
    pdf = rendicontazione_pdf(Result(), "Rendicontazione buoni spesa")  # type: ignore[arg-type]
    assert pdf == text_pdf("Rendicontazione buoni spesa", lines, created=WHEN)
    structure(pdf)
