"""The hash chain's canonical JSON: written faster (orjson) but byte for byte the definition's
(``json.dumps`` with sorted keys, compact separators, raw UTF-8), so every hash ever stored or
published still verifies."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from benecomune_contracts import FundAllocated
from benecomune_contracts.chain import (
    GENESIS_HASH,
    ChainVerifier,
    canonical_json,
    ledger_hash,
)
from benecomune_contracts.vouchers import RoundOpened


def reference(body: Any) -> bytes:
    """The definition of the canonical JSON (what chain.py computed before orjson)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def a_fund_allocated() -> FundAllocated:
    return FundAllocated(
        stream_id="fund-3f1c",
        sequence=1,
        prev_hash=GENESIS_HASH,
        event_hash="a" * 64,
        fund_id="fund-3f1c",
        municipality_istat="096004",
        source_kind="state_transfer",
        source_reference="OCDPC 658/2020 — Città di Biella",
        amount_cents=12_345_600,
        allocated_at=datetime(2020, 3, 30, 9, 0, tzinfo=UTC),
    )


def test_the_hash_of_a_known_event_never_changes() -> None:
    # Computed with the json.dumps definition when the chain was introduced.
    expected = "679e1a99c3b26cd18664d40e1db0c02b92c4bd87e9a763385cfd47b3972a9a8f"
    assert a_fund_allocated().computed_hash() == expected


def test_every_code_point_is_written_as_json_writes_it() -> None:
    for start in range(0, 0x110000, 0x1000):
        chars = "".join(
            chr(cp) for cp in range(start, start + 0x1000) if not 0xD800 <= cp <= 0xDFFF
        )
        body = {"type": "t", "text": chars, chars[:7] or "k": [chars[-5:]]}
        assert canonical_json(body) == reference(body), hex(start)


def test_keys_sort_by_code_point_at_every_depth() -> None:
    rng = random.Random(658)
    alphabet = ["a", "B", "_", "é", "\u00ff", "\u0100", "\uffff", "\U0001f600", "\x00", "\n"]
    for _ in range(2_000):
        keys = ["".join(rng.choices(alphabet, k=rng.randrange(0, 4))) for _ in range(6)]
        body: dict[str, Any] = {key: {k[::-1]: k for k in keys} for key in keys}
        assert canonical_json(body) == reference(body)


@pytest.mark.parametrize(
    "value",
    [
        0,
        -1,
        2**63 - 1,
        2**64 - 1,
        -(2**63),
        2**64,  # beyond orjson: json writes it
        -(2**63) - 1,
        10**40,
        True,
        None,
        "",
        [],
        {},
        [1, "a", None, [False, {"z": 1, "a": 2}]],
        1.5,  # floats take the json path: orjson writes 1e-05 as 0.00001
        1e-05,
        2.5e-07,
        1e16,
        float("nan"),
        {"rules": {"ratio": 0.5, "cap_cents": 40_000}},
        (1, 2),  # a tuple: not what a JSON form holds, json decides
    ],
)
def test_values_are_written_as_json_writes_them(value: Any) -> None:
    body = {"type": "t", "value": value, "nested": {"list": [value]}}
    assert canonical_json(body) == reference(body)


def test_what_json_refuses_is_still_refused() -> None:
    with pytest.raises(TypeError):  # orjson would write a datetime; the definition does not
        canonical_json({"at": datetime(2020, 1, 1, tzinfo=UTC)})
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate cannot be UTF-8
        canonical_json({"text": "\ud800"})


def test_ledger_hash_is_the_sha256_of_the_definition() -> None:
    event = RoundOpened(
        stream_id="round-1",
        sequence=1,
        prev_hash=GENESIS_HASH,
        event_hash="b" * 64,
        round_id="round-1",
        fund_id="fund-1",
        municipality_istat="096004",
        title="Buoni spesa — aprile",
        opens_at=datetime(2020, 4, 1, tzinfo=UTC),
        closes_at=datetime(2020, 4, 30, tzinfo=UTC),
        budget_cents=1_000_000,
        rules={"base_cents": 15_000, "reduced_share": 0.5, "note": "famiglie con più figli"},
        denominations_cents=[1_000, 2_500],
        validity_days=30,
        excluded_categories=["alcohol"],
        opened_at=datetime(2020, 4, 1, tzinfo=UTC),
    )
    content = event.model_dump(mode="json", exclude={"event_hash"})
    body = {"type": event.type_name, **content}
    assert event.computed_hash() == hashlib.sha256(reference(body)).hexdigest()
    assert ledger_hash(event.type_name, content) == event.computed_hash()


def test_the_verifier_checks_a_hash_computed_elsewhere_against_the_claimed_one() -> None:
    draft = a_fund_allocated()
    event = draft.model_copy(update={"event_hash": draft.computed_hash()})

    sound = ChainVerifier()
    assert sound.feed(event, event.computed_hash())
    assert sound.breaks == []

    edited = ChainVerifier()
    assert not edited.feed(event, "f" * 64)  # the content hashes to something else
    assert [(b.kind, b.sequence) for b in edited.breaks] == [("edited", 1)]
