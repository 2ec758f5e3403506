"""The check of a message that reads as a sound ledger event without validating it in the
reader process (the parent validates every payload anyway, to add it up), compiled where
``benecomune_ledgercheck`` is installed; any other message is parsed in full
(:func:`~benecomune_auditor.topic_reader.message.parse_message`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from benecomune_contracts import EventEnvelope, MalformedEnvelope
from benecomune_contracts.chain import LedgerEvent
from benecomune_contracts.registry import UnknownEventType, all_contracts, get_contract

from benecomune_auditor.topic_reader.message import (
    WorkerItem,
    content_hash,
    is_ledger,
    notification_id,
    parse_message,
)

__all__ = ["COMPILED", "SOUND_CHECK", "item_of", "record_item", "sound_ledger_item"]


def record_item(record: Any) -> tuple[int | None, WorkerItem]:
    """A consumer's record as the worker sends it (without its merge key), and its
    notification id."""
    return item_of(record.key, record.value, record.headers or ())


def item_of(
    key: bytes | None, value: bytes | None, headers: Sequence[Any]
) -> tuple[int | None, WorkerItem]:
    """One message as the worker sends it (without its merge key), and its notification id."""
    sound = SOUND_CHECK(key, value, headers)
    if sound is not None:
        return sound[0], sound
    parsed = parse_message(key, value, headers)
    if parsed.problem is not None or parsed.envelope is None or parsed.event is None:
        return notification_id(headers), (parsed.problem,)
    envelope, event = parsed.envelope, parsed.event
    assert value is not None  # the envelope was read with a payload
    hashed = content_hash(event, value) if is_ledger(event) else None  # type: ignore[arg-type]
    # The envelope was read, so its notification id is the header's (the first, the only one).
    nid: int = envelope["notification_id"]
    return nid, (nid, envelope["id"], envelope["type"], value, hashed)


_LEDGER_CONTRACTS: dict[str, bool] = {}


def _compiled() -> Any:
    """The compiled reader (``shared/ledgercheck``, Rust), the twin of
    :func:`sound_ledger_item` (None if it is not installed): it answers its tuple for the
    messages the relay writes and None (decide here) for anything it does not read exactly as
    it does, and it reads whole record sets (:func:`take_record_set`)."""
    try:
        from benecomune_ledgercheck import SoundLedgerCheck
    except ImportError:
        return None
    return SoundLedgerCheck([c.type_name for c in all_contracts() if issubclass(c, LedgerEvent)])


def _compiled_sound_check(compiled: Any) -> Callable[[Any, Any, Any], WorkerItem | None] | None:
    if compiled is None:
        return None

    def check(key: Any, value: Any, headers: Any) -> WorkerItem | None:
        answer: WorkerItem | None = compiled(key, value, headers)
        return answer or sound_ledger_item(key, value, headers)

    return check


def _is_ledger_type(type_name: str) -> bool | None:
    """Whether ``type_name`` is a ledger event's contract (None: no such contract)."""
    ledger = _LEDGER_CONTRACTS.get(type_name)
    if ledger is None:
        try:
            contract = get_contract(type_name)
        except UnknownEventType:
            return None
        ledger = _LEDGER_CONTRACTS[type_name] = issubclass(contract, LedgerEvent)
    return ledger


def sound_ledger_item(
    key: bytes | None, value: bytes | None, headers: Sequence[Any]
) -> WorkerItem | None:
    """The item of a ledger event that reads as sound without validating it here: its headers
    are a CloudEvents envelope, its key, stream and sequence agree with them, and its JSON
    object hashes to the ``event_hash`` it claims (what :func:`content_hash` returns for it).
    Then the parent's validation, which it does anyway to add the event up, is the only one:
    a payload that breaks its contract is named there, as here (``invalid_payload``, with the
    same message). Anything else (None) takes :func:`parse_message`'s path, which names what is
    wrong in the order it always did. Validating in the worker too would be validating twice
    (what it cost: docs/performance.md)."""
    if value is None:
        return None
    try:
        envelope = EventEnvelope.fields_from_headers(headers)
    except MalformedEnvelope:
        return None
    type_name: str = envelope["type"]
    stream_id: str = envelope["subject"]
    if not _is_ledger_type(type_name) or (key is not None and key != stream_id.encode("utf-8")):
        return None
    try:
        body = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if type(body) is not dict or body.get("stream_id") != stream_id:
        return None
    sequence = body.get("sequence")
    if type(sequence) is not int or sequence != envelope["sequence"]:
        return None
    claimed = body.pop("event_hash", None)
    if type(claimed) is not str:
        return None
    body["type"] = type_name
    try:
        canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError: an integer over 64 bits, say
        return None
    if hashlib.sha256(canonical).hexdigest() != claimed:
        return None
    nid: int = envelope["notification_id"]
    return (nid, envelope["id"], type_name, value, claimed)


COMPILED = _compiled()
SOUND_CHECK = _compiled_sound_check(COMPILED) or sound_ledger_item
""":func:`sound_ledger_item`, compiled where it can be (every contract is registered once
:mod:`benecomune_contracts` is imported)."""
