"""Read models: a service's own events projected into SQL tables (SQLAlchemy), for every list
and lookup query, so that no query reads the whole event log.

The event store stays the truth; a read model is a disposable view of it, rebuilt from the
notification log at any time. A :class:`Projection` declares its tables (a ``MetaData``), a
version and how each domain event changes its rows (``apply``); a :class:`ReadModelStore` keeps
the tables and the projection's **position** (the last notification applied) and moves both in
the **same transaction**, with a conditional update: two processes projecting at once cannot
both apply the same events (the second one's transaction is rolled back or waits).

- Where it lives: a SQLite file beside the SQLite event store, or, with the PostgreSQL store, the
  same database and schema as the events (:func:`read_model_url`).
- Catch-up: on the service's start and before each query (reads see the writes made before
  them, by this process or any other; cheap when nothing is new).
- Versions: tables written by another version of the projection are dropped and filled again
  from the log; ``python -m <service> rebuild-read-models`` rebuilds them from zero.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    Column,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from servicekit.settings import ServiceSettings
    from servicekit.store import ServiceApplication

BATCH = 500
NotificationSource = Callable[[int, int], list[tuple[int, object]]]
"""(start, limit) → the (notification id, domain event) pairs from ``start`` on."""

_positions_metadata = MetaData()
positions = Table(
    "projection_positions",
    _positions_metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as naive UTC (SQLite keeps no zone), read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the read model")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Projection:
    """What a read model holds and how events change it. Subclasses set ``name``, ``version``
    and ``metadata``, and define their **own** dispatcher for the events they need —
    registering on ``Projection.apply`` would put every projection's handlers in one shared
    registry, where two projections of the same event would override each other:

    .. code-block:: python

        class Rounds(Projection):
            @singledispatchmethod
            def apply(self, domain_event: object, connection: Connection) -> None:
                pass  # events it does not need

            @apply.register
            def _(self, e: Round.Opened, connection: Connection) -> None: ...
    """

    name: ClassVar[str]
    version: ClassVar[int]
    metadata: ClassVar[MetaData]

    def apply(self, domain_event: object, connection: Connection) -> None:
        """Change the rows for ``domain_event`` (a subclass's own ``singledispatchmethod``)."""
        raise NotImplementedError

    def create_extra(self, connection: Connection) -> None:
        """Anything ``metadata`` cannot declare (a full-text index), created with the tables."""

    def drop_extra(self, connection: Connection) -> None:
        """Drop what :meth:`create_extra` created."""


def read_model_url(settings: ServiceSettings, file_name: str) -> tuple[str, str | None]:
    """The SQLAlchemy URL of a service's read model and its PostgreSQL schema: a SQLite file
    ``file_name`` beside the SQLite store, or the store's own database and schema."""
    if settings.store == "postgres":
        url = URL.create(
            "postgresql+psycopg",
            username=settings.postgres_user,
            password=settings.postgres_password.get_secret_value(),
            host=settings.postgres_host,
            port=settings.postgres_port,
            database=settings.postgres_dbname,
        ).render_as_string(hide_password=False)
        return url, settings.postgres_schema or settings.service_name
    return f"sqlite:///{settings.data_dir / file_name}", None


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _search_path(schema: str) -> Callable[[Any, Any], None]:
    """Every PostgreSQL connection of the read model works in the service's schema."""
    quoted = '"' + schema.replace('"', '""') + '"'

    def on_connect(dbapi_connection: Any, _: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET SESSION search_path TO {quoted}")
        cursor.close()
        dbapi_connection.autocommit = autocommit

    return on_connect


def _lock_key(name: str) -> int:
    return int.from_bytes(name.encode()[:7].ljust(7, b"\0"), "big")


class ReadModelStore:
    """The tables of one projection and its position, in one database."""

    def __init__(self, projection: Projection, url: str, schema: str | None = None) -> None:
        self.projection = projection
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.is_postgres = self.engine.dialect.name == "postgresql"
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        elif self.is_postgres and schema:
            event.listen(self.engine, "connect", _search_path(schema), insert=True)
        self._lock = threading.Lock()
        self._name = projection.name
        self._version_row = f"{projection.name}:schema-version"
        try:
            self.create()
        except BaseException:
            self.engine.dispose()
            raise

    def create(self, *, drop: bool = False) -> None:
        """Create the tables, or drop and re-create them when another version wrote them (or
        ``drop``): they then fill again from the log."""
        with self.engine.begin() as connection:
            if self.is_postgres:  # one process at a time creates or rebuilds
                connection.execute(select(func.pg_advisory_xact_lock(_lock_key(self._name))))
            _positions_metadata.create_all(connection)
            if drop or self._stored_version(connection) != self.projection.version:
                self.projection.metadata.drop_all(connection)
                self.projection.drop_extra(connection)
                connection.execute(
                    positions.delete().where(positions.c.name.in_([self._name, self._version_row]))
                )
            self.projection.metadata.create_all(connection)
            self.projection.create_extra(connection)
            if self._stored_version(connection) is None:
                connection.execute(
                    insert(positions),
                    [
                        {"name": self._name, "position": 0},
                        {"name": self._version_row, "position": self.projection.version},
                    ],
                )

    def _stored_version(self, connection: Connection) -> int | None:
        if not inspect(connection).has_table(positions.name):
            return None
        version = connection.execute(
            select(positions.c.position).where(positions.c.name == self._version_row)
        ).scalar_one_or_none()
        return None if version is None else int(version)

    def close(self) -> None:
        self.engine.dispose()

    def position(self) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    select(positions.c.position).where(positions.c.name == self._name)
                ).scalar_one()
            )

    def catch_up(self, source: NotificationSource, up_to: int, max_batches: int = 100_000) -> int:
        """Apply every event after the recorded position up to notification ``up_to``; returns
        how many this call applied."""
        applied = 0
        with self._lock:
            for _ in range(max_batches):
                start = self.position()
                if start >= up_to:
                    break
                batch = source(start + 1, BATCH)
                if not batch:
                    break
                applied += self._apply_batch(start, batch)
        return applied

    def _apply_batch(self, start: int, batch: Sequence[tuple[int, object]]) -> int:
        try:
            with self.engine.begin() as connection:
                if not self.is_sqlite and self._locked_position(connection) != start:
                    return 0  # another process projected these first
                for _id, domain_event in batch:
                    self.projection.apply(domain_event, connection)
                moved = connection.execute(
                    update(positions)
                    .where(positions.c.name == self._name, positions.c.position == start)
                    .values(position=batch[-1][0])
                ).rowcount
                if moved != 1:
                    connection.rollback()  # another process projected these first
                    return 0
        except IntegrityError:
            if self.position() != start:
                return 0  # another process inserted the same rows first
            raise
        return len(batch)

    def _locked_position(self, connection: Connection) -> int:
        """The position, locked until the transaction ends: on PostgreSQL a second projector
        waits here, then sees the batch was applied, instead of applying it twice."""
        return int(
            connection.execute(
                select(positions.c.position).where(positions.c.name == self._name).with_for_update()
            ).scalar_one()
        )

    def rebuild(self, source: NotificationSource, up_to: int) -> int:
        """Drop the tables and project the whole log again."""
        with self._lock:
            self.create(drop=True)
        return self.catch_up(source, up_to)


def notifications_of(app: ServiceApplication) -> NotificationSource:
    """The application's notification log as (id, domain event) pairs, for :meth:`catch_up`."""

    def source(start: int, limit: int) -> list[tuple[int, object]]:
        return [
            (n.id, app.mapper.to_domain_event(n))
            for n in app.recorder.select_notifications(start=start, limit=limit)
        ]

    return source
