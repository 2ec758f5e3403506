"""Free places of the slots: an offering's slot list, and the search's "available from" filter.

A place is taken by a confirmed hold or by a hold that has not expired yet, as the slot
aggregate counts them (:meth:`catalog.domain.slot.Hold.counts_at`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from servicekit.projection import ReadModelStore
from sqlalchemy import ScalarSelect, and_, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from catalog.adapters.read_model.tables import offerings, slot_holds, slots

MAX_SLOTS_LISTED = 500


def taken_places(now: datetime) -> ScalarSelect[Any]:
    """The places of a slot (``slots`` row) taken at ``now``."""
    h = slot_holds
    return (
        select(func.coalesce(func.sum(h.c.quantity), 0))
        .where(
            h.c.slot_id == slots.c.slot_id,
            or_(h.c.status == "confirmed", and_(h.c.status == "held", h.c.expires_at > now)),
        )
        .scalar_subquery()
    )


def _first_start(day: date, now: datetime) -> datetime:
    return max(datetime.combine(day, time.min, tzinfo=UTC), now)


def has_free_slot(day: date, now: datetime) -> ColumnElement[bool]:
    """The offering (``offerings`` row) has a slot with a free place from ``day`` on."""
    return exists().where(
        slots.c.offering_id == offerings.c.offering_id,
        slots.c.starts_at >= _first_start(day, now),
        slots.c.capacity > taken_places(now),
    )


def slots_for(
    rm: ReadModelStore, offering_id: str, day: date, now: datetime
) -> list[dict[str, Any]]:
    """The offering's slots from ``day`` on (not those already started), with their free
    places, earliest first."""
    s = slots
    with rm.engine.connect() as connection:
        rows = connection.execute(
            select(s, taken_places(now).label("taken"))
            .where(s.c.offering_id == offering_id, s.c.starts_at >= _first_start(day, now))
            .order_by(s.c.starts_at)
            .limit(MAX_SLOTS_LISTED)
        ).all()
    return [
        {
            "slot_id": r.slot_id,
            "starts_at": r.starts_at,
            "ends_at": r.ends_at,
            "capacity": r.capacity,
            "available": r.capacity - int(r.taken),
        }
        for r in rows
    ]
