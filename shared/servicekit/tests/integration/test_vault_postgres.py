"""The personal-data vault on PostgreSQL: its table sits in the service's schema, beside the
event store, and sealing, erasure and race-safe key creation behave as on SQLite."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from devstack.postgres import PostgresCluster
from servicekit.settings import ServiceSettings
from servicekit.vault import PersonalDataVault, SubjectErased, UnknownSubject, VaultError

pytestmark = pytest.mark.postgres

HOUSEHOLD = {"nome": "Nicolò Verità", "indirizzo": "Via Garibaldi 3, Biella — 2° piano"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    with PostgresCluster(tmp_path_factory.mktemp("vault-pg")) as cluster:
        yield cluster


@pytest.fixture
def settings(cluster: PostgresCluster, tmp_path: Path) -> ServiceSettings:
    """A fresh database per test, as a service configured for PostgreSQL sees it."""
    dbname = f"t_{uuid.uuid4().hex[:12]}"
    cluster.create_database(dbname)
    return ServiceSettings(
        service_name="vouchers",
        store="postgres",
        data_dir=tmp_path / "data",
        postgres_host=cluster.host,
        postgres_port=cluster.port,
        postgres_dbname=dbname,
        postgres_user=cluster.user,
        postgres_password="unused-trust-auth",
    )


@pytest.fixture
def vault(settings: ServiceSettings) -> Iterator[PersonalDataVault]:
    with PersonalDataVault.from_settings(settings) as vault:
        yield vault


def connect(settings: ServiceSettings) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=settings.postgres_host,
        port=settings.postgres_port,
        dbname=settings.postgres_dbname,
        user=settings.postgres_user,
        autocommit=True,
    )


def stored_key(settings: ServiceSettings, subject: str) -> bytes | None:
    with connect(settings) as connection:
        row = connection.execute(
            "SELECT key FROM vouchers.personal_data_keys WHERE subject_id = %s", (subject,)
        ).fetchone()
    assert row is not None
    key = row[0]
    assert key is None or isinstance(key, bytes)
    return key


def test_the_vault_table_lives_in_the_services_schema(
    vault: PersonalDataVault, settings: ServiceSettings
) -> None:
    vault.seal("household-1", HOUSEHOLD)

    with connect(settings) as connection:
        columns = connection.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'vouchers' AND table_name = 'personal_data_keys' "
            "ORDER BY ordinal_position"
        ).fetchall()
    assert columns == [
        ("subject_id", "text", "NO"),
        ("key", "bytea", "YES"),
        ("created_at", "timestamp with time zone", "NO"),
        ("erased_at", "timestamp with time zone", "YES"),
    ]
    key = stored_key(settings, "household-1")
    assert key is not None and len(key) == 32


def test_sealing_opening_and_erasure_work_on_postgresql(vault: PersonalDataVault) -> None:
    token = vault.seal("household-1", HOUSEHOLD)
    other = vault.seal("household-2", {"nome": "Lucía"})

    assert vault.open("household-1", token) == HOUSEHOLD
    with pytest.raises(VaultError, match="another subject"):
        vault.open("household-2", token)
    with pytest.raises(UnknownSubject):
        vault.open("household-3", token)

    assert vault.erase("household-1") is True
    assert vault.erase("household-1") is False
    assert vault.is_erased("household-1")
    assert vault.open("household-1", token) is None
    assert vault.open("household-2", other) == {"nome": "Lucía"}
    with pytest.raises(SubjectErased):
        vault.seal("household-1", HOUSEHOLD)

    assert vault.erase("household-never-seen") is False
    assert vault.is_erased("household-never-seen")
    with pytest.raises(SubjectErased):
        vault.seal("household-never-seen", HOUSEHOLD)


def test_keys_and_erasures_are_shared_by_every_vault_on_the_database(
    settings: ServiceSettings,
) -> None:
    master = b"\x05" * 32
    with (
        PersonalDataVault.from_settings(settings, master_key=master) as api,
        PersonalDataVault.from_settings(settings, master_key=master) as worker,
    ):
        token = api.seal("household-1", HOUSEHOLD)
        assert worker.open("household-1", token) == HOUSEHOLD
        wrapped = stored_key(settings, "household-1")
        assert wrapped is not None and len(wrapped) == 12 + 32 + 16

        worker.erase("household-1")

        assert api.open("household-1", token) is None
        assert stored_key(settings, "household-1") is None


def test_eight_threads_sealing_for_the_same_new_subject_end_up_with_one_key(
    vault: PersonalDataVault,
) -> None:
    start = threading.Barrier(8)
    tokens: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def seal(n: int) -> None:
        try:
            start.wait(timeout=30)
            token = vault.seal("household-new", {"n": n})
        except BaseException as error:
            with lock:
                errors.append(error)
        else:
            with lock:
                tokens.append(token)

    threads = [threading.Thread(target=seal, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    opened = [vault.open("household-new", token) for token in tokens]
    assert sorted(data["n"] for data in opened if data is not None) == list(range(8))


def seal_while_erasing(vault: PersonalDataVault, subject: str) -> list[str]:
    """Seal for a new subject and erase it at the same moment; the tokens sealed, if any."""
    start = threading.Barrier(2)
    tokens: list[str] = []

    def seal() -> None:
        start.wait(timeout=30)
        with contextlib.suppress(SubjectErased):
            tokens.append(vault.seal(subject, HOUSEHOLD))

    def erase() -> None:
        start.wait(timeout=30)
        vault.erase(subject)

    threads = [threading.Thread(target=seal), threading.Thread(target=erase)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return tokens


def test_an_erasure_racing_the_first_seal_always_ends_erased(vault: PersonalDataVault) -> None:
    for round_ in range(30):
        subject = f"household-race-{round_}"

        tokens = seal_while_erasing(vault, subject)

        assert vault.is_erased(subject)
        assert [vault.open(subject, token) for token in tokens] == [None] * len(tokens)


def test_a_second_vault_starts_on_an_existing_table(settings: ServiceSettings) -> None:
    with PersonalDataVault.from_settings(settings) as first:
        token = first.seal("household-1", HOUSEHOLD)
    with PersonalDataVault.from_settings(settings) as second:
        assert second.open("household-1", token) == HOUSEHOLD
