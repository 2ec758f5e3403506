"""The compiled check of a sound ledger event answers as the Python reference
(``benecomune_auditor.topic_reader.sound_check.sound_ledger_item``) does, or None (leaving the
message to it): never a tuple the reference would not give. Messages are the relay's, then spoiled
at random: headers dropped, doubled, retyped, keys and payloads edited, re-hashed edits (sound
again, in forms the relay never writes: nested objects, escapes, spaces, other key orders)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from benecomune_auditor.topic_reader.sound_check import SOUND_CHECK, sound_ledger_item
from benecomune_contracts import EventEnvelope
from benecomune_contracts import vouchers as c
from benecomune_contracts.chain import GENESIS_HASH, LedgerEvent, ledger_hash
from benecomune_contracts.registry import all_contracts
from benecomune_ledgercheck import SoundLedgerCheck
from hypothesis import given, settings
from hypothesis import strategies as st

T0 = datetime(2020, 3, 30, 9, 0, tzinfo=UTC)
CHECK = SoundLedgerCheck([k.type_name for k in all_contracts() if issubclass(k, LedgerEvent)])

Message = tuple[Any, Any, Any]


def relay_message(reference: str, amount: int, sequence: int, micros: int) -> Message:
    """A fund's top-up as the relay publishes it: key, JSON value, CloudEvents headers. A
    reference the contract refuses (control or bidirectional characters, blank) is written
    as it is, as a relay that did not validate would write it (the contract is not asked)."""
    fund = str(uuid.UUID(int=amount + 1))
    draft = c.FundToppedUp.model_construct(
        stream_id=fund,
        sequence=sequence,
        prev_hash=GENESIS_HASH,
        event_hash=GENESIS_HASH,
        fund_id=fund,
        source_kind="donation",
        source_reference=reference,
        amount_cents=amount,
        topped_up_at=T0 + timedelta(microseconds=micros),
    )
    event = draft.model_copy(update={"event_hash": draft.computed_hash()})
    envelope = EventEnvelope(
        id=f"event-{amount}",
        source="/benecomune/biella/vouchers",
        type=event.type_name,
        time=T0 + timedelta(microseconds=micros),
        subject=fund,
        notification_id=amount + 7,
        sequence=sequence,
    )
    return envelope.kafka_key(), event.to_json_bytes(), tuple(envelope.to_headers())


def rehashed(value: bytes, headers: Any, edit: Any) -> bytes:
    """The payload edited by ``edit`` (a dict -> dict function) with its hash recomputed."""
    body = json.loads(value)
    body = edit(body)
    content = {k: v for k, v in body.items() if k != "event_hash"}
    body["event_hash"] = ledger_hash(c.FundToppedUp.type_name, content)
    return json.dumps(body, ensure_ascii=False).encode()


def agrees(message: Message) -> Any:
    compiled = CHECK(*message)
    reference = sound_ledger_item(*message)
    assert compiled is None or compiled == reference, (message, compiled, reference)
    return compiled


def test_the_relays_messages_are_read_as_the_reference_reads_them() -> None:
    for n, reference in enumerate(["Caritas", "Fondazione di Comunità", 'a "quoted" \\ gift']):
        message = relay_message(reference, 100 + n, 1 + n, n * 250_000)
        compiled = agrees(message)
        assert compiled is not None and compiled == sound_ledger_item(*message)
    assert SOUND_CHECK(*message) == sound_ledger_item(*message)  # the reader's choice


def test_sound_payloads_the_relay_never_writes_are_read_alike_too() -> None:
    key, value, headers = relay_message("Caritas", 500, 3, 0)
    edits = [
        lambda b: {**b, "extra": {"z": 1, "a": [True, None, 'é "q"']}},  # nested, sorted inside
        lambda b: dict(reversed(list(b.items()))),  # another key order
        lambda b: {**b, "source_reference": 'a "quoted" \\ \u2028 gift'},  # escapes in a string
        lambda b: {**b, "big": 2**63},  # a u64 beyond i64
    ]
    for edit in edits:
        message = (key, rehashed(value, headers, edit), headers)
        compiled = agrees(message)
        assert compiled is not None, edit
    spaced = (key, json.dumps(json.loads(value), indent=2).encode(), headers)
    assert agrees(spaced) is not None
    escaped = (key, value.replace(b'"donation"', b'"\\u0064onation"'), headers)
    assert agrees(escaped) is not None


def test_text_the_contracts_refuse_is_left_to_the_reference() -> None:
    """Control and bidirectional formatting characters (``benecomune_contracts.text``), written
    as they are or escaped, in a value or a key: never in a message the relay writes, so the
    compiled check leaves them to the reference (which reads them; the parent's validation
    names the payload)."""
    key, value, headers = relay_message("Caritas", 77, 2, 0)
    for text in ["tab\there", "nul \x00", "del \x7f", "c1 \x85", "\u202eevil", "\u2066x", "\u061c"]:
        for edit in (
            lambda b, t=text: {**b, "source_reference": t},
            lambda b, t=text: {**b, t: 1},
        ):
            message = (key, rehashed(value, headers, edit), headers)
            assert CHECK(*message) is None, message
            assert sound_ledger_item(*message) is not None, message
        escaped = json.dumps(text)[1:-1].encode()  # as an ASCII JSON escape
        spoiled = value.replace(b'"Caritas"', b'"' + escaped + b'"')
        content = {k: v for k, v in json.loads(spoiled).items() if k != "event_hash"}
        body = {**json.loads(spoiled), "event_hash": ledger_hash(c.FundToppedUp.type_name, content)}
        message = (key, json.dumps(body).encode(), headers)
        assert CHECK(*message) is None, message
        assert sound_ledger_item(*message) is not None, message


def test_what_the_reference_refuses_is_refused_and_the_unusual_left_to_it() -> None:
    key, value, headers = relay_message("Caritas", 42, 2, 0)
    spoiled = [
        (key, value, tuple(h for h in headers if h[0] != "ce_subject")),  # a header missing
        (b"someone-else", value, headers),
        (key, None, headers),
        (key, value.replace(b'"amount_cents":42', b'"amount_cents":43'), headers),  # edited
        (key, value.replace(b'"sequence":2', b'"sequence":3'), headers),
        (key, value + b"x", headers),
        (key, value.replace(b"42", b"4.2e1"), headers),
    ]
    for message in spoiled:
        assert CHECK(*message) is None, message
        assert sound_ledger_item(*message) is None, message
    # Headers the relay never writes, which the reference still reads as an envelope: left to it.
    for unusual in ((*headers, headers[0]), (*headers, ("x-other", b"1")), list(headers)):
        assert CHECK(key, value, unusual) is None
        assert sound_ledger_item(key, value, unusual) is not None


_TIMES = [
    b"2020-03-30T09:00:00Z",
    b"2020-03-30T09:00:00.000001Z",
    b"2020-02-30T09:00:00Z",
    b"2024-02-29T23:59:59Z",
    b"2023-02-29T00:00:00Z",
    b"2020-03-30t09:00:00z",
    b"2020-03-30T09:00:00+00:00",
    b"2020-03-30T09:00:00.5Z",
    b"2020-03-30T24:00:00Z",
    b"0999-03-30T09:00:00Z",
    b"2020-13-01T09:00:00Z",
]
_VALUES = [b"", b"0", b"01", b"1.0", b"x", b"\xff", b"application/json", b"7", *_TIMES]


def _header_edit(headers: tuple[Any, ...], data: st.DataObject) -> Any:
    names = [name for name, _ in headers]
    kind = data.draw(st.sampled_from(["drop", "twice", "value", "none", "text", "list", "order"]))
    index = data.draw(st.integers(0, len(headers) - 1))
    edited = list(headers)
    if kind == "drop":
        del edited[index]
    elif kind == "twice":
        edited.append(edited[index])
    elif kind == "value":
        edited[index] = (names[index], data.draw(st.sampled_from(_VALUES)))
    elif kind == "none":
        edited[index] = (names[index], None)
    elif kind == "text":
        raw = edited[index][1]
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        edited[index] = (names[index], text)
    elif kind == "list":
        return edited
    else:
        edited = data.draw(st.permutations(edited))
    return tuple(edited)


def _value_edit(value: bytes, headers: Any, data: st.DataObject) -> Any:
    kind = data.draw(st.sampled_from(["bytes", "splice", "rehash", "none", "text"]))
    if kind == "none":
        return None
    if kind == "text":
        return value.decode("utf-8", "replace")
    if kind == "bytes":
        at = data.draw(st.integers(0, len(value) - 1))
        return value[:at] + data.draw(st.binary(max_size=3)) + value[at + 1 :]
    if kind == "splice":
        old = data.draw(st.sampled_from([b'"sequence":', b"42", b'"event_hash":"', b",", b"}"]))
        new = data.draw(
            st.sampled_from([b"", b" ", b'"type":"x",', b"-0", b"1e2", b'"a":1,"a":2,', b"\\"])
        )
        return value.replace(old, new, 1)
    try:
        if type(json.loads(value)) is not dict:
            return value
    except ValueError:
        return value  # spoiled already: nothing to re-hash
    extra = data.draw(
        st.recursive(
            st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=5),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
            max_leaves=6,
        )
    )
    return rehashed(value, headers, lambda b: {**b, data.draw(st.text(max_size=4)): extra})


@settings(max_examples=600, deadline=None)
@given(
    reference=st.text(min_size=1, max_size=12),
    amount=st.integers(1, 10**12),
    data=st.data(),
)
def test_spoiled_messages_are_read_as_the_reference_reads_them_or_left_to_it(
    reference: str, amount: int, data: st.DataObject
) -> None:
    key, value, headers = relay_message(reference, amount, 2, amount % 1_000_000)
    subject: bytes = key
    for _ in range(data.draw(st.integers(0, 3))):
        part = data.draw(st.sampled_from(["headers", "key", "value"]))
        if part == "headers" and isinstance(headers, tuple) and headers:
            headers = _header_edit(headers, data)
        elif part == "key":
            key = data.draw(st.sampled_from([None, b"other", subject.decode(), bytearray(subject)]))
        elif part == "value" and isinstance(value, bytes) and value:
            value = _value_edit(value, headers, data)
    agrees((key, value, headers))


def test_every_time_form_is_read_as_the_reference_reads_it() -> None:
    key, value, headers = relay_message("Caritas", 9, 1, 0)
    answered = 0
    for time in _TIMES:
        message = (key, value, tuple((n, time if n == "ce_time" else v) for n, v in headers))
        answered += agrees(message) is not None
    assert answered == 3  # the relay's forms, and a leap day
