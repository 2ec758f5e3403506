"""The Kafka topics of Benecomune and their configuration.

One topic per publishing service. The ledger topics (vouchers, wallet) carry public money
movements that an auditor replays from the beginning, so Kafka keeps them forever; the others
keep seven days. Every consuming service has its own dead-letter topic for messages it
cannot process (malformed envelope, unknown type, invalid payload), kept thirty days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ALL_TOPICS",
    "BOOKING_TOPIC",
    "CATALOG_TOPIC",
    "DEAD_LETTER_RETENTION_MS",
    "DEFAULT_RETENTION_MS",
    "NOTIFICATIONS_TOPIC",
    "VOUCHERS_TOPIC",
    "WALLET_TOPIC",
    "TopicSpec",
    "dead_letter_topic",
    "get_topic",
]

_DAY_MS = 24 * 60 * 60 * 1000
DEFAULT_RETENTION_MS = 7 * _DAY_MS
"""Retention of the non-ledger domain topics: seven days."""
DEAD_LETTER_RETENTION_MS = 30 * _DAY_MS
"""Retention of the dead-letter topics: thirty days."""

_TOPIC_NAME = re.compile(r"^benecomune\.[a-z][a-z0-9-]*(\.dlq)?$")
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A Kafka topic: its name, partition count, and whether it is a ledger kept forever.

    ``retention_ms`` overrides the retention of a non-ledger topic (default seven days).
    """

    name: str
    partitions: int
    ledger: bool = False
    retention_ms: int | None = None

    def __post_init__(self) -> None:
        if not _TOPIC_NAME.match(self.name):
            raise ValueError(f"invalid topic name {self.name!r}: expected benecomune.<name>")
        if self.partitions < 1:
            raise ValueError(f"topic {self.name}: partitions must be at least 1")
        if self.ledger and self.retention_ms is not None:
            raise ValueError(f"topic {self.name}: a ledger topic is kept forever")
        if self.retention_ms is not None and self.retention_ms < 1:
            raise ValueError(f"topic {self.name}: retention_ms must be positive")

    @property
    def effective_retention_ms(self) -> int:
        """Milliseconds Kafka keeps a message: -1 (forever) for a ledger topic."""
        if self.ledger:
            return -1
        return DEFAULT_RETENTION_MS if self.retention_ms is None else self.retention_ms

    def kafka_config(self) -> dict[str, str]:
        """The topic-level configuration to create the topic with (Kafka admin API)."""
        return {
            "cleanup.policy": "delete",
            "retention.ms": str(self.effective_retention_ms),
            "retention.bytes": "-1",
        }


VOUCHERS_TOPIC = TopicSpec("benecomune.vouchers", partitions=6, ledger=True)
WALLET_TOPIC = TopicSpec("benecomune.wallet", partitions=6, ledger=True)
CATALOG_TOPIC = TopicSpec("benecomune.catalog", partitions=4)
BOOKING_TOPIC = TopicSpec("benecomune.booking", partitions=4)
NOTIFICATIONS_TOPIC = TopicSpec("benecomune.notifications", partitions=4)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    VOUCHERS_TOPIC,
    WALLET_TOPIC,
    CATALOG_TOPIC,
    BOOKING_TOPIC,
    NOTIFICATIONS_TOPIC,
)
"""The domain topics, one per publishing service (dead-letter topics are not included)."""

_BY_NAME = {spec.name: spec for spec in ALL_TOPICS}


def get_topic(name: str) -> TopicSpec:
    """The domain topic called ``name``; raises :class:`KeyError` if there is none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown topic {name!r}; known: {', '.join(sorted(_BY_NAME))}") from None


def dead_letter_topic(consumer_service: str) -> TopicSpec:
    """The dead-letter topic of a consuming service: ``benecomune.<service>.dlq``.

    One partition (dead letters stay in arrival order), kept thirty days.
    """
    if not _SERVICE_NAME.match(consumer_service):
        raise ValueError(f"invalid service name {consumer_service!r}")
    return TopicSpec(
        f"benecomune.{consumer_service}.dlq",
        partitions=1,
        retention_ms=DEAD_LETTER_RETENTION_MS,
    )
