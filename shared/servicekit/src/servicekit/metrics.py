"""Prometheus metrics every service exposes on ``GET /metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS_PUBLISHED = Counter(
    "benecomune_events_published_total",
    "Domain events published to Kafka by the outbox relay.",
    ["service", "topic", "type"],
)
RELAY_POSITION = Gauge(
    "benecomune_relay_position",
    "Last notification id the outbox relay has published and recorded.",
    ["service"],
)
RELAY_BACKLOG = Gauge(
    "benecomune_relay_backlog",
    "Notifications recorded in the store but not yet published.",
    ["service"],
)
EVENTS_CONSUMED = Counter(
    "benecomune_events_consumed_total",
    "Messages handled by a consumer, by outcome (processed, duplicate, ignored, dead_letter).",
    ["service", "topic", "outcome"],
)
CONSUMER_LAG = Gauge(
    "benecomune_consumer_lag",
    "Messages between the consumer's position and the end of the partition.",
    ["service", "topic", "partition"],
)
DEAD_LETTERS = Counter(
    "benecomune_dead_letters_total",
    "Messages sent to the dead-letter topic.",
    ["service", "topic", "reason"],
)
WORKER_FAILURES = Counter(
    "benecomune_worker_failures_total",
    "Times a worker (relay, consumer, periodic job) failed and was restarted with back-off.",
    ["worker"],
)
DUPLICATES_SKIPPED = Counter(
    "benecomune_duplicates_skipped_total",
    "Messages a consumer skipped as already processed, by topic: a relay restart makes a few; "
    "a steady stream means a forged or misnumbered notification id is silencing a partition.",
    ["service", "topic"],
)
