"""The auditor's "rendicontazione": a plain-text PDF document, written without a PDF library.

The command line (``benecomune audit ... --out``) and the portal's audit page both write it from
an audit's result (:func:`rendicontazione_pdf`, or :func:`report_lines` and :func:`text_pdf`
for a result kept as its summary lines).

The rendicontazione is a page or two of text: a title and the summary lines. That
needs none of what a PDF library brings (images, fonts to embed, layout), so the file is
written here, by the PDF 1.4 rules: A4 pages, the standard Helvetica fonts every reader has
(nothing embedded), text in WinAnsi (Windows-1252: accented Italian letters and the euro sign
print as they are; other characters become "?"), one uncompressed content stream per page, and
the cross-reference table the format requires.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benecomune_auditor.ledgers import AuditResult

__all__ = ["rendicontazione_lines", "rendicontazione_pdf", "report_lines", "text_pdf"]

PAGE_WIDTH = 595.28  # A4, in points
PAGE_HEIGHT = 841.89
MARGIN = 42.52  # 15 mm
TITLE_SIZE = 12
BODY_SIZE = 8
LEADING = 1.3  # line height, in font sizes
WRAP_AT = 120  # characters of an 8-point Helvetica line across the page, about


def _literal(text: str) -> bytes:
    """A PDF literal string in WinAnsi: ``(...)`` with its delimiters escaped."""
    raw = text.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _pages(title: str, lines: Sequence[str]) -> list[list[tuple[str, bool]]]:
    """The lines laid out on pages, each as (text, is the title), wrapped to the page width."""
    wrapped: list[tuple[str, bool]] = [(title, True), ("", False)]
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip(" ")))
        parts = textwrap.wrap(line, WRAP_AT, subsequent_indent=indent + "  ") or [""]
        wrapped.extend((part, False) for part in parts)
    usable = PAGE_HEIGHT - 2 * MARGIN - TITLE_SIZE * LEADING
    per_page = max(1, int(usable // (BODY_SIZE * LEADING)))
    return [wrapped[n : n + per_page] for n in range(0, len(wrapped), per_page)]


def _content(page: list[tuple[str, bool]], number: int, count: int) -> bytes:
    commands: list[bytes] = []
    y = PAGE_HEIGHT - MARGIN
    for text, is_title in page:
        size = TITLE_SIZE if is_title else BODY_SIZE
        y -= size * LEADING
        font = b"/F2" if is_title else b"/F1"
        commands.append(
            b"BT %s %d Tf 1 0 0 1 %.2f %.2f Tm %s Tj ET" % (font, size, MARGIN, y, _literal(text))
        )
    footer = f"{number} / {count}"
    commands.append(
        b"BT /F1 %d Tf 1 0 0 1 %.2f %.2f Tm %s Tj ET"
        % (BODY_SIZE, PAGE_WIDTH - MARGIN - 30, MARGIN / 2, _literal(footer))
    )
    return b"\n".join(commands)


def text_pdf(title: str, lines: Sequence[str], *, created: datetime | None = None) -> bytes:
    """A PDF of ``title`` (bold) and ``lines`` (wrapped, on as many A4 pages as they need)."""
    pages = _pages(title, lines)
    when = (created or datetime.now(UTC)).astimezone(UTC)
    first_page = 5  # 1 catalog, 2 page tree, 3-4 fonts, then a page and its content each
    info = first_page + 2 * len(pages)
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * n) for n in range(len(pages)))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    for n, page in enumerate(pages):
        content = _content(page, n + 1, len(pages))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f]"
            b" /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
            % (PAGE_WIDTH, PAGE_HEIGHT, first_page + 2 * n + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    objects.append(
        b"<< /Title %s /Producer (benecomune) /CreationDate (D:%s) >>"
        % (_literal(title), when.strftime("%Y%m%d%H%M%SZ").encode())
    )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # binary marker: a binary file
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, info)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


SPELLED_OUT = {"\u2264": "<=", "\u2265": ">=", "\u2212": "-"}
"""Characters of the summaries that the standard fonts' WinAnsi cannot print, spelled out."""


def report_lines(generated_at: datetime, summary: Iterable[str]) -> list[str]:
    """The rendicontazione's text under its title: when the audit was made, and its summary
    lines, with the characters the PDF's standard fonts cannot print spelled out."""
    lines = [f"Generata il {generated_at:%Y-%m-%d %H:%M} UTC", "", *summary]
    cleaned = []
    for line in lines:
        for old, new in SPELLED_OUT.items():
            line = line.replace(old, new)
        cleaned.append(line)
    return cleaned


def rendicontazione_lines(audit: AuditResult) -> list[str]:
    """The PDF's text under its title for ``audit``: when it was made, and its summary."""
    return report_lines(audit.generated_at, audit.summary_lines())


def rendicontazione_pdf(audit: AuditResult, title: str) -> bytes:
    """``audit``'s summary as a PDF rendicontazione titled ``title`` (the ledger's
    :attr:`benecomune_auditor.ledgers.AuditedLedger.pdf_title`)."""
    return text_pdf(title, rendicontazione_lines(audit), created=audit.generated_at)
