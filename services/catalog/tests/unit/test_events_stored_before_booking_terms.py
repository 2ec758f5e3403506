"""Events stored before offerings had booking terms and refusals had a reason code still load,
and the relay still publishes them: the offering gets the default terms, the refusal the only
reason there was then (not enough places)."""

from __future__ import annotations

import sqlite3
from uuid import UUID

import pytest
from benecomune_contracts import catalog as c
from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.domain.errors import SlotFull
from catalog.domain.terms import DEFAULT_TERMS
from catalog.settings import CatalogSettings

from ..booking_messages import published
from ..conftest import offer, register, slot


def store_as_version_1(
    app: CatalogApplication, settings: CatalogSettings, aggregate_id: UUID, field: str
) -> int:
    """Rewrite the aggregate's stored events that carry ``field`` as version 1 stored them."""
    rewritten = 0
    with sqlite3.connect(settings.sqlite_path) as db:
        (table,) = db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE '%originator_version%'"
        ).fetchone()
        for key in (aggregate_id.hex, str(aggregate_id)):
            rows = db.execute(
                f"SELECT originator_version, state FROM {table} WHERE originator_id = ?",
                (key,),
            ).fetchall()
            for version, state in rows:
                decoded = app.mapper.transcoder.decode(state)
                if field not in decoded:
                    continue
                del decoded[field]
                decoded.pop("class_version", None)
                db.execute(
                    f"UPDATE {table} SET state = ? WHERE originator_id = ? AND "
                    "originator_version = ?",
                    (app.mapper.transcoder.encode(decoded), key, version),
                )
                rewritten += 1
    return rewritten


def test_an_offering_and_a_refusal_stored_before_terms_and_codes_load_and_publish(
    app: CatalogApplication, settings: CatalogSettings
) -> None:
    offering_id = offer(app, register(app))
    slot_id = slot(app, offering_id, capacity=1)
    app.hold_slot(slot_id, cmd.HoldSlot(request_id="r1"), "beneficiary:b1")
    with pytest.raises(SlotFull):
        app.hold_slot(slot_id, cmd.HoldSlot(request_id="r2"), "beneficiary:b2")
    assert store_as_version_1(app, settings, offering_id, "terms") == 2  # drafted, published
    assert store_as_version_1(app, settings, slot_id, "code") == 1

    again = CatalogApplication(settings)
    try:
        assert again.get_offering(offering_id).terms == DEFAULT_TERMS
        events = published(again)
        (offering,) = [e for e in events if isinstance(e, c.OfferingPublished)]
        assert offering.terms is not None and offering.terms.acceptance_hours == 24
        (refusal,) = [e for e in events if isinstance(e, c.SlotHoldRefused)]
        assert (refusal.reason, refusal.holder) == ("not_enough_places", None)
    finally:
        again.close()
