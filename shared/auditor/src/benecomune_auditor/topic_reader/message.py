"""One Kafka message of a ledger topic read as a contract event: its CloudEvents headers, its
payload validated against its contract, the headers checked against the payload, and a ledger
event's hash recomputed from the message's own JSON where that gives the same answer."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import orjson
from benecomune_contracts import ContractEvent, EventEnvelope, MalformedEnvelope
from benecomune_contracts.chain import LedgerEvent
from benecomune_contracts.cloudevents import CE_NOTIFICATIONID, CE_TRANSACTIONEND, MAX_POSITION
from benecomune_contracts.registry import UnknownEventType, get_contract
from pydantic import ValidationError

__all__ = [
    "Parsed",
    "ProblemFields",
    "WorkerItem",
    "content_hash",
    "first_error",
    "is_ledger",
    "notification_id",
    "parse_message",
    "transaction_reach",
]

# A read problem as plain values (kind, detail, stream_id, sequence, type_name): it crosses
# processes without importing the replay.
ProblemFields = tuple[str, str, str | None, int | None, str | None]


class Parsed(NamedTuple):
    """A message read as a contract event (``event`` and ``envelope`` set) or not
    (``problem`` set)."""

    envelope: dict[str, Any] | None
    event: ContractEvent | None
    problem: ProblemFields | None


_LEDGER: dict[type, bool] = {}
_VALIDATORS: dict[str, Any] = {}


def is_ledger(event: ContractEvent) -> bool:
    kind = type(event)
    ledger = _LEDGER.get(kind)
    if ledger is None:
        ledger = _LEDGER[kind] = isinstance(event, LedgerEvent)
    return ledger


def parse_message(key: bytes | None, value: bytes | None, headers: Sequence[Any]) -> Parsed:
    """A Kafka message as a contract event, checking its CloudEvents headers and that the
    headers agree with the payload (type, subject = stream, sequence, key = subject)."""
    try:
        envelope = EventEnvelope.fields_from_headers(headers)
    except MalformedEnvelope as error:
        return Parsed(None, None, ("malformed_envelope", str(error), None, None, None))
    stream_id: str = envelope["subject"]
    sequence: int = envelope["sequence"]
    type_name: str = envelope["type"]
    if value is None:
        return Parsed(
            None,
            None,
            ("invalid_payload", "the message has no value", stream_id, sequence, type_name),
        )
    try:
        validate = _VALIDATORS.get(type_name)
        if validate is None:
            # What from_json_bytes does (model_validate_json), without its two Python calls.
            validate = _VALIDATORS[type_name] = get_contract(
                type_name
            ).__pydantic_validator__.validate_json
        event: Any = validate(value)
    except UnknownEventType as error:
        return Parsed(None, None, ("unknown_type", str(error), stream_id, sequence, type_name))
    except ValidationError as error:
        return Parsed(
            None, None, ("invalid_payload", first_error(error), stream_id, sequence, type_name)
        )
    ledger = is_ledger(event)
    if (
        (key is None or key == stream_id.encode("utf-8"))  # EventEnvelope.kafka_key()
        and (not ledger or (event.stream_id, event.sequence) == (stream_id, sequence))
    ):
        return Parsed(envelope, event, None)
    mismatch: list[str] = []
    if key is not None and key != stream_id.encode("utf-8"):
        mismatch.append(f"key {key!r} is not the subject")
    if isinstance(event, LedgerEvent):
        if event.stream_id != stream_id:
            mismatch.append(f"payload stream {event.stream_id} is not the subject")
        if event.sequence != sequence:
            mismatch.append(f"payload sequence {event.sequence} is not ce_sequence")
    return Parsed(
        None,
        None,
        ("envelope_mismatch", "; ".join(mismatch), stream_id, sequence, type_name),
    )


def content_hash(event: LedgerEvent, value: bytes) -> str:
    """``event.computed_hash()`` for the ledger event validated from ``value``, computed from the
    message's own JSON when that is quicker and gives the same answer.

    The hash covers the event's JSON form (``model_dump(mode="json")``). When the message's
    JSON object, without its ``event_hash``, hashes to the ``event_hash`` it claims, it *is*
    the JSON form that was hashed when the event was stored (SHA-256), and validating it gives
    an event whose JSON form is that same object (contract events round-trip through JSON,
    tested for every contract): the event's own hash is the same. Otherwise (an edited event,
    or JSON written in another but valid form: extra fields, defaults left out) the event's
    hash is computed from the validated event, as always. Both JSON readers keep the last of
    repeated keys, so they read the same object."""
    try:
        body = orjson.loads(value)
    except orjson.JSONDecodeError:
        return event.computed_hash()
    if type(body) is dict:
        claimed = body.pop("event_hash", None)
        if claimed == event.event_hash:
            # The canonical JSON of {"type": ..., **content}, written by orjson without asking
            # whether json.dumps would write the same bytes (canonical_json asks): equal bytes
            # are read back as the same object, whoever wrote them, so a match proves as much.
            body["type"] = event.type_name
            try:
                canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
            except TypeError:  # orjson.JSONEncodeError: an integer over 64 bits, say
                return event.computed_hash()
            computed = hashlib.sha256(canonical).hexdigest()
            if computed == claimed:
                return computed
    return event.computed_hash()


def first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    return f"{location}: {first['msg']}" if location else str(first["msg"])


def notification_id(headers: Iterable[tuple[str, bytes]]) -> int | None:
    """The first ``ce_notificationid`` header as an int, if it reads as one."""
    return _first_int(headers, CE_NOTIFICATIONID)


def transaction_reach(headers: Sequence[tuple[str, bytes]]) -> int | None:
    """The notification id a cut after this message must reach to keep its store transaction
    whole: its ``ce_transactionend`` when it has one beyond its own id, else its own id (None
    without a readable id)."""
    nid = _first_decimal(headers, CE_NOTIFICATIONID)
    if nid is None:
        return None
    end = _first_decimal(headers, CE_TRANSACTIONEND)
    return nid if end is None or end < nid else end


_MAX_DIGITS = len(str(MAX_POSITION))


def _first_int(headers: Iterable[tuple[str, bytes]], header: str) -> int | None:
    for name, value in headers:
        if name == header:
            try:
                number = int(value[: _MAX_DIGITS + 2])  # no 5,000-digit conversion
            except (TypeError, ValueError):
                return None
            return number if abs(number) <= MAX_POSITION else None
    return None


def _first_decimal(headers: Iterable[tuple[str, bytes]], header: str) -> int | None:
    """The first ``header`` as the envelope reads it (ASCII digits, no leading zero), if it
    does: ``+9``, `` 9`` or ``1_0``, which ``int`` would take, are no number here."""
    for name, value in headers:
        if name == header:
            if (
                type(value) is bytes
                and value.isdigit()
                and (value[:1] != b"0" or len(value) == 1)
                and len(value) <= _MAX_DIGITS
                and int(value) <= MAX_POSITION
            ):
                return int(value)
            return None  # not a number, or beyond what any store numbers (unreadable)
    return None


# What a worker sends for each message, in the producer's order. The first three values are the
# merge key (the notification id so far in the partition, partition, offset: unique), so tuples
# from several workers merge as they are.
#   a contract event:  (*key, notification_id, ce_id, type, value, hash or None)
#   a read problem:    (*key, ProblemFields)
WorkerItem = tuple[Any, ...]
