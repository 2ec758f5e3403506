"""The event store of a service: an eventsourcing process application on SQLite or PostgreSQL.

A *process* application, not a plain ``Application``: only its recorder stores tracking
positions atomically with new events, which is what makes consumers exactly-once and what the
outbox relay uses to remember how far it has published.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID

from benecomune_contracts import EventEnvelope
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Tracking, Transcoding
from eventsourcing.system import ProcessApplication
from eventsourcing.utils import get_topic

from servicekit.batching import CommandBatcher
from servicekit.chain import register_ledger_mapping
from servicekit.domain import Conflict, LedgerBehind, NotFound
from servicekit.messages import Processing
from servicekit.projection import notifications_of
from servicekit.publishable import check_publishable
from servicekit.recorders import EXTRA_TRACKING
from servicekit.settings import ServiceSettings
from servicekit.territory import Territory, load_territory

if TYPE_CHECKING:
    from servicekit.projection import ReadModelStore


def retried(
    handler: Callable[Concatenate[StoreT, P], ResultT],
) -> Callable[Concatenate[StoreT, P], ResultT]:
    """A command handler run again when a concurrent command saved the same aggregates first
    (:meth:`ServiceApplication.retrying`): it gets them afresh and re-checks its rules."""

    @functools.wraps(handler)
    def run(store: StoreT, /, *args: P.args, **kwargs: P.kwargs) -> ResultT:
        return store.retrying(lambda: handler(store, *args, **kwargs))

    return run


def ensure_postgres_schema(settings: ServiceSettings) -> str:
    """Create the service's schema if it is missing (eventsourcing creates tables, not schemas).
    Services sharing one database each keep their tables in their own schema."""
    import psycopg
    from psycopg import sql

    schema = settings.postgres_schema or settings.service_name
    with psycopg.connect(
        host=settings.postgres_host,
        port=settings.postgres_port,
        dbname=settings.postgres_dbname,
        user=settings.postgres_user,
        password=settings.postgres_password.get_secret_value(),
        connect_timeout=10,
        autocommit=True,
    ) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    return schema


def store_environment(settings: ServiceSettings) -> dict[str, str]:
    """The eventsourcing environment for the store chosen by ``settings.store``."""
    if settings.store == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "PROCESS_RECORDER_TOPIC": "servicekit.recorders:SQLiteRecorderWithPositions",
            "SQLITE_DBNAME": str(settings.sqlite_path),
            # The API, the relay and the consumer may be separate processes on one file.
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "PROCESS_RECORDER_TOPIC": "servicekit.recorders:PostgresRecorderWithPositions",
        "POSTGRES_HOST": settings.postgres_host,
        "POSTGRES_PORT": str(settings.postgres_port),
        "POSTGRES_DBNAME": settings.postgres_dbname,
        "POSTGRES_USER": settings.postgres_user,
        "POSTGRES_PASSWORD": settings.postgres_password.get_secret_value(),
        "POSTGRES_SCHEMA": ensure_postgres_schema(settings),
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "5",
        "POSTGRES_CONNECT_TIMEOUT": "10",
    }


AggregateT = TypeVar("AggregateT")
ResultT = TypeVar("ResultT")
StoreT = TypeVar("StoreT", bound="ServiceApplication")
P = ParamSpec("P")
_BATCHER_LOCK = threading.Lock()
_READ_MODEL_LOCK = threading.Lock()


class DateAsISO(Transcoding):
    """Calendar dates (a claim's period, a promised payment day) as ISO strings."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


# A policy whose write collides with a concurrent command on the same aggregate runs again.
CONFLICT_RETRIES = 5


def replay_events(aggregate: Any, domain_events: Iterable[Any]) -> Any:
    """Apply stored events to rebuild an aggregate. eventsourcing's default projector asserts a
    runtime-checkable Protocol on every event, which costs more than applying it (a fifth of a
    group-committed redemption's time went there); our events are the library's own classes."""
    for domain_event in domain_events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


class ServiceApplication(ProcessApplication[UUID]):
    """Base class of every service's application.

    Commands use get → change → save. Messages from other services go through
    :meth:`process_message`, whose policy collects the new events; they are stored in one
    transaction with every tracking position given.
    """

    # The relay's mapping: a command whose events it could not publish is refused before
    # anything is stored. A service sets it on its application class (the runtime also sets it
    # from the service definition); None where no mapping is known (some unit tests).
    contract_mapper: Callable[[Any], Any] | None = None
    # Aggregates whose events form a hash chain over their public form (servicekit.chain):
    # registered with ``contract_mapper`` when the application starts, not by an import's
    # side effect.
    ledger_aggregates: tuple[type[Any], ...] = ()

    def __init__(self, settings: ServiceSettings, env: dict[str, Any] | None = None) -> None:
        self.settings = settings
        # Read through the class: a function set as a class attribute would bind as a method.
        mapper = type(self).contract_mapper
        self.contract_mapper = mapper
        if self.ledger_aggregates:
            if mapper is None:
                raise TypeError(f"{type(self).__name__} has ledger aggregates but no mapper")
            register_ledger_mapping(mapper, *self.ledger_aggregates)
        # Every service reads the same territory file: municipalities, languages, default rules.
        self.territory: Territory = load_territory(settings.territory, settings.territories_dir)
        super().__init__(env={**store_environment(settings), **(env or {})})

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """As eventsourcing's ``save``, without its runtime Protocol isinstance checks, which
        cost ~40 µs per aggregate on Python 3.11 and dominated the group-committed hot path.
        Domain events may still be passed directly."""
        processing_event = Processing(tracking=None)
        for obj in objs:
            if obj is None:
                continue
            collect = getattr(obj, "collect_events", None)
            if collect is None:
                processing_event.events.append(obj)
            else:
                processing_event.events.extend(collect())
                processing_event.aggregates[obj.id] = obj
        processing_event.saved_kwargs.update(kwargs)
        if self.contract_mapper is not None:
            check_publishable(self.contract_mapper, processing_event.events)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _take_snapshots(self, processing_event: Any) -> None:
        """As eventsourcing's, but an aggregate whose snapshot falls on the last event just
        recorded is snapshotted as it is in memory — that is the state recorded — instead of
        being read back from the store and rebuilt (a shop account's snapshot, read back, took
        an eighth of a group-committed redemption's time). A snapshot due at an earlier event
        of the same save is taken the library's way, at that version."""
        if not (self.snapshots and self.snapshotting_intervals):
            return
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            if aggregate is None:
                continue
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval is None or event.originator_version % interval:
                continue
            if event.originator_version == aggregate.version and not aggregate.pending_events:
                snapshot_class: Any = getattr(
                    type(aggregate), "Snapshot", type(self).snapshot_class
                )
                self.snapshots.put([snapshot_class.take(aggregate)])
            else:
                self.take_snapshot(
                    event.originator_id, event.originator_version, projector_func=replay_events
                )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def process_message(
        self,
        message: Any,
        positions: Sequence[Tracking],
        envelope: EventEnvelope | None = None,
    ) -> bool:
        """Apply the policy to ``message`` and record its effects with ``positions``.

        Returns False, storing nothing, when the first position shows the message was already
        processed (a duplicate). The policy dispatches on the message type (a contract event).
        An integrity error that is *not* a duplicate (a concurrent write to the same aggregate)
        is retried: the policy runs again on fresh state.
        """
        first, *extra = positions
        for attempt in range(1, CONFLICT_RETRIES + 1):
            if self.is_processed(first):
                return False
            processing_event = Processing(tracking=first, envelope=envelope)
            self.policy(message, processing_event)
            if self.contract_mapper is not None:
                check_publishable(self.contract_mapper, processing_event.events)
            processing_event.saved_kwargs[EXTRA_TRACKING] = extra
            try:
                recordings = self._record(processing_event)
            except IntegrityError:
                if self.is_processed(first):
                    return False
                if attempt == CONFLICT_RETRIES:
                    raise
                continue
            self._take_snapshots(processing_event)
            self._notify(recordings)
            return True
        raise AssertionError("unreachable")  # pragma: no cover

    # --- read models (servicekit.projection) ---------------------------------------------------

    def open_read_model(self) -> ReadModelStore | None:
        """A new connection to the service's read model (its tables, created when missing); a
        service with list or lookup queries overrides this. None: the service has none."""
        return None

    @property
    def read_model(self) -> ReadModelStore:
        """The service's read model, opened once (on first use) and closed with the store."""
        model: ReadModelStore | None = self.__dict__.get("_read_model")
        if model is None:
            with _READ_MODEL_LOCK:
                model = self.__dict__.get("_read_model")
                if model is None:
                    model = self.open_read_model()
                    if model is None:
                        raise TypeError(f"{type(self).__name__} has no read model")
                    self.__dict__["_read_model"] = model
        return model

    def fresh_read_model(self) -> ReadModelStore:
        """The read model caught up with every event stored so far (by this process or any
        other): a query on it sees the writes made before it."""
        self.catch_up_read_models()
        return self.read_model

    def read_model_stores(self) -> list[ReadModelStore]:
        """The service's read models (its one, if it has one)."""
        if "_read_model" not in self.__dict__ and type(self).open_read_model is (
            ServiceApplication.open_read_model
        ):
            return []
        return [self.read_model]

    def close(self) -> None:
        model: ReadModelStore | None = self.__dict__.pop("_read_model", None)
        if model is not None:
            model.close()
        super().close()

    def catch_up_read_models(self) -> int:
        """Project what was stored since each read model's position (on start, before
        queries); returns how many events were applied."""
        up_to = self.recorder.max_notification_id() or 0
        source = notifications_of(self)
        return sum(store.catch_up(source, up_to) for store in self.read_model_stores())

    def rebuild_read_models(self) -> int:
        """Drop every read model and project the whole log again."""
        up_to = self.recorder.max_notification_id() or 0
        source = notifications_of(self)
        return sum(store.rebuild(source, up_to) for store in self.read_model_stores())

    def is_processed(self, position: Tracking) -> bool:
        stored = self.position(position.application_name)
        return stored is not None and stored >= position.notification_id

    def record_positions(self, positions: Sequence[Tracking]) -> bool:
        """Store tracking positions alone (a skipped or dead-lettered message, the relay's
        progress). Returns False when a position was not ahead of the stored one."""
        if not positions:
            return True
        first, *extra = positions
        try:
            self.recorder.insert_events([], tracking=first, **{EXTRA_TRACKING: extra})
        except IntegrityError:
            return False
        return True

    def position(self, name: str) -> int | None:
        return self.recorder.max_tracking_id(name)

    def retrying(self, command: Callable[[], ResultT]) -> ResultT:
        """Run a get → change → save command again when a concurrent command saved the same
        aggregate first (optimistic concurrency): it then sees the new state and re-checks
        its rules, so no invariant is ever checked against stale state."""
        for attempt in range(1, CONFLICT_RETRIES + 1):
            try:
                return command()
            except IntegrityError:
                if attempt == CONFLICT_RETRIES:
                    raise Conflict(
                        "too many concurrent changes to the same records; try again"
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def group_commit(self, command: Callable[[Any], ResultT]) -> ResultT:
        """Run ``command(unit_of_work)`` in the next group-committed batch (see batching.py):
        for hot commands that many callers send at once."""
        return self._command_batcher().submit(command)

    async def group_commit_async(self, command: Callable[[Any], ResultT]) -> ResultT:
        """As ``group_commit``, for ``async`` callers: awaits without holding a thread."""
        return await self._command_batcher().submit_async(command)

    def _command_batcher(self) -> CommandBatcher:
        batcher: CommandBatcher | None = self.__dict__.get("_batcher")
        if batcher is None:
            with _BATCHER_LOCK:
                batcher = self.__dict__.get("_batcher") or CommandBatcher(self)
                self.__dict__["_batcher"] = batcher
        return batcher

    def events_of(self, *event_classes: type[Any]) -> Iterator[Any]:
        """Domain events of the given types, in store order (the store filters by topic).
        It reads the whole log: only for reports and audits that must read everything —
        list and lookup queries read a read model (:mod:`servicekit.projection`), and an
        invariant is never checked against it."""
        topics = [t for c in event_classes for t in stored_topics(c)]
        start = 1
        while True:
            batch = self.recorder.select_notifications(start=start, limit=1000, topics=topics)
            if not batch:
                return
            for notification in batch:
                yield self.mapper.to_domain_event(notification)
            start = batch[-1].id + 1

    def versions_upto(self, notification_id: int, *aggregate_classes: type[Any]) -> dict[UUID, int]:
        """The version each aggregate of the given classes had once the events up to
        ``notification_id`` were stored: what a reader who has read the notification log (or
        the topic the relay fills from it) that far has seen. Scans the log up to there, the
        store filtering by topic."""
        topics = [t for c in _event_classes(*aggregate_classes) for t in stored_topics(c)]
        versions: dict[UUID, int] = {}
        start = 1
        while start <= notification_id:
            batch = self.recorder.select_notifications(
                start=start, limit=5000, stop=notification_id, topics=topics
            )
            if not batch:
                break
            for notification in batch:
                versions[UUID(str(notification.originator_id))] = notification.originator_version
            start = batch[-1].id + 1
        return versions

    def get_as_of(
        self, aggregate_id: UUID, versions: Mapping[UUID, int], kind: type[AggregateT], label: str
    ) -> AggregateT:
        """The aggregate at its version in ``versions`` (from :meth:`versions_upto`)."""
        return self.get_aggregate(aggregate_id, kind, label, version=versions[aggregate_id])

    def last_notification_id(self) -> int:
        return self.recorder.max_notification_id() or 0

    def check_reaches(self, notification_id: int) -> None:
        """An auditor's comparison point must be in this store (:class:`LedgerBehind`)."""
        last = self.last_notification_id()
        if notification_id > last:
            raise LedgerBehind(
                f"the store's notification log ends at {last}; the audited ledger reaches "
                f"{notification_id}: the store lacks events the auditor read"
            )

    def get_aggregate(
        self, aggregate_id: UUID, kind: type[AggregateT], label: str, version: int | None = None
    ) -> AggregateT:
        """The aggregate of the given kind, or a clear 404 (``NotFound``) naming what is missing;
        with ``version``, as it was after that event (or its last one, if it has fewer)."""
        try:
            aggregate: object = self.repository.get(
                aggregate_id, version=version, projector_func=replay_events
            )
        except AggregateNotFoundError:
            raise NotFound(f"no {label} with id {aggregate_id}") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"no {label} with id {aggregate_id}")
        return aggregate


def stored_topics(cls: type[Any]) -> list[str]:
    """The topics ``cls``'s events may be stored under: its own, and those of an earlier name
    registered with ``eventsourcing.utils.register_topic`` (a renamed or moved class, or an
    event class nested in one), so a scan filtered by topic still finds events stored before
    the rename."""
    from eventsourcing.utils import _topic_cache  # the registry register_topic writes

    topic = get_topic(cls)
    found = [topic]
    for old, target in list(_topic_cache.items()):
        if old in found or not isinstance(target, type):
            continue
        current = get_topic(target)
        if current == topic and old != topic:
            found.append(old)
        elif topic.startswith(current + ".") and old != current:
            found.append(old + topic[len(current) :])
    return found


def _event_classes(*aggregate_classes: type[Any]) -> list[type[Any]]:
    """Every event class an aggregate class declares (``@event`` makes them nested classes),
    inherited ones included."""
    from eventsourcing.domain import DomainEvent

    found: dict[str, type[Any]] = {}
    for cls in aggregate_classes:
        for name in dir(cls):
            value = getattr(cls, name, None)
            if isinstance(value, type) and issubclass(value, DomainEvent):
                found[get_topic(value)] = value
    return list(found.values())
