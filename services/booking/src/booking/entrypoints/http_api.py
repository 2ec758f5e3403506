"""The booking service's HTTP API: the family's bookings, the providers' queues and answers,
the operator's view of stuck and disputed bookings. Routes translate HTTP into the handlers of
:mod:`booking.application.handlers`; who may do what is checked there and in
:mod:`booking.application.parties`."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response, status
from servicekit.auth import Principal, require_roles

from booking.application import commands as cmd
from booking.application import handlers
from booking.application.app import BookingApplication
from booking.application.parties import family_role, provider_of
from booking.application.views import OperatorView, Page, Queue
from booking.domain.booking import Booking, CancelledBy
from booking.domain.errors import NotAParty
from booking.entrypoints.access import (
    BOOKING_ACCEPTED,
    FAMILY,
    READERS,
    QueryDate,
    booking_app,
    caller_of,
    location,
    page_of,
    readable_booking,
    scope_of,
)
from booking.entrypoints.responses import (
    Accepted,
    BookingSummary,
    BookingView,
    CancellationPreview,
    ComponentFee,
    Statement,
    booking_view,
    statement,
    summary,
)

bookings = APIRouter(tags=["bookings"])
providers = APIRouter(tags=["providers"])
operator = APIRouter(tags=["operator"])

Index = Annotated[int, Path(ge=1, le=10, description="The component, from 1")]


def now_utc() -> datetime:
    return datetime.now(UTC)


def accepted(booking: Booking, response: Response) -> Accepted:
    response.headers["Location"] = location(booking.id)
    return Accepted(booking_id=booking.id, status=booking.status, location=location(booking.id))


# --- the family -------------------------------------------------------------------------------


@bookings.post(
    "/bookings",
    status_code=status.HTTP_202_ACCEPTED,
    responses=BOOKING_ACCEPTED,  # type: ignore[arg-type]
    summary="Book an offering or a package (idempotent by the caller's request id)",
)
def request_booking(
    command: cmd.RequestBooking,
    response: Response,
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles(*FAMILY)),
) -> Accepted:
    booking = handlers.request_booking(app, command, caller_of(principal), now_utc())
    return accepted(booking, response)


@bookings.get("/bookings/mine", summary="The caller's bookings, newest first")
def my_bookings(
    page: Page = Depends(page_of),
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles(*FAMILY)),
) -> list[BookingSummary]:
    if principal.role == "social_worker":
        rows = app.bookings_of_social_workers(page)
    else:
        assert principal.subject_id is not None
        rows = app.bookings_of_beneficiary(principal.subject_id, principal.subject, page)
    return [summary(r) for r in rows]


@bookings.get("/bookings/{booking_id}", summary="A booking with the timeline of every step")
def get_booking(
    booking_id: UUID,
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles(*READERS)),
) -> BookingView:
    return booking_view(readable_booking(app, booking_id, principal), scope_of(principal))


@bookings.get(
    "/bookings/{booking_id}/cancellation",
    summary="What cancelling now would cost, per component and funding source",
)
def cancellation_preview(
    booking_id: UUID,
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles(*FAMILY, "provider")),
) -> CancellationPreview:
    booking = app.get_booking(booking_id)
    caller = caller_of(principal)
    provider_id = None
    if caller.role == "provider":
        provider_id = provider_of(caller)
        if not any(c.provider_id == provider_id for c in booking.components):
            raise NotAParty("this booking has no component of yours")
    else:
        family_role(booking, caller, app.is_delegate)
    now = now_utc()
    by: CancelledBy = "provider" if provider_id else "family"
    fees = booking.cancellation_fees(by, provider_id, now)
    return CancellationPreview(
        booking_id=booking.id,
        status=booking.status,
        by=by,
        fee_cents=sum(f["fee_cents"] for f in fees),
        components=[ComponentFee(**f) for f in fees],
        at=now,
    )


@bookings.post("/bookings/{booking_id}/cancel", summary="Cancel (the family's, or a provider's)")
def cancel(
    booking_id: UUID,
    command: cmd.Cancel,
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles(*FAMILY, "provider")),
) -> BookingView:
    caller = caller_of(principal)
    booking = handlers.cancel(app, booking_id, command, caller, now_utc())
    return booking_view(booking, scope_of(principal))


@bookings.post(
    "/bookings/{booking_id}/reschedule",
    status_code=status.HTTP_202_ACCEPTED,
    responses=BOOKING_ACCEPTED,  # type: ignore[arg-type]
    summary="Move a component to another slot of its offering",
)
def reschedule(
    booking_id: UUID,
    command: cmd.Reschedule,
    response: Response,
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles(*FAMILY)),
) -> Accepted:
    caller = caller_of(principal)
    return accepted(handlers.reschedule(app, booking_id, command, caller, now_utc()), response)


@bookings.post(
    "/bookings/{booking_id}/components/{index}/delivery-confirmation",
    summary="Confirm a component was delivered: its funds are captured",
)
def confirm_delivery(
    booking_id: UUID,
    index: Index,
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles(*FAMILY)),
) -> BookingView:
    caller = caller_of(principal)
    return booking_view(handlers.confirm_delivery(app, booking_id, index, caller, now_utc()))


@bookings.post(
    "/bookings/{booking_id}/components/{index}/dispute",
    summary="Dispute a delivered component: the operator decides",
)
def dispute(
    booking_id: UUID,
    index: Index,
    command: cmd.Dispute,
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles(*FAMILY)),
) -> BookingView:
    caller = caller_of(principal)
    booking = handlers.dispute(app, booking_id, index, command.reason, caller, now_utc())
    return booking_view(booking)


# --- providers --------------------------------------------------------------------------------


@providers.get("/providers/{provider_id}/bookings", summary="A provider's queue")
def provider_queue(
    provider_id: Annotated[str, Path(max_length=128)],
    queue: Annotated[Queue, Query(description="pending: to accept; to_deliver: confirmed")],
    page: Page = Depends(page_of),
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles("provider", "operator")),
) -> list[BookingSummary]:
    principal.require_subject("provider", provider_id, exempt_roles=("operator",))
    return [summary(r, provider_id) for r in app.provider_queue(provider_id, queue, page)]


@providers.get(
    "/providers/{provider_id}/statement",
    summary="A provider's statement: captured per component in a period, co-payments due",
)
def provider_statement(
    provider_id: Annotated[str, Path(max_length=128)],
    first: Annotated[
        QueryDate | None, Query(alias="from", description="default: 30 days before")
    ] = None,
    last: Annotated[
        QueryDate | None, Query(alias="to", description="included; default: today")
    ] = None,
    page: Page = Depends(page_of),
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles("provider", "operator", "auditor")),
) -> Statement:
    principal.require_subject("provider", provider_id, exempt_roles=("operator", "auditor"))
    last_day = last or now_utc().date()
    first_day = first or last_day - timedelta(days=30)
    since = datetime.combine(first_day, time.min, UTC)
    until = datetime.combine(last_day + timedelta(days=1), time.min, UTC)
    return statement(
        provider_id, since, until, app.provider_statement(provider_id, since, until, page)
    )


def _provider_route(name: str) -> str:
    return f"/bookings/{{booking_id}}/components/{{index}}/{name}"


@providers.post(_provider_route("accept"), summary="Accept a component")
def accept(
    booking_id: UUID,
    index: Index,
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles("provider")),
) -> BookingView:
    now = now_utc()
    booking = handlers.provider_command(
        app, booking_id, index, caller_of(principal), lambda b, i, p: b.accept(i, p, now)
    )
    return booking_view(booking, scope_of(principal))


@providers.post(_provider_route("decline"), summary="Decline a component")
def decline(
    booking_id: UUID,
    index: Index,
    command: cmd.Note,
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles("provider")),
) -> BookingView:
    now = now_utc()
    booking = handlers.provider_command(
        app,
        booking_id,
        index,
        caller_of(principal),
        lambda b, i, p: b.decline(i, p, command.note, now),
    )
    return booking_view(booking, scope_of(principal))


@providers.post(_provider_route("delivered"), summary="Mark a component delivered")
def delivered(
    booking_id: UUID,
    index: Index,
    command: cmd.Note,
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles("provider")),
) -> BookingView:
    now = now_utc()
    booking = handlers.provider_command(
        app,
        booking_id,
        index,
        caller_of(principal),
        lambda b, i, p: b.deliver(i, p, command.note, now),
    )
    return booking_view(booking, scope_of(principal))


@providers.post(_provider_route("no-show"), summary="Mark that nobody came (fee per policy)")
def no_show(
    booking_id: UUID,
    index: Index,
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles("provider")),
) -> BookingView:
    now = now_utc()
    booking = handlers.provider_command(
        app, booking_id, index, caller_of(principal), lambda b, i, p: b.no_show(i, p, now)
    )
    return booking_view(booking, scope_of(principal))


@providers.post(
    _provider_route("co-payment-paid"), summary="Record that the family paid the co-payment"
)
def co_payment_paid(
    booking_id: UUID,
    index: Index,
    app: BookingApplication = Depends(booking_app),
    principal: Principal = Depends(require_roles("provider")),
) -> BookingView:
    now = now_utc()
    booking = handlers.provider_command(
        app,
        booking_id,
        index,
        caller_of(principal),
        lambda b, i, p: b.mark_co_payment_paid(i, p, now),
    )
    return booking_view(booking, scope_of(principal))


# --- the operator -----------------------------------------------------------------------------


@operator.get("/operator/bookings", summary="Bookings stuck waiting for a participant, or disputed")
def operator_bookings(
    view: Annotated[OperatorView, Query(description="stuck or disputed")],
    page: Page = Depends(page_of),
    app: BookingApplication = Depends(booking_app),
    _: Principal = Depends(require_roles("operator", "auditor")),
) -> list[BookingSummary]:
    return [summary(r) for r in app.operator_view(view, now_utc(), page)]


@operator.post(
    "/bookings/{booking_id}/components/{index}/resolution",
    summary="Decide a dispute: capture, partial capture or refund",
)
def resolve(
    booking_id: UUID,
    index: Index,
    command: cmd.Resolve,
    app: BookingApplication = Depends(booking_app),
    _: Principal = Depends(require_roles("operator")),
) -> BookingView:
    return booking_view(handlers.resolve(app, booking_id, index, command, now_utc()))


def routers() -> list[APIRouter]:
    return [bookings, providers, operator]
