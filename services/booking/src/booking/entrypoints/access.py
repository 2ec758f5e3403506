"""What every route of the booking API shares: the application, the caller as the application
knows it, the page of a list, and the booking a caller may read (403 for someone else's)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import Query, Request
from pydantic import BeforeValidator
from servicekit.auth import Principal
from servicekit.http import application_of

from booking.application.app import BookingApplication
from booking.application.parties import Caller, check_may_read
from booking.application.views import MAX_PAGE, Page
from booking.domain.booking import Booking

FAMILY = ("beneficiary", "social_worker")
READERS = ("beneficiary", "social_worker", "provider", "operator", "auditor")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


# A date in a query, as OpenAPI documents it (pydantic alone would take "0" as a Unix time).
QueryDate = Annotated[date, BeforeValidator(_iso_date)]

BOOKING_ACCEPTED = {
    202: {
        "description": "Accepted: the saga runs on; follow the booking at its Location",
        "headers": {
            "Location": {
                "description": "The booking's address, to poll",
                "schema": {"type": "string"},
            }
        },
    }
}


def booking_app(request: Request) -> BookingApplication:
    return application_of(request, BookingApplication)


def caller_of(principal: Principal) -> Caller:
    return Caller(role=principal.role, subject=principal.subject, subject_id=principal.subject_id)


def page_of(
    offset: Annotated[int, Query(ge=0, le=100_000, description="Items to skip (paging)")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="At most this many items")] = 50,
) -> Page:
    return Page(offset=offset, limit=limit)


def readable_booking(app: BookingApplication, booking_id: UUID, principal: Principal) -> Booking:
    booking = app.get_booking(booking_id)
    check_may_read(booking, caller_of(principal), app.is_delegate)
    return booking


def scope_of(principal: Principal) -> str | None:
    """A provider sees only its own components of a booking (None: the whole booking)."""
    return principal.subject_id if principal.role == "provider" else None


def location(booking_id: UUID) -> str:
    return f"/bookings/{booking_id}"
