"""Wait until the Kafka topics of Benecomune exist, then exit 0 (an init container's job).

In Kubernetes the topics are made by Strimzi's topic operator from the KafkaTopic resources,
with three replicas and the contract's retention. A service that starts first would create the
topics it misses itself (servicekit.topics.ensure_topics), with a single replica; so the pod
that runs a service's relay and consumer waits here for every domain topic and for the
service's own dead-letter topic, with the territory's prefix.

    python wait_for_topics.py <service>

Reads the same settings as the service (BENECOMUNE_KAFKA_BOOTSTRAP,
BENECOMUNE_KAFKA_TOPIC_PREFIX, or their <SERVICE>_ overrides). Gives up with exit code 1 after
WAIT_FOR_TOPICS_TIMEOUT_SECONDS (default 600), so that Kubernetes restarts it with back-off.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient
from benecomune_contracts import ALL_TOPICS, dead_letter_topic
from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings

POLL_SECONDS = 5.0


def settings_for(service: str) -> ServiceSettings:
    class Settings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix=f"{service.upper()}_", extra="ignore")

    return Settings(service_name=service)


def wanted_topics(service: str, settings: ServiceSettings) -> set[str]:
    names = [spec.name for spec in ALL_TOPICS] + [dead_letter_topic(service).name]
    return {settings.topic(name) for name in names}


async def existing_topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        await asyncio.wait_for(admin.start(), timeout=15)
        return set(await asyncio.wait_for(admin.list_topics(), timeout=15))
    finally:
        await admin.close()


async def wait(service: str, give_up_after: float) -> int:
    settings = settings_for(service)
    wanted = wanted_topics(service, settings)
    deadline = time.monotonic() + give_up_after
    while True:
        try:
            missing = wanted - await existing_topics(settings.kafka_bootstrap)
            problem = f"missing topics: {', '.join(sorted(missing))}" if missing else ""
        except Exception as error:  # Kafka not up yet: say why and try again
            problem = f"kafka at {settings.kafka_bootstrap}: {type(error).__name__}: {error}"
        if not problem:
            print(f"all {len(wanted)} topics present: {', '.join(sorted(wanted))}", flush=True)
            return 0
        if time.monotonic() >= deadline:
            print(f"gave up after {give_up_after:.0f} s; {problem}", file=sys.stderr, flush=True)
            return 1
        print(f"waiting: {problem}", flush=True)
        await asyncio.sleep(POLL_SECONDS)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} <service>", file=sys.stderr)
        return 2
    timeout = float(os.environ.get("WAIT_FOR_TOPICS_TIMEOUT_SECONDS", "600"))
    return asyncio.run(wait(argv[1], timeout))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
