"""The base class of every public event and the field types contract events share.

A contract event is what leaves a service on Kafka: the JSON payload of a message whose
CloudEvents headers (see :mod:`benecomune_contracts.cloudevents`) carry the metadata.

Conventions every contract follows:

* amounts are integer euro cents (never floats), non-negative unless the event says otherwise;
* times are timezone-aware datetimes, normalised to UTC;
* identifiers are opaque strings (pseudonymous ids, never names, fiscal codes or e-mails);
* consumers tolerate fields they do not know (``extra="ignore"``), so adding an *optional*
  field to a published event is compatible; anything else needs a new version of the type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, StringConstraints
from pydantic_core import CoreSchema, core_schema

__all__ = ["Cents", "ContractEvent", "Identifier", "PositiveCents", "UtcDatetime"]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class _InUtc:
    """The core schema of :data:`UtcDatetime`: an aware datetime, converted to UTC. Read from
    JSON, a time already at offset 0 (the relay writes ``Z``) is kept as parsed, with the
    parser's zero-offset tzinfo (equal to ``UTC``, written the same): converting it anyway
    costs a Python call per field, a fifth of reading a whole event. Errors and the JSON
    Schema are those of ``AwareDatetime``."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        aware = core_schema.datetime_schema(tz_constraint="aware")
        converted = core_schema.no_info_after_validator_function(_to_utc, aware)
        at_zero_or_converted = core_schema.union_schema(
            [core_schema.datetime_schema(tz_constraint=0), converted], mode="left_to_right"
        )
        return core_schema.json_or_python_schema(
            json_schema=core_schema.chain_schema([aware, at_zero_or_converted]),
            python_schema=converted,
        )


UtcDatetime = Annotated[datetime, _InUtc]
"""A timezone-aware datetime (naive ones are rejected), in UTC."""

Cents = Annotated[int, Field(strict=True, ge=0)]
"""An amount in euro cents, zero or more (a JSON integer: ``"100"`` or ``1.5`` are rejected)."""

PositiveCents = Annotated[int, Field(strict=True, gt=0)]
"""An amount in euro cents, more than zero."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]
"""An opaque, pseudonymous identifier."""


class ContractEvent(BaseModel):
    """A public domain event. Subclasses set ``type_name`` and ``topic`` and register with
    :func:`benecomune_contracts.registry.contract`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type_name: ClassVar[str]
    """The versioned CloudEvents type, e.g. ``benecomune.vouchers.FundAllocated.v1``."""
    topic: ClassVar[str]
    """The Kafka topic the event is published on, e.g. ``benecomune.vouchers``."""

    def to_json_bytes(self) -> bytes:
        """The Kafka message value: the event as compact UTF-8 JSON."""
        return self.model_dump_json().encode("utf-8")

    @classmethod
    def from_json_bytes(cls, data: bytes) -> Self:
        """Parse a Kafka message value; raises :class:`pydantic.ValidationError` if invalid."""
        return cls.model_validate_json(data)
