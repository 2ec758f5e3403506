"""Benecomune's public event contracts.

Versioned pydantic models of every public domain event, the Kafka topics they are published
on, their CloudEvents metadata in Kafka headers, JSON Schema and AsyncAPI 3.0 export, and the
check that a change to a published event does not break consumers.

Importing this package registers every contract (see :func:`all_contracts`).
"""

from benecomune_contracts import booking, catalog, notifications, vouchers, wallet
from benecomune_contracts._version import __version__
from benecomune_contracts.asyncapi import build_asyncapi
from benecomune_contracts.base import (
    Cents,
    ContractEvent,
    Identifier,
    PositiveCents,
    UtcDatetime,
)
from benecomune_contracts.cloudevents import (
    CE_CORRELATIONID,
    CE_ID,
    CE_NOTIFICATIONID,
    CE_SEQUENCE,
    CE_SOURCE,
    CE_SPECVERSION,
    CE_SUBJECT,
    CE_TIME,
    CE_TYPE,
    CONTENT_TYPE,
    EventEnvelope,
    MalformedEnvelope,
)
from benecomune_contracts.compat import (
    BreakingChange,
    ChangeKind,
    IncompatibleChange,
    check_published,
    find_breaking_changes,
    publish_snapshots,
)
from benecomune_contracts.notifications import NoticeRecorded
from benecomune_contracts.registry import (
    UnknownEventType,
    all_contracts,
    contract,
    contracts_for_topic,
    get_contract,
    parse_event,
)
from benecomune_contracts.schemas import event_json_schema
from benecomune_contracts.topics import (
    ALL_TOPICS,
    BOOKING_TOPIC,
    CATALOG_TOPIC,
    NOTIFICATIONS_TOPIC,
    VOUCHERS_TOPIC,
    WALLET_TOPIC,
    TopicSpec,
    dead_letter_topic,
    get_topic,
)
from benecomune_contracts.vouchers import FundAllocated, FundToppedUp

__all__ = [
    "ALL_TOPICS",
    "BOOKING_TOPIC",
    "CATALOG_TOPIC",
    "CE_CORRELATIONID",
    "CE_ID",
    "CE_NOTIFICATIONID",
    "CE_SEQUENCE",
    "CE_SOURCE",
    "CE_SPECVERSION",
    "CE_SUBJECT",
    "CE_TIME",
    "CE_TYPE",
    "CONTENT_TYPE",
    "NOTIFICATIONS_TOPIC",
    "VOUCHERS_TOPIC",
    "WALLET_TOPIC",
    "BreakingChange",
    "Cents",
    "ChangeKind",
    "ContractEvent",
    "EventEnvelope",
    "FundAllocated",
    "FundToppedUp",
    "Identifier",
    "IncompatibleChange",
    "MalformedEnvelope",
    "NoticeRecorded",
    "PositiveCents",
    "TopicSpec",
    "UnknownEventType",
    "UtcDatetime",
    "__version__",
    "all_contracts",
    "booking",
    "build_asyncapi",
    "catalog",
    "check_published",
    "contract",
    "contracts_for_topic",
    "dead_letter_topic",
    "event_json_schema",
    "find_breaking_changes",
    "get_contract",
    "get_topic",
    "notifications",
    "parse_event",
    "publish_snapshots",
    "vouchers",
    "wallet",
]
