"""A read model kept by the kit: tables plus a position moved in the same transaction, caught up
from the log, rebuilt from zero, dropped and refilled when its version changes."""

from __future__ import annotations

from functools import singledispatchmethod
from pathlib import Path

from servicekit.domain import Aggregate
from servicekit.projection import Projection, ReadModelStore, notifications_of, read_model_url
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.engine import Connection

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("text", String(100), nullable=False),
    Column("length", Integer, nullable=False),
)


class Note(Aggregate):
    def __init__(self, text: str) -> None:
        self.text = text


class NotesProjection(Projection):
    name = "notes"
    version = 1
    metadata = metadata

    @singledispatchmethod
    def apply(self, domain_event: object, connection: Connection) -> None:
        pass

    @apply.register
    def _(self, e: Note.Created, connection: Connection) -> None:
        connection.execute(
            insert(notes).values(id=str(e.originator_id), text=e.text, length=len(e.text))
        )


class NotesV2(NotesProjection):
    version = 2


def texts(store: ReadModelStore) -> list[str]:
    with store.engine.connect() as connection:
        return sorted(connection.execute(select(notes.c.text)).scalars())


def test_a_read_model_catches_up_rebuilds_and_refills_on_a_new_version(tmp_path: Path) -> None:
    settings = ServiceSettings(data_dir=tmp_path, keys_dir=tmp_path / "keys")
    app = ServiceApplication(settings)
    url, schema = read_model_url(settings, "notes-read.sqlite")
    store = ReadModelStore(NotesProjection(), url, schema)
    source = notifications_of(app)
    try:
        app.save(Note("uno"), Note("due"))
        assert store.catch_up(source, app.recorder.max_notification_id() or 0) == 2
        assert texts(store) == ["due", "uno"]
        assert store.position() == 2
        # Nothing new: nothing applied, nothing read twice.
        assert store.catch_up(source, 2) == 0
        app.save(Note("tre"))
        assert store.catch_up(source, 3) == 1
        assert texts(store) == ["due", "tre", "uno"]
        # Rebuilt from zero: the same rows, not twice.
        assert store.rebuild(source, 3) == 3
        assert texts(store) == ["due", "tre", "uno"]
        store.close()
        # The same tables opened by another version are dropped and filled again.
        store = ReadModelStore(NotesV2(), url, schema)
        assert store.position() == 0 and texts(store) == []
        store.catch_up(source, 3)
        assert texts(store) == ["due", "tre", "uno"]
    finally:
        store.close()
        app.close()
