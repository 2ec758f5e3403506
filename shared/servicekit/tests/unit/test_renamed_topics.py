"""A class renamed or moved keeps its stored events: with the old topic registered
(``register_topic``), a scan filtered by topic (``events_of``, ``versions_upto``) still finds the
events stored under the old name, the aggregate's nested event classes included."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from eventsourcing.utils import get_topic, register_topic
from servicekit.domain import Aggregate
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication, stored_topics


class Purse(Aggregate):
    def __init__(self, owner: str) -> None:
        self.owner = owner


OLD = "servicekit_tests.old_module:Wallet"


def test_events_stored_under_a_registered_old_name_are_still_scanned(tmp_path: Path) -> None:
    settings = ServiceSettings(data_dir=tmp_path, keys_dir=tmp_path / "keys")
    app = ServiceApplication(settings)
    app.save(Purse("anna"), Purse("bruno"))
    app.close()
    # As if Purse had been called Wallet in another module when these events were stored.
    with sqlite3.connect(settings.sqlite_path) as db:
        db.execute("UPDATE stored_events SET topic = ?", (f"{OLD}.Created",))
    register_topic(OLD, Purse)
    assert f"{OLD}.Created" in stored_topics(Purse.Created)
    assert stored_topics(Purse.Created)[0] == get_topic(Purse.Created)

    app = ServiceApplication(settings)
    try:
        assert sorted(e.owner for e in app.events_of(Purse.Created)) == ["anna", "bruno"]
        assert len(app.versions_upto(2, Purse)) == 2
    finally:
        app.close()
