"""A ledger's seal: the heads file an audit writes, read back by the next audit's --since."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest
from benecomune_auditor.ledger_seal import LedgerSeal, SealFileError

HASH_A = "a" * 64
HASH_B = "0123456789abcdef" * 4
HEADS = {
    "voucher-2": (3, HASH_B, "benecomune.vouchers.VoucherRedeemed.v1"),
    "fund, Biella": (1, HASH_A, "benecomune.vouchers.FundAllocated.v1"),  # a comma, quoted
}


def test_a_heads_file_reads_back_to_the_same_heads_and_seal(tmp_path: Path) -> None:
    seal = LedgerSeal.of(HEADS)
    path = tmp_path / "vouchers-heads.csv"
    seal.write(path)

    again = LedgerSeal.read(path)

    assert again == seal and again.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert {s: tuple(h) for s, h in again.heads.items()} == HEADS
    assert path.read_text().splitlines()[:2] == [
        "stream_id,sequence,type,event_hash",
        f'"fund, Biella",1,benecomune.vouchers.FundAllocated.v1,{HASH_A}',  # sorted by stream
    ]


@pytest.mark.parametrize(
    "stream_id", ["a\rb", "a\nb", "a\r\nb", 'say "ciao"', "a,b", "città", "a\u2028b", " x "]
)
def test_any_stream_id_the_tool_seals_reads_back(tmp_path: Path, stream_id: str) -> None:
    seal = LedgerSeal.of({stream_id: (2, HASH_A, "benecomune.vouchers.VoucherIssued.v1")})
    path = tmp_path / "heads.csv"
    seal.write(path)

    again = LedgerSeal.read(path)

    assert list(again.heads) == [stream_id] and again == seal


def test_a_heads_file_changed_by_one_character_has_another_seal(tmp_path: Path) -> None:
    path = tmp_path / "heads.csv"
    LedgerSeal.of(HEADS).write(path)
    path.write_text(path.read_text().replace(",3,", ",2,"))

    assert LedgerSeal.read(path).digest != LedgerSeal.of(HEADS).digest


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "its first line must be stream_id,sequence,type,event_hash"),
        ("stream,seq\n", "its first line must be"),
        (f"stream_id,sequence,type,event_hash\ns,0,T,{HASH_A}\n", "line 2: expected"),
        (f"stream_id,sequence,type,event_hash\ns,²,T,{HASH_A}\n", "line 2: expected"),
        ("stream_id,sequence,type,event_hash\ns,1,T,ABC\n", "line 2: expected"),
        (f"stream_id,sequence,type,event_hash\ns,1,,{HASH_A}\n", "line 2: expected"),
        (f"stream_id,sequence,type,event_hash\ns,1,T,{HASH_A},x\n", "line 2: expected"),
        (
            f"stream_id,sequence,type,event_hash\ns,1,T,{HASH_A}\ns,2,T,{HASH_B}\n",
            "line 3: stream s is sealed twice",
        ),
        (f"stream_id,sequence,type,event_hash\ns,01,T,{HASH_A}\n", "line 2: expected"),
        (f'stream_id,sequence,type,event_hash\n"s"x,1,T,{HASH_A}\n', "line 2: "),
        (f"stream_id,sequence,type,event_hash\n{'s' * 200_000},1,T,{HASH_A}\n", "line 2: "),
    ],
)
def test_a_damaged_heads_file_is_refused_naming_the_line(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "heads.csv"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(SealFileError, match=message):
        LedgerSeal.read(path)


def test_a_missing_or_binary_heads_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SealFileError, match="cannot read"):
        LedgerSeal.read(tmp_path / "nowhere.csv")
    binary = tmp_path / "heads.csv"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SealFileError, match="not UTF-8"):
        LedgerSeal.read(binary)


@pytest.mark.parametrize(
    "stream_id", ["a\rb", "a\nb", 'say "ciao"', "a,b", "città", " x ", "plain-id"]
)
def test_the_heads_file_is_what_the_csv_module_writes_whatever_the_stream_ids(
    stream_id: str,
) -> None:
    heads = {
        stream_id: (2, HASH_A, "benecomune.vouchers.VoucherIssued.v1"),
        "voucher-1": (1, HASH_B, ""),
    }
    rows = sorted((s, *head) for s, head in heads.items())
    written = io.StringIO()
    writer = csv.writer(written, lineterminator="\r\n")
    writer.writerow(("stream_id", "sequence", "type", "event_hash"))
    writer.writerows((s, q, t, h) for s, q, h, t in rows)

    assert LedgerSeal.of(heads).text == written.getvalue()
