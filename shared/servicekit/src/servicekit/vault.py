"""A personal-data vault for crypto-shredding: personal data can be erased without rewriting
the ledger.

Events are immutable, yet a fragile person has the right to have their personal data erased.
So an event never carries personal data in clear: a service *seals* it with a key that belongs
to one *subject* (a household, a beneficiary, an employee) and puts the sealed token in the
event. Erasing the subject destroys its key, and every token ever sealed for it becomes
unreadable noise: the ledger stays complete and verifiable, the person is gone from it.

Keys live in their own table, ``personal_data_keys``, one row per subject:

==============  ==========================================================================
subject_id      the subject (TEXT, primary key)
key             a random 256-bit AES key, or that key wrapped with the master key; NULL
                once the subject is erased
created_at      when the key was created
erased_at       when the subject was erased (NULL while the key exists)
==============  ==========================================================================

An erased subject keeps its row as a tombstone, so it stays erased: nothing new can be sealed
for it (:class:`SubjectErased`), and opening one of its tokens returns ``None``.

Where the table lives (:meth:`PersonalDataVault.from_settings`): with the SQLite store, in a
file beside the event store, ``<data_dir>/<service>-vault.sqlite``; with PostgreSQL, in the
same database and the same schema as the service's event store.

Tokens are ``"v1." + base64url(nonce ‖ AES-256-GCM ciphertext)``: a fresh random 96-bit nonce
per token, the subject id as associated data (a token cannot be opened as another subject's),
the data as compact UTF-8 JSON. They do not reveal the subject.

Physical erasure. The SQLite file is opened with ``secure_delete`` (freed content is
overwritten with zeros) and checkpointed after an erasure, so no copy of the key stays in the
file or its write-ahead log. PostgreSQL keeps the old row version until (auto)vacuum reclaims
it. In both, backups and archived WAL hold keys until they expire: keep the vault's backup
retention as short as the law on erasure requires.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

from servicekit.settings import ServiceSettings

__all__ = [
    "TABLE_NAME",
    "PersonalDataVault",
    "SubjectErased",
    "SubjectId",
    "UnknownSubject",
    "VaultError",
    "vault_sqlite_path",
]

TABLE_NAME = "personal_data_keys"
TOKEN_PREFIX = "v1."
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, as GCM recommends
TAG_BYTES = 16
# A key wrapped with the master key: nonce ‖ encrypted key ‖ tag.
WRAPPED_KEY_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES
_WRAP_CONTEXT = b"benecomune-vault-key\x00"
_TOKEN_BODY = re.compile(r"[A-Za-z0-9_-]+")

SubjectId = str | UUID
"""Whose data it is: any non-empty string; a UUID stands for its canonical string form."""


class VaultError(Exception):
    """A token cannot be opened (altered, malformed, another subject's) or a key is unusable."""


class UnknownSubject(VaultError):
    """The vault has no key for the subject, erased or not: the token is not this subject's,
    or the vault is not the one the token was sealed with."""


class SubjectErased(VaultError):
    """Nothing can be sealed for an erased subject: erasure is for ever."""


def vault_sqlite_path(settings: ServiceSettings) -> Path:
    """The vault's SQLite file, beside the service's event store."""
    return settings.data_dir / f"{settings.service_name}-vault.sqlite"


def _subject(subject_id: SubjectId) -> str:
    subject = str(subject_id) if isinstance(subject_id, UUID) else subject_id
    if not isinstance(subject, str) or not subject:
        raise ValueError(f"a subject id must be a non-empty string or a UUID, not {subject_id!r}")
    return subject


def _now() -> datetime:
    return datetime.now(UTC)


class PersonalDataVault:
    """Seals personal data with one key per subject; erasing the subject shreds its data.

    Thread-safe: every call takes a connection from the vault's own engine (its pool) and
    gives it back, so one vault serves FastAPI's whole thread pool. Several processes may share
    one vault database: key creation is race-safe and every call reads the key afresh, so an
    erasure made by one process holds at once in every other.
    """

    def __init__(
        self,
        url: str | URL,
        *,
        schema: str | None = None,
        master_key: bytes | None = None,
    ) -> None:
        """``url`` is a SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://…``);
        ``schema`` the PostgreSQL schema of the table (it must exist). With ``master_key`` (32
        bytes) every subject key is stored encrypted with it, bound to its subject."""
        if master_key is not None and len(master_key) != KEY_BYTES:
            raise ValueError(f"the master key must be {KEY_BYTES} bytes, not {len(master_key)}")
        self._master = AESGCM(master_key) if master_key is not None else None
        self.engine: Engine = _create_engine(url)
        self._is_sqlite = self.engine.dialect.name == "sqlite"
        self._checkpoint_lock = threading.Lock()
        metadata = MetaData(schema=schema)
        self.table = Table(
            TABLE_NAME,
            metadata,
            Column("subject_id", Text, primary_key=True),
            Column("key", LargeBinary, nullable=True),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("erased_at", DateTime(timezone=True), nullable=True),
            # A row has a key or has been erased, never both and never neither.
            CheckConstraint(
                "(key IS NULL) = (erased_at IS NOT NULL)", name="personal_data_keys_key_or_erased"
            ),
        )
        try:
            if self.engine.dialect.name not in ("sqlite", "postgresql"):
                raise ValueError(
                    f"the vault runs on SQLite or PostgreSQL, not {self.engine.dialect.name}"
                )
            self._create_table(metadata)
        except BaseException:
            self.engine.dispose()
            raise

    @classmethod
    def from_settings(
        cls, settings: ServiceSettings, *, master_key: bytes | None = None
    ) -> PersonalDataVault:
        """The vault of the service that ``settings`` configure, on the store it uses."""
        if settings.store == "sqlite":
            path = vault_sqlite_path(settings)
            path.parent.mkdir(parents=True, exist_ok=True)
            return cls(URL.create("sqlite", database=str(path)), master_key=master_key)
        from servicekit.store import ensure_postgres_schema

        schema = ensure_postgres_schema(settings)
        url = URL.create(
            "postgresql+psycopg",
            username=settings.postgres_user,
            password=settings.postgres_password.get_secret_value(),
            host=settings.postgres_host,
            port=settings.postgres_port,
            database=settings.postgres_dbname,
        )
        return cls(url, schema=schema, master_key=master_key)

    # -- the API --------------------------------------------------------------------------------

    def seal(self, subject_id: SubjectId, data: Mapping[str, Any]) -> str:
        """Encrypt ``data`` (JSON-serialisable) for the subject; returns a text token.

        The subject's key is created on first use (and committed before the token is returned).
        Raises :class:`SubjectErased` if the subject was erased, ``TypeError`` if ``data`` is
        not a JSON-serialisable mapping.
        """
        subject = _subject(subject_id)
        if not isinstance(data, Mapping):
            raise TypeError(f"the vault seals a mapping, not {type(data).__name__}")
        plaintext = json.dumps(dict(data), ensure_ascii=False, separators=(",", ":")).encode()
        key = self._key_for_sealing(subject)
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + AESGCM(key).encrypt(nonce, plaintext, subject.encode())
        return TOKEN_PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, subject_id: SubjectId, token: str) -> dict[str, Any] | None:
        """The data sealed in ``token``, or ``None`` if the subject was erased.

        Raises :class:`VaultError` if the token is malformed, was altered, or was sealed for
        another subject (:class:`UnknownSubject` if this vault never had a key for it).
        """
        subject = _subject(subject_id)
        sealed = _decode_token(token)
        key = self._stored_key(subject)
        if key is None:
            return None
        nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            plaintext = AESGCM(key).decrypt(nonce, ciphertext, subject.encode())
        except InvalidTag:
            raise VaultError(
                f"cannot open the token for subject {subject!r}: it was sealed for another "
                "subject or it has been altered"
            ) from None
        data = json.loads(plaintext)
        if not isinstance(data, dict):
            raise VaultError("the token does not hold a JSON object")
        return data

    def erase(self, subject_id: SubjectId) -> bool:
        """Destroy the subject's key: every token sealed for it becomes unreadable for ever.

        Idempotent. Returns whether a key was destroyed (False if the subject was already
        erased or never had one). Either way the subject is erased afterwards: nothing can be
        sealed for it any more.
        """
        subject = _subject(subject_id)
        now = _now()
        with self.engine.begin() as connection:
            # A subject never seen gets a tombstone, so it stays erased. Insert first: on
            # PostgreSQL this waits for a concurrent first seal, whose key the update destroys.
            # (RETURNING, not rowcount: psycopg reports no rowcount for this INSERT.)
            tombstone = self._insert_ignore(
                subject_id=subject, key=None, created_at=now, erased_at=now
            ).returning(self.table.c.subject_id)
            if connection.execute(tombstone).first() is not None:
                return False
            erased = connection.execute(
                update(self.table)
                .where(self.table.c.subject_id == subject, self.table.c.erased_at.is_(None))
                .values(key=None, erased_at=now)
            ).rowcount
        if erased and self._is_sqlite:
            self._checkpoint()
        return bool(erased)

    def is_erased(self, subject_id: SubjectId) -> bool:
        subject = _subject(subject_id)
        with self.engine.connect() as connection:
            erased_at = connection.execute(
                select(self.table.c.erased_at).where(self.table.c.subject_id == subject)
            ).scalar_one_or_none()
        return erased_at is not None

    def close(self) -> None:
        """Close the vault's connections (it reconnects if used again)."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        wrapped = ", master key" if self._master is not None else ""
        return f"PersonalDataVault({self.engine.url!r}{wrapped})"

    # -- keys -------------------------------------------------------------------------------------

    def _key_for_sealing(self, subject: str) -> bytes:
        # Read first, in its own transaction: the common case writes nothing. (On SQLite a
        # transaction that reads and then writes can fail at once if another writer got in.)
        with self.engine.connect() as connection:
            row = self._select_key(connection, subject)
        if row is None:
            # Race-safe creation: whoever inserts first wins, everyone reads the winner's key.
            with self.engine.begin() as connection:
                connection.execute(
                    self._insert_ignore(
                        subject_id=subject,
                        key=self._wrap(subject, AESGCM.generate_key(bit_length=256)),
                        created_at=_now(),
                        erased_at=None,
                    )
                )
                row = self._select_key(connection, subject)
        if row is None:  # pragma: no cover - the row was just inserted or already there
            raise VaultError(f"no key could be created for subject {subject!r}")
        stored, erased_at = row
        if erased_at is not None or stored is None:
            raise SubjectErased(f"subject {subject!r} was erased: nothing can be sealed for it")
        return self._unwrap(subject, stored)

    def _stored_key(self, subject: str) -> bytes | None:
        """The subject's key; ``None`` if it was erased; :class:`UnknownSubject` if it has none."""
        with self.engine.connect() as connection:
            row = self._select_key(connection, subject)
        if row is None:
            raise UnknownSubject(f"the vault has no key for subject {subject!r}")
        stored, erased_at = row
        if erased_at is not None or stored is None:
            return None
        return self._unwrap(subject, stored)

    def _select_key(
        self, connection: Connection, subject: str
    ) -> tuple[bytes | None, datetime | None] | None:
        row = connection.execute(
            select(self.table.c.key, self.table.c.erased_at).where(
                self.table.c.subject_id == subject
            )
        ).one_or_none()
        return None if row is None else (row[0], row[1])

    def _wrap(self, subject: str, key: bytes) -> bytes:
        if self._master is None:
            return key
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._master.encrypt(nonce, key, _WRAP_CONTEXT + subject.encode())

    def _unwrap(self, subject: str, stored: bytes) -> bytes:
        stored = bytes(stored)  # whatever buffer type the driver hands back
        if self._master is None:
            if len(stored) != KEY_BYTES:
                raise VaultError(
                    f"the key of subject {subject!r} is wrapped with a master key, and this "
                    "vault has none"
                )
            return stored
        if len(stored) != WRAPPED_KEY_BYTES:
            raise VaultError(
                f"the key of subject {subject!r} is not wrapped, and this vault has a master key"
            )
        try:
            return self._master.decrypt(
                stored[:NONCE_BYTES], stored[NONCE_BYTES:], _WRAP_CONTEXT + subject.encode()
            )
        except InvalidTag:
            raise VaultError(
                f"the key of subject {subject!r} cannot be unwrapped: wrong master key, or the "
                "stored key was altered or belongs to another subject"
            ) from None

    # -- the database -----------------------------------------------------------------------------

    def _insert_ignore(self, **values: Any) -> Any:
        """INSERT … ON CONFLICT (subject_id) DO NOTHING, in the engine's dialect."""
        insert = sqlite.insert if self._is_sqlite else postgresql.insert
        return (
            insert(self.table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[self.table.c.subject_id])
        )

    def _create_table(self, metadata: MetaData) -> None:
        try:
            metadata.create_all(self.engine)
        except DBAPIError:
            # Another process created it between the check and the CREATE: that is fine.
            if not inspect(self.engine).has_table(TABLE_NAME, schema=self.table.schema):
                raise

    def _checkpoint(self) -> None:
        """Move the write-ahead log into the file and empty it, so the old page holding the
        destroyed key survives nowhere (best effort: a long reader may hold the log)."""
        with self._checkpoint_lock, self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _create_engine(url: str | URL) -> Engine:
    url = make_url(url)
    options: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        # FastAPI's thread pool hands a pooled connection to any thread; writers from other
        # threads and processes wait for the lock rather than fail.
        options = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    elif url.get_backend_name() == "postgresql":
        options = {"pool_size": 5, "max_overflow": 5, "connect_args": {"connect_timeout": 10}}
    engine = create_engine(url, pool_pre_ping=True, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        # Freed content is overwritten with zeros: a destroyed key leaves no trace in the file.
        cursor.execute("PRAGMA secure_delete = ON")
    finally:
        cursor.close()


def _decode_token(token: str) -> bytes:
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        raise VaultError(f"not a vault token (it must start with {TOKEN_PREFIX!r})")
    body = token[len(TOKEN_PREFIX) :]
    if not _TOKEN_BODY.fullmatch(body):
        raise VaultError("not a vault token: its body is not base64url")
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise VaultError("not a vault token: its body is not base64url") from None
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise VaultError("not a vault token: too short")
    return sealed
