"""Kafka topics and their configuration."""

from __future__ import annotations

import pytest
from benecomune_contracts import ALL_TOPICS, TopicSpec, dead_letter_topic, get_topic


def test_there_is_one_domain_topic_per_publishing_service() -> None:
    assert {(t.name, t.partitions, t.ledger) for t in ALL_TOPICS} == {
        ("benecomune.vouchers", 6, True),
        ("benecomune.wallet", 6, True),
        ("benecomune.catalog", 4, False),
        ("benecomune.booking", 4, False),
        ("benecomune.notifications", 4, False),
    }


@pytest.mark.parametrize("name", ["benecomune.vouchers", "benecomune.wallet"])
def test_ledger_topics_are_kept_forever(name: str) -> None:
    assert get_topic(name).kafka_config() == {
        "cleanup.policy": "delete",
        "retention.ms": "-1",
        "retention.bytes": "-1",
    }


@pytest.mark.parametrize("name", ["benecomune.catalog", "benecomune.booking"])
def test_other_domain_topics_are_kept_seven_days(name: str) -> None:
    config = get_topic(name).kafka_config()
    assert config["retention.ms"] == str(7 * 24 * 3600 * 1000)
    assert config["cleanup.policy"] == "delete"


def test_a_consumer_has_a_dead_letter_topic_kept_thirty_days() -> None:
    spec = dead_letter_topic("notifications")
    assert spec.name == "benecomune.notifications.dlq"
    assert spec.partitions in (1, 2)
    assert not spec.ledger
    assert spec.kafka_config()["retention.ms"] == str(30 * 24 * 3600 * 1000)
    assert spec not in ALL_TOPICS


@pytest.mark.parametrize("service", ["", "Vouchers", "a.b", "x y"])
def test_a_dead_letter_topic_needs_a_plain_service_name(service: str) -> None:
    with pytest.raises(ValueError, match="service name"):
        dead_letter_topic(service)


def test_kafka_config_values_are_strings() -> None:
    for spec in (*ALL_TOPICS, dead_letter_topic("booking")):
        assert all(isinstance(value, str) for value in spec.kafka_config().values())


def test_an_unknown_topic_is_a_key_error() -> None:
    with pytest.raises(KeyError, match=r"benecomune\.pets"):
        get_topic("benecomune.pets")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "vouchers", "partitions": 1}, "invalid topic name"),
        ({"name": "benecomune.x", "partitions": 0}, "partitions"),
        ({"name": "benecomune.x", "partitions": 1, "ledger": True, "retention_ms": 5}, "forever"),
        ({"name": "benecomune.x", "partitions": 1, "retention_ms": 0}, "positive"),
    ],
)
def test_an_inconsistent_topic_spec_is_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TopicSpec(**kwargs)  # type: ignore[arg-type]
