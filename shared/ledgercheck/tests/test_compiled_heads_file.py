"""The compiled heads file (``plain_heads_text``) is the Python reference's text
(``benecomune_auditor.ledger_seal._plain_rows`` of the sorted heads) or None, whatever the stream
ids, sequences and types, and it answers for every head the reference writes without quoting."""

from __future__ import annotations

import csv
import io
from typing import Any

from benecomune_auditor.ledger_seal import LedgerSeal, _plain_rows
from benecomune_ledgercheck import plain_heads_text
from hypothesis import given, settings
from hypothesis import strategies as st

# Characters the csv writer quotes, non-ASCII ones (sorted by code point, not by bytes, in
# Python), and lone surrogates (no UTF-8 for them).
TEXT = st.text(alphabet=st.sampled_from('ab,"\r\n é€😀\ud800'), max_size=6)
# Ids sharing their first eight bytes or more too (the compiled sort compares those first).
PLAIN_TEXT = st.builds(
    str.__add__,
    st.sampled_from(["", "voucher-", "voucher-é"]),
    st.text(alphabet=st.sampled_from("abz-_.é€😀 0"), min_size=1, max_size=6),
)
SEQUENCES = st.one_of(st.integers(1, 2**63 - 1), st.just(2**64), st.just(True))
ODD_HEADS = st.one_of(
    st.tuples(SEQUENCES, TEXT, TEXT),
    st.tuples(SEQUENCES, TEXT),  # too short
    st.lists(st.integers(), max_size=3),  # not a tuple
)


def reference(heads: dict[str, Any]) -> str | None:
    return _plain_rows([(s, *heads[s]) for s in sorted(heads)])


def csv_text(heads: dict[str, tuple[int, str, str]]) -> str:
    written = io.StringIO()
    writer = csv.writer(written, lineterminator="\r\n")
    writer.writerow(("stream_id", "sequence", "type", "event_hash"))
    writer.writerows((s, *heads[s]) for s in sorted(heads))
    return written.getvalue()


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(TEXT, ODD_HEADS, max_size=6))
def test_the_compiled_text_is_the_references_or_none(heads: dict[str, Any]) -> None:
    compiled = plain_heads_text(heads)

    if compiled is not None:
        assert compiled == reference(heads)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        PLAIN_TEXT,
        st.tuples(st.integers(1, 2**63 - 1), PLAIN_TEXT, PLAIN_TEXT),
        max_size=20,
    )
)
def test_plain_heads_are_written_compiled_and_as_the_csv_module_writes_them(
    heads: dict[str, tuple[int, str, str]],
) -> None:
    compiled = plain_heads_text(heads)

    assert compiled is not None and compiled == reference(heads)
    rows = {s: (q, t, h) for s, (q, h, t) in heads.items()}
    assert compiled == csv_text(rows) == LedgerSeal.of(heads).text


def test_a_head_the_csv_module_must_quote_is_left_to_the_reference() -> None:
    heads = {"fund, Biella": (1, "a" * 64, "T"), "v": (2, "b" * 64, "T")}

    assert plain_heads_text(heads) is None
    assert LedgerSeal.of(heads).text.splitlines()[1] == f'"fund, Biella",1,T,{"a" * 64}'
