"""A ledger's seal: where every stream's hash chain ended when an audit read it.

A hash chain shows an edited, missing or reordered event, but not a stream whose last events
were cut off (or rewritten with their hashes recomputed): what is left still verifies. So each
audit writes the heads it read — one CSV line per stream (RFC 4180, CRLF),
``stream_id,sequence,type,event_hash``, sorted — and prints the SHA-256 of that file, the
*seal*. The auditor keeps the file and publishes the seal with the report. The next audit,
given the file (``--since``), checks that every sealed event is still there with the same
hash: nothing that was audited can disappear or change afterwards without the audit naming the
stream (and a seal made of a damaged ledger keeps the earlier heads of the damaged streams).

The file is the same whether the ledger was read from Kafka or from the store, so the seals of
the two replays are equal when the topic and the store hold the same events: a one-line
cross-check of the two copies.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from benecomune_contracts.chain import StreamHead

__all__ = ["HEADS_HEADER", "LedgerSeal", "SealFileError"]

HEADS_HEADER = ("stream_id", "sequence", "type", "event_hash")
_HASH = re.compile(r"[0-9a-f]{64}")
_SEQUENCE = re.compile(r"[1-9][0-9]{0,17}")  # as the tool writes it: no sign, no leading zero


class SealFileError(ValueError):
    """A heads file that cannot be read (the message names the line)."""


class LedgerSeal:
    """The heads of every stream of a ledger, ``(sequence, event_hash, type_name)`` (a
    :class:`StreamHead` when read from a file), and the seal (SHA-256) of their file."""

    __slots__ = ("digest", "heads", "text")

    def __init__(self, heads: Mapping[str, tuple[int, str, str]], text: str) -> None:
        self.heads = heads
        self.text = text
        self.digest = hashlib.sha256(text.encode("utf-8")).hexdigest()

    @classmethod
    def of(cls, heads: Mapping[str, tuple[int, str, str]]) -> LedgerSeal:
        """The seal of heads as a verifier holds them: ``(sequence, event_hash, type_name)``."""
        # The heads as given, not copied: a big ledger has hundreds of thousands of streams.
        text = _compiled_text(heads) if type(heads) is dict else None
        if text is None:
            rows = [(s, *heads[s]) for s in sorted(heads)]
            text = _plain_rows(rows) or _csv_rows(rows)
        return cls(heads, text)

    def __len__(self) -> int:
        return len(self.heads)

    def __eq__(self, other: object) -> bool:
        # Equal files, equal heads: the seal is the file's SHA-256.
        return isinstance(other, LedgerSeal) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return f"LedgerSeal({self.digest}, {len(self.heads)} heads)"

    def write(self, path: Path) -> None:
        path.write_bytes(self.text.encode("utf-8"))

    @classmethod
    def read(cls, path: Path) -> LedgerSeal:
        """A heads file written by :meth:`write`; its seal is recomputed from its bytes."""
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as error:
            raise SealFileError(f"cannot read {path}: {error.strerror or error}") from error
        except UnicodeDecodeError as error:
            raise SealFileError(f"{path} is not a heads file (not UTF-8)") from error
        rows = csv.reader(io.StringIO(text, newline=""), strict=True)
        heads: dict[str, StreamHead] = {}
        try:
            if next(rows, None) != list(HEADS_HEADER):
                raise SealFileError(
                    f"{path} is not a heads file: its first line must be {','.join(HEADS_HEADER)}"
                )
            for row in rows:
                heads_row = _head(row)
                if heads_row is None:
                    raise SealFileError(
                        f"{path} line {rows.line_num}: expected stream_id,sequence,type,"
                        "event_hash with a sequence from 1 and a 64-hex-digit hash"
                    )
                stream_id, head = heads_row
                if stream_id in heads:
                    raise SealFileError(
                        f"{path} line {rows.line_num}: stream {stream_id} is sealed twice"
                    )
                heads[stream_id] = head
        except csv.Error as error:  # an unbalanced quote, a field over the size limit
            raise SealFileError(f"{path} line {rows.line_num}: {error}") from error
        return cls(heads, text)


def _compiled() -> Callable[[dict[str, tuple[int, str, str]]], str | None]:
    """:func:`_plain_rows` of the sorted heads, compiled (``shared/ledgercheck``), where it is
    installed: it answers the same text or None (then the rows are written here)."""
    try:
        from benecomune_ledgercheck import plain_heads_text
    except ImportError:
        return lambda heads: None
    return plain_heads_text


_compiled_text = _compiled()


def _csv_rows(rows: list[tuple[str, int, str, str]]) -> str:
    """The heads file, written by the csv module."""
    buffer = io.StringIO()
    # CRLF, as RFC 4180 has it: the writer then quotes a field holding a bare "\r" too,
    # which a reader would otherwise take for the end of a line.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADS_HEADER)
    for stream_id, sequence, event_hash, type_name in rows:
        writer.writerow((stream_id, sequence, type_name, event_hash))
    return buffer.getvalue()


def _plain_rows(rows: list[tuple[str, int, str, str]]) -> str | None:
    """The heads file as :func:`_csv_rows` writes it, joined directly (quicker over a big
    ledger's streams: docs/performance.md), or None when some field needs the csv module:
    if no field holds a comma, a quote, a CR or an LF, the writer quotes nothing and the text
    holds exactly three commas and one CRLF a line (counted over the whole text, not per
    field)."""
    lines = [",".join(HEADS_HEADER) + "\r\n"]
    lines += [f"{s},{q},{t},{h}\r\n" for s, q, h, t in rows]
    text = "".join(lines)
    n = len(lines)
    if text.count(",") != 3 * n or text.count('"') or text.count("\r") != n:
        return None
    return text if text.count("\n") == n else None


def _head(row: list[str]) -> tuple[str, StreamHead] | None:
    if len(row) != 4:
        return None
    stream_id, sequence, type_name, event_hash = row
    if not (stream_id and type_name and _SEQUENCE.fullmatch(sequence)):
        return None
    if not _HASH.fullmatch(event_hash):
        return None
    return stream_id, StreamHead(int(sequence), event_hash, type_name)
