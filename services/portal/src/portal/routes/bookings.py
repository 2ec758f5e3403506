"""Pages of the bookings area: the appointment flow for an offering or a package
(``bookings_flow``), my bookings with their timeline and what the family does with them, and a
social worker's booking on behalf of a citizen (``bookings_mine``)."""

from __future__ import annotations

from fastapi import APIRouter

from portal.routes import bookings_flow, bookings_mine

router = APIRouter()
router.include_router(bookings_flow.router)
router.include_router(bookings_mine.router)
