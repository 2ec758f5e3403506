"""Which of the booking's events leave the service, and as what (see
:mod:`benecomune_contracts.booking`). The requests to participants and the facts others follow
are public; the participants' answers as recorded here, the timeline's details, a provider's
note, a family's dispute reason and a social worker's consent reference stay private.
"""

from __future__ import annotations

from functools import singledispatch

from benecomune_contracts import ContractEvent
from benecomune_contracts import booking as c

from booking.domain.aftercare_state import AftercareState as A
from booking.domain.booking_state import BookingState as S
from booking.domain.compensation_state import CompensationState as C
from booking.domain.funding import account_of, kind_of


def _paid(amounts: dict[str, int]) -> list[c.SourcePaid]:
    return [
        c.SourcePaid(source=kind_of(key), account_id=account_of(key), amount_cents=cents)
        for key, cents in amounts.items()
    ]


def _funds(source: str) -> tuple[c.FundsSource, str]:
    kind, account = kind_of(source), account_of(source)
    if kind == "co_payment" or account is None:
        raise ValueError(f"{source} is not a held source")
    return kind, account


@singledispatch
def to_contract(event: object) -> ContractEvent | None:
    return None  # private: anything not mapped below


@to_contract.register
def _(e: S.Requested) -> ContractEvent:
    return c.BookingRequested(
        booking_id=str(e.originator_id),
        beneficiary_id=e.beneficiary_id,
        requested_by=e.requester["role"],
        package_id=e.package_id,
        components=[
            c.ComponentFacts(
                component=index,
                offering_id=data["offering_id"],
                provider_id=data["provider_id"],
                slot_id=data["slot_id"],
                starts_at=data["starts_at"],
                price_cents=data["price_cents"],
                category=data["category"],
            )
            for index, data in enumerate(e.components, start=1)
        ],
        total_cents=sum(e.split.values()),
        split=_paid(e.split),
        requested_at=e.at,
    )


@to_contract.register
def _(e: S.SlotHoldRequested) -> ContractEvent:
    return c.SlotHoldRequested(
        booking_id=str(e.originator_id),
        component=e.index,
        request_id=e.request_id,
        slot_id=e.slot_id,
        offering_id=e.offering_id,
        provider_id=e.provider_id,
        expires_at=e.expires_at,
        requested_at=e.at,
    )


@to_contract.register
def _(e: S.SlotConfirmRequested) -> ContractEvent:
    return c.SlotConfirmRequested(
        booking_id=str(e.originator_id),
        component=e.index,
        request_id=e.request_id,
        slot_id=e.slot_id,
        requested_at=e.at,
    )


@to_contract.register
def _(e: C.SlotReleaseRequested) -> ContractEvent:
    return c.SlotReleaseRequested(
        booking_id=str(e.originator_id),
        component=e.index,
        request_id=e.request_id,
        slot_id=e.slot_id,
        requested_at=e.at,
    )


@to_contract.register
def _(e: S.FundsHoldRequested) -> ContractEvent:
    source, account = _funds(e.source)
    return c.FundsHoldRequested(
        booking_id=str(e.originator_id),
        component=e.index,
        request_id=e.request_id,
        source=source,
        account_id=account,
        amount_cents=e.amount_cents,
        category=e.category,
        provider_id=e.provider_id,
        for_member_id=e.for_member_id,
        beneficiary_id=getattr(e, "beneficiary_id", None),  # absent in events stored before
        confirm_taxable=e.confirm_taxable,
        expires_at=e.expires_at,
        requested_at=e.at,
    )


@to_contract.register
def _(e: A.FundsCaptureRequested) -> ContractEvent:
    source, account = _funds(e.source)
    return c.FundsCaptureRequested(
        booking_id=str(e.originator_id),
        component=e.index,
        request_id=e.request_id,
        source=source,
        account_id=account,
        hold_id=e.hold_id,
        hold_request_id=e.hold_request_id,
        provider_id=e.provider_id,
        amount_cents=e.amount_cents,
        requested_at=e.at,
    )


@to_contract.register
def _(e: C.FundsReleaseRequested) -> ContractEvent:
    source, account = _funds(e.source)
    return c.FundsReleaseRequested(
        booking_id=str(e.originator_id),
        component=e.index,
        request_id=e.request_id,
        source=source,
        account_id=account,
        hold_id=e.hold_id,
        hold_request_id=e.hold_request_id,
        requested_at=e.at,
    )


@to_contract.register
def _(e: S.AcceptanceRequested) -> ContractEvent:
    return c.ProviderAcceptanceRequested(
        booking_id=str(e.originator_id),
        component=e.index,
        request_id=e.request_id,
        provider_id=e.provider_id,
        offering_id=e.offering_id,
        starts_at=e.starts_at,
        due_at=e.due_at,
        requested_at=e.at,
    )


@to_contract.register
def _(e: S.Confirmed) -> ContractEvent:
    return c.BookingConfirmed(
        booking_id=str(e.originator_id),
        beneficiary_id=e.beneficiary_id,
        total_cents=e.total_cents,
        confirmed_at=e.at,
    )


@to_contract.register
def _(e: C.Compensated) -> ContractEvent:
    return c.BookingCompensated(
        booking_id=str(e.originator_id),
        beneficiary_id=e.beneficiary_id,
        reason_code=e.reason_code,
        compensated_at=e.at,
    )


@to_contract.register
def _(e: A.ComponentCancelled) -> ContractEvent:
    return c.ComponentCancelled(
        booking_id=str(e.originator_id),
        component=e.index,
        provider_id=e.provider_id,
        by=e.by,  # type: ignore[arg-type]
        fee_cents=e.fee_cents,
        cancelled_at=e.at,
    )


@to_contract.register
def _(e: A.Cancelled) -> ContractEvent:
    return c.BookingCancelled(
        booking_id=str(e.originator_id),
        beneficiary_id=e.beneficiary_id,
        by=e.by,  # type: ignore[arg-type]
        fee_cents=e.fee_cents,
        cancelled_at=e.at,
    )


@to_contract.register
def _(e: A.Rescheduled) -> ContractEvent:
    return c.ComponentRescheduled(
        booking_id=str(e.originator_id),
        component=e.index,
        provider_id=e.provider_id,
        slot_id=e.slot_id,
        starts_at=e.starts_at,
        rescheduled_at=e.at,
    )


@to_contract.register
def _(e: A.Delivered) -> ContractEvent:
    return c.ComponentDelivered(
        booking_id=str(e.originator_id),
        component=e.index,
        provider_id=e.provider_id,
        confirmation_due=e.confirmation_due,
        delivered_at=e.at,
    )


@to_contract.register
def _(e: A.Disputed) -> ContractEvent:
    return c.ComponentDisputed(booking_id=str(e.originator_id), component=e.index, disputed_at=e.at)


@to_contract.register
def _(e: A.ComponentCaptured) -> ContractEvent:
    return c.ComponentCaptured(
        booking_id=str(e.originator_id),
        component=e.index,
        provider_id=e.provider_id,
        paid=_paid(e.settlement),
        total_cents=sum(e.settlement.values()),
        captured_at=e.at,
    )


@to_contract.register
def _(e: A.CoPaymentDue) -> ContractEvent:
    return c.CoPaymentDue(
        booking_id=str(e.originator_id),
        component=e.index,
        provider_id=e.provider_id,
        amount_cents=e.amount_cents,
        why=e.why,  # type: ignore[arg-type]
        due_at=e.at,
    )
