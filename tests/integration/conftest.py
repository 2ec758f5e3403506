"""Real components for the integration tests: the session's Kafka broker (``tests/conftest.py``),
and a throw-away PostgreSQL cluster when a test asks for it. Each test gets its own topic prefix,
so tests never read each other's events."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from devstack.postgres import PostgresCluster

from .support import StackConfig


@pytest.fixture(scope="session")
def postgres_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    from devstack.postgres import PostgresCluster

    cluster = PostgresCluster(data_dir=tmp_path_factory.mktemp("pg"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_settings(postgres_cluster: PostgresCluster) -> dict[str, str]:
    """A fresh database for one test, as BENECOMUNE_POSTGRES_* values."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres_cluster.create_database(name)
    return {
        "host": postgres_cluster.host,
        "port": str(postgres_cluster.port),
        "dbname": name,
        "user": postgres_cluster.user,
        "password": "unused-trust-auth",
    }


@pytest.fixture
def stack_config(kafka_bootstrap: str, tmp_path: Path) -> StackConfig:
    return StackConfig(
        bootstrap=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        root=tmp_path / "data",
        keys_dir=tmp_path / "keys",
    )
