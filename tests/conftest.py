"""The real Kafka broker (KRaft, a JVM process from the Maven Central jars) shared by every test
of the session that needs one: the integration tests and the portal's browser journeys."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from devstack.kafka import KafkaBroker
from devstack.ports import free_port


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    existing = os.environ.get("BENECOMUNE_TEST_KAFKA")
    if existing:  # a broker the developer already runs
        yield existing
        return
    broker = KafkaBroker(
        data_dir=tmp_path_factory.mktemp("kafka"),
        port=free_port(),
        controller_port=free_port(),
    )
    broker.fetch_jars()
    broker.ensure_formatted()
    broker.start()
    try:
        broker.wait_ready(timeout=90)
        yield broker.bootstrap
    finally:
        broker.stop()
