"""Creates the Kafka topics a service needs, with their explicit partitions and retention.

The broker does not auto-create topics: a topic born by accident would get default partitions and
a retention that silently deletes the ledger auditors replay.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from benecomune_contracts import TopicSpec

log = structlog.get_logger(__name__)


async def ensure_topics(
    bootstrap: str, specs: Iterable[TopicSpec], prefix: str = "", replication_factor: int = 1
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if prefix + spec.name not in existing]
        if not missing:
            return
        new_topics = [
            NewTopic(
                name=prefix + spec.name,
                num_partitions=spec.partitions,
                replication_factor=replication_factor,
                topic_configs=spec.kafka_config(),
            )
            for spec in missing
        ]
        response = await admin.create_topics(new_topics)
        for topic_error in response.topic_errors:
            name, code = topic_error[0], topic_error[1]
            # Another service may have created it meanwhile; any other error is fatal.
            if code not in (0, TopicAlreadyExistsError.errno):
                raise RuntimeError(f"could not create topic {name}: error code {code}")
        log.info("topics_created", topics=[prefix + spec.name for spec in missing])
    finally:
        await admin.close()
