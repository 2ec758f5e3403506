"""Throw-away PostgreSQL clusters: start as any user (root included), accept connections."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from devstack.postgres import PostgresCluster

pytestmark = pytest.mark.postgres


def test_postgres_cluster_accepts_connections(tmp_path: Path) -> None:
    cluster = PostgresCluster(tmp_path / "pg")
    try:
        cluster.start()
        assert cluster.is_running()
        dsn = cluster.create_database("selftest")
        with psycopg.connect(dsn, connect_timeout=10, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY, name text)")
            conn.execute("INSERT INTO t VALUES (1, 'Biella')")
            row = conn.execute("SELECT current_database(), current_user, name FROM t").fetchone()
        assert row == ("selftest", "benecomune", "Biella")
        with psycopg.connect(cluster.dsn, connect_timeout=10) as conn:
            assert conn.execute("SHOW server_encoding").fetchone() == ("UTF8",)
    finally:
        cluster.stop()
    assert not cluster.is_running()


def test_postgres_cluster_restarts_on_its_data(tmp_path: Path) -> None:
    with PostgresCluster(tmp_path / "pg") as cluster:
        cluster.create_database("kept")
    with (
        PostgresCluster(tmp_path / "pg") as cluster,
        psycopg.connect(cluster.dsn_for("kept"), connect_timeout=10) as conn,
    ):
        assert conn.execute("SELECT 1").fetchone() == (1,)
