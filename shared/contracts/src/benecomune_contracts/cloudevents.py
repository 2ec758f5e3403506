"""CloudEvents 1.0 metadata in Kafka headers (the Kafka protocol binding, binary content mode).

The message value is the contract event as JSON (``content-type: application/json``); the
CloudEvents attributes travel as headers named ``ce_<attribute>`` with UTF-8 string values:

=====================  =========================================================
``ce_specversion``     ``1.0``
``ce_id``              unique per source (the domain event's id)
``ce_source``          the producing service, a URI reference
``ce_type``            the versioned contract type, ``benecomune.<service>.<Name>.v<N>``
``ce_time``            when the event happened, RFC 3339 in UTC
``ce_subject``         the aggregate the event belongs to (also the Kafka message key)
``content-type``       ``application/json``
``ce_notificationid``  extension: the producer's notification-log id, a decimal integer;
                       consumers use it to skip duplicates
``ce_sequence``        extension: the aggregate version, a decimal integer
``ce_correlationid``   extension, optional: the id of the request that caused the event
``ce_transactionend``  extension, optional: the notification id of the last event stored
                       in the same transaction as this one, a decimal integer; a reader
                       that stops part-way through a live topic keeps a transaction whole
=====================  =========================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from benecomune_contracts.base import UtcDatetime

__all__ = [
    "CE_CORRELATIONID",
    "CE_ID",
    "CE_NOTIFICATIONID",
    "CE_SEQUENCE",
    "CE_SOURCE",
    "CE_SPECVERSION",
    "CE_SUBJECT",
    "CE_TIME",
    "CE_TRANSACTIONEND",
    "CE_TYPE",
    "CONTENT_TYPE",
    "JSON_CONTENT_TYPE",
    "SPEC_VERSION",
    "EventEnvelope",
    "MalformedEnvelope",
    "format_time",
    "headers_json_schema",
]

CE_ID: Final = "ce_id"
CE_SOURCE: Final = "ce_source"
CE_TYPE: Final = "ce_type"
CE_SPECVERSION: Final = "ce_specversion"
CE_TIME: Final = "ce_time"
CE_SUBJECT: Final = "ce_subject"
CONTENT_TYPE: Final = "content-type"
CE_NOTIFICATIONID: Final = "ce_notificationid"
CE_CORRELATIONID: Final = "ce_correlationid"
CE_SEQUENCE: Final = "ce_sequence"
CE_TRANSACTIONEND: Final = "ce_transactionend"

SPEC_VERSION: Final = "1.0"
JSON_CONTENT_TYPE: Final = "application/json"

_REQUIRED_HEADERS = (
    CE_SPECVERSION,
    CE_ID,
    CE_SOURCE,
    CE_TYPE,
    CE_TIME,
    CE_SUBJECT,
    CE_NOTIFICATIONID,
    CE_SEQUENCE,
)
_REQUIRED = frozenset(_REQUIRED_HEADERS)
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)
_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$", re.ASCII)


MAX_POSITION: Final = 2**63 - 1
"""The largest notification id, sequence or transaction end: what a store's 64-bit integer
column holds. A larger one cannot come from a real store (and would overflow the consumer's)."""
_MAX_POSITION_DIGITS: Final = len(str(MAX_POSITION))


class MalformedEnvelope(ValueError):
    """A Kafka message's CloudEvents headers are missing, duplicated or invalid."""

    def __init__(self, message: str, header: str | None = None) -> None:
        super().__init__(message)
        self.header = header


def format_time(value: datetime) -> str:
    """An aware datetime as RFC 3339 in UTC, e.g. ``2020-03-30T09:00:00.25Z``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a CloudEvents time must be timezone-aware")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class EventEnvelope(BaseModel):
    """The CloudEvents metadata of one published contract event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    time: UtcDatetime
    subject: str = Field(min_length=1)
    notification_id: int = Field(ge=0, le=MAX_POSITION)
    correlation_id: str | None = None
    sequence: int = Field(ge=0, le=MAX_POSITION)
    transaction_end: int | None = Field(default=None, ge=0, le=MAX_POSITION)
    """The notification id of the last event stored in the same transaction (the store's
    atomic unit: a redemption and the shop's credit, say), when the producer recorded it."""

    def kafka_key(self) -> bytes:
        """The Kafka message key: the subject (aggregate id), so one aggregate's events keep
        their order on one partition."""
        return self.subject.encode("utf-8")

    def to_headers(self) -> list[tuple[str, bytes]]:
        """The Kafka headers (aiokafka's ``list[tuple[str, bytes]]``) carrying this envelope."""
        headers = [
            (CE_SPECVERSION, SPEC_VERSION),
            (CE_ID, self.id),
            (CE_SOURCE, self.source),
            (CE_TYPE, self.type),
            (CE_TIME, format_time(self.time)),
            (CE_SUBJECT, self.subject),
            (CONTENT_TYPE, JSON_CONTENT_TYPE),
            (CE_NOTIFICATIONID, str(self.notification_id)),
            (CE_SEQUENCE, str(self.sequence)),
        ]
        if self.correlation_id is not None:
            headers.append((CE_CORRELATIONID, self.correlation_id))
        if self.transaction_end is not None:
            headers.append((CE_TRANSACTIONEND, str(self.transaction_end)))
        return [(name, value.encode("utf-8")) for name, value in headers]

    @classmethod
    def from_headers(cls, headers: Sequence[tuple[str, bytes]]) -> Self:
        """Read the envelope from Kafka headers; other headers are ignored.

        Raises :class:`MalformedEnvelope` when a required header is missing, appears twice
        with different values, is not UTF-8 or has an invalid value, when ``ce_specversion`` is
        not ``1.0``, or when ``content-type`` (optional) is not ``application/json``.
        """
        return cls._validated(cls.fields_from_headers(headers))

    @classmethod
    def fields_from_headers(cls, headers: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
        """The envelope's fields (``id``, ``source``, ``type``, ``time``, ``subject``,
        ``notification_id``, ``sequence``, ``correlation_id``) read from Kafka headers and
        checked exactly as :meth:`from_headers` checks them — it raises the same
        :class:`MalformedEnvelope` — without building the model: for readers of millions of
        messages (the auditor's replay)."""
        fields = _usual_fields(headers)
        if fields is not None:
            return fields
        return cls._checked_fields(headers)

    @classmethod
    def _checked_fields(cls, headers: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
        values = _decode(headers)
        if not _REQUIRED.issubset(values):
            missing = [name for name in _REQUIRED_HEADERS if name not in values]
            raise MalformedEnvelope(
                f"missing CloudEvents header(s): {', '.join(missing)}", header=missing[0]
            )
        if values[CE_SPECVERSION] != SPEC_VERSION:
            raise MalformedEnvelope(
                f"unsupported {CE_SPECVERSION} {values[CE_SPECVERSION]!r}, expected {SPEC_VERSION}",
                header=CE_SPECVERSION,
            )
        content_type = values.get(CONTENT_TYPE)
        if content_type is not None and content_type != JSON_CONTENT_TYPE:
            media_type = content_type.split(";", 1)[0].strip().lower()
            if media_type != JSON_CONTENT_TYPE:
                raise MalformedEnvelope(
                    f"unsupported {CONTENT_TYPE} {content_type!r}, expected {JSON_CONTENT_TYPE}",
                    header=CONTENT_TYPE,
                )
        fields: dict[str, Any] = {
            "id": values[CE_ID],
            "source": values[CE_SOURCE],
            "type": values[CE_TYPE],
            "time": _parse_time(values[CE_TIME]),
            "subject": values[CE_SUBJECT],
            "notification_id": _parse_decimal(values, CE_NOTIFICATIONID),
            "sequence": _parse_decimal(values, CE_SEQUENCE),
            "correlation_id": values.get(CE_CORRELATIONID),
            "transaction_end": (
                None
                if values.get(CE_TRANSACTIONEND) is None
                else _parse_decimal(values, CE_TRANSACTIONEND)
            ),
        }
        # The checks above leave one rule to the model: id, source, type and subject are not
        # empty. Only then can validation fail; let it say so, as from_headers does.
        if not (fields["id"] and fields["source"] and fields["type"] and fields["subject"]):
            cls._validated(fields)
        return fields

    @classmethod
    def _validated(cls, fields: dict[str, Any]) -> Self:
        try:
            return cls.model_validate(fields)
        except ValidationError as error:
            first = error.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else ""
            header = _HEADER_OF_FIELD.get(field)
            raise MalformedEnvelope(
                f"invalid CloudEvents header {header}: {first['msg']}", header=header
            ) from error


_HEADER_OF_FIELD = {
    "id": CE_ID,
    "source": CE_SOURCE,
    "type": CE_TYPE,
    "time": CE_TIME,
    "subject": CE_SUBJECT,
    "notification_id": CE_NOTIFICATIONID,
    "sequence": CE_SEQUENCE,
    "correlation_id": CE_CORRELATIONID,
    "transaction_end": CE_TRANSACTIONEND,
}
_KNOWN_HEADERS = frozenset(_HEADER_OF_FIELD.values()) | {CE_SPECVERSION, CONTENT_TYPE}


_SPEC_VERSION_BYTES = SPEC_VERSION.encode()
_JSON_CONTENT_TYPE_BYTES = JSON_CONTENT_TYPE.encode()


def _usual_fields(headers: Sequence[tuple[str, bytes]]) -> dict[str, Any] | None:
    """The envelope's fields when the headers are the usual ones — our headers only, each
    once, as the relay writes them — read in a few steps; None for anything else, which
    :meth:`EventEnvelope._checked_fields` reads (and names the problem of). Where this answers,
    it answers as that does (tested over random header lists): a third of the time of an
    audit's replay was spent reading headers."""
    try:
        raw: dict[str, bytes] = dict(headers)
    except (TypeError, ValueError):
        return None
    if (
        len(raw) != len(headers)
        or not _REQUIRED <= raw.keys() <= _KNOWN_HEADERS
        or raw[CE_SPECVERSION] != _SPEC_VERSION_BYTES
        or raw.get(CONTENT_TYPE, _JSON_CONTENT_TYPE_BYTES) != _JSON_CONTENT_TYPE_BYTES
    ):
        return None
    notification, sequence, time = raw[CE_NOTIFICATIONID], raw[CE_SEQUENCE], raw[CE_TIME]
    correlation = raw.get(CE_CORRELATIONID)
    transaction_end = raw.get(CE_TRANSACTIONEND)
    if (
        type(notification) is not bytes
        or type(sequence) is not bytes
        or type(time) is not bytes
        or not _is_decimal(notification)
        or not _is_decimal(sequence)
        or (CE_CORRELATIONID in raw and type(correlation) is not bytes)
        or (
            CE_TRANSACTIONEND in raw
            and (type(transaction_end) is not bytes or not _is_decimal(transaction_end))
        )
    ):
        return None
    try:
        fields: dict[str, Any] = {
            "id": raw[CE_ID].decode("utf-8"),
            "source": raw[CE_SOURCE].decode("utf-8"),
            "type": raw[CE_TYPE].decode("utf-8"),
            "time": _parse_time(time.decode("utf-8")),
            "subject": raw[CE_SUBJECT].decode("utf-8"),
            "notification_id": int(notification),
            "sequence": int(sequence),
            "correlation_id": None if correlation is None else correlation.decode("utf-8"),
            "transaction_end": None if transaction_end is None else int(transaction_end),
        }
    except (AttributeError, UnicodeDecodeError, MalformedEnvelope):
        return None  # a value that is not bytes, not UTF-8, a bad time: named the long way
    if not (fields["id"] and fields["source"] and fields["type"] and fields["subject"]):
        return None
    return fields


def _is_decimal(value: bytes) -> bool:
    """``_DECIMAL``'s answer for bytes: ASCII digits, no leading zero, within a position's
    range (a longer one is named the long way)."""
    return (
        value.isdigit()
        and (value[0] != 0x30 or len(value) == 1)
        and (
            len(value) < _MAX_POSITION_DIGITS
            or (len(value) == _MAX_POSITION_DIGITS and int(value) <= MAX_POSITION)
        )
    )


def _decode(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    """The known headers' values as text. The usual case — only known headers, each once, every
    value UTF-8 bytes — is read in one pass; anything else goes through :func:`_decode_each`,
    which names the first problem (the answer is the same either way)."""
    try:
        values: dict[str, str | None] = {
            name: raw.decode("utf-8") if type(raw) is bytes else None
            for name, raw in headers
            if name in _KNOWN_HEADERS
        }
    except (UnicodeDecodeError, TypeError, ValueError):
        return _decode_each(headers)
    if len(values) != len(headers) or None in values.values():
        return _decode_each(headers)  # other headers, one repeated, a value not bytes
    return values  # type: ignore[return-value]


def _decode_each(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, raw in headers:
        if name not in _KNOWN_HEADERS:
            continue
        if not isinstance(raw, bytes | bytearray):
            raise MalformedEnvelope(f"header {name} has no value", header=name)
        try:
            value = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedEnvelope(f"header {name} is not UTF-8", header=name) from None
        if name in values and values[name] != value:
            raise MalformedEnvelope(f"header {name} appears twice with different values", name)
        values[name] = value
    return values


def _parse_time(value: str) -> datetime:
    if not _RFC3339.match(value):
        raise MalformedEnvelope(f"{CE_TIME} {value!r} is not an RFC 3339 timestamp", CE_TIME)
    try:
        return datetime.fromisoformat(value.upper()).astimezone(UTC)
    except (ValueError, OverflowError):  # year 1 at +01:00 is before the first UTC year
        raise MalformedEnvelope(f"{CE_TIME} {value!r} is not a valid time", CE_TIME) from None


def _parse_decimal(values: Mapping[str, str], name: str) -> int:
    value = values[name]
    if not _DECIMAL.match(value):
        raise MalformedEnvelope(f"{name} {value!r} is not a non-negative decimal integer", name)
    if len(value) > _MAX_POSITION_DIGITS or int(value) > MAX_POSITION:
        raise MalformedEnvelope(f"{name} {value[:40]!r} is larger than {MAX_POSITION}", name)
    return int(value)


def headers_json_schema() -> dict[str, Any]:
    """JSON Schema of the Kafka headers of every Benecomune message (values as strings)."""
    return {
        "type": "object",
        "description": (
            "CloudEvents 1.0 attributes in Kafka headers (binary content mode). Header values "
            "are UTF-8 strings."
        ),
        "required": [*_REQUIRED_HEADERS, CONTENT_TYPE],
        "properties": {
            CE_SPECVERSION: {"type": "string", "const": SPEC_VERSION},
            CE_ID: {
                "type": "string",
                "minLength": 1,
                "description": "Event id, unique per source.",
            },
            CE_SOURCE: {
                "type": "string",
                "minLength": 1,
                "description": "URI reference of the producing service.",
            },
            CE_TYPE: {
                "type": "string",
                "minLength": 1,
                "description": "Versioned contract type: benecomune.<service>.<Name>.v<N>.",
            },
            CE_TIME: {
                "type": "string",
                "format": "date-time",
                "description": "When the event happened, RFC 3339 in UTC.",
            },
            CE_SUBJECT: {
                "type": "string",
                "minLength": 1,
                "description": "The aggregate the event belongs to; also the Kafka message key.",
            },
            CONTENT_TYPE: {"type": "string", "const": JSON_CONTENT_TYPE},
            CE_NOTIFICATIONID: {
                "type": "string",
                "pattern": _DECIMAL.pattern,
                "description": (
                    "Extension: the producing service's notification-log id (decimal). "
                    "Consumers use it to recognise duplicates."
                ),
            },
            CE_SEQUENCE: {
                "type": "string",
                "pattern": _DECIMAL.pattern,
                "description": "Extension: the aggregate version after the event (decimal).",
            },
            CE_CORRELATIONID: {
                "type": "string",
                "description": "Extension, optional: id of the request that caused the event.",
            },
            CE_TRANSACTIONEND: {
                "type": "string",
                "pattern": _DECIMAL.pattern,
                "description": (
                    "Extension, optional: the notification-log id of the last event stored in "
                    "the same transaction as this one (decimal). A reader that stops part-way "
                    "through a live topic reads on to it, so a transaction is kept whole."
                ),
            },
        },
    }
