"""The booking saga holds, captures and releases service vouchers through its events on the
booking topic, fed here as the kit's consumer feeds them (``process_message`` with a tracking
position): each request answered exactly once by its request id, refusals too, with a reason
code; only the holder's booking, for a category the round covers, at a provider the catalogue
accredited. The auditor's tally of the store agrees with the service to the cent."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from benecomune_auditor.store_reader import store_records
from benecomune_auditor.vouchers import audit_vouchers, figures_from_store
from benecomune_contracts import EventEnvelope, booking, catalog
from benecomune_contracts import vouchers as c
from benecomune_contracts.base import ContractEvent
from eventsourcing.persistence import Tracking
from vouchers.adapters.contract_mapping import to_contract
from vouchers.application import commands as cmd
from vouchers.application.app import VouchersApplication
from vouchers.audit_hook import VouchersLedgerStore
from vouchers.domain.errors import NotAffiliated, ServiceVoucherAtTill

from .test_domain_rules import NOW, apply, redeem

HOLDER = "b-anna"
PROVIDER = "p-coop-assistenza"
_offsets = itertools.count(1)


def consume(app: VouchersApplication, message: ContractEvent, topic: str = "booking") -> bool:
    """As the kit's consumer: the message, its tracking position and its envelope (whose time,
    when the saga asked, is the time a request is judged at)."""
    offset = next(_offsets)
    envelope = EventEnvelope(
        id=str(uuid.uuid4()),
        source=f"/benecomune/biella/{topic}",
        type=message.type_name,
        time=getattr(message, "requested_at", NOW),
        subject=getattr(message, "booking_id", "catalog"),
        notification_id=offset,
        sequence=1,
    )
    return app.process_message(message, [Tracking(f"{topic}#0", offset)], envelope)


def services_round(app: VouchersApplication, categories: list[str] | None = None) -> UUID:
    fund = app.allocate_fund(
        cmd.AllocateFund(
            municipality_istat="096004",
            source_kind="state_transfer",
            source_reference="DGR 12/2026 buoni servizio",
            amount_cents=1_000_000,
        )
    )
    return app.open_round(
        cmd.OpenRound(
            fund_id=str(fund),
            title="Buoni servizio anziani",
            opens_at=NOW - timedelta(days=1),
            closes_at=NOW + timedelta(days=10),
            budget_cents=100_000,
            rules=cmd.EntitlementRulesInput(
                base_cents=20_000, per_extra_member_cents=0, per_minor_cents=0, cap_cents=20_000
            ),
            denominations_cents=[10_000],
            validity_days=30,
            kind="services",
            service_categories=categories or ["elderly_care"],  # type: ignore[list-item]
        ),
        now=NOW,
    )


def accredited(provider_id: str = PROVIDER, kind: str = "coop_a") -> catalog.ProviderAccredited:
    return catalog.ProviderAccredited.model_validate(
        {
            "provider_id": provider_id,
            "kind": kind,
            "municipalities": ["096004"],
            "certifications": [],
            "accredited_at": NOW,
        }
    )


def served_holder(app: VouchersApplication, round_id: UUID) -> list[str]:
    """The holder's two vouchers of 100 EUR (their ids, as ``/vouchers/mine`` shows them)."""
    application_id = apply(app, round_id, approve=True, account=HOLDER)
    app.issue_vouchers(round_id, now=NOW)
    return app.get_application(application_id).voucher_ids


class Booking:
    """One booking's requests to the vouchers service, as the saga publishes them."""

    def __init__(self, beneficiary: str = HOLDER) -> None:
        self.id = str(uuid.uuid4())
        self.beneficiary = beneficiary

    def rid(self, step: str) -> str:
        return f"booking:{self.id}:{step}"

    def requested(self, voucher_id: str, cents: int) -> booking.BookingRequested:
        return booking.BookingRequested.model_validate(
            {
                "booking_id": self.id,
                "beneficiary_id": self.beneficiary,
                "requested_by": "beneficiary",
                "components": [
                    {
                        "component": 1,
                        "offering_id": "o-1",
                        "provider_id": PROVIDER,
                        "slot_id": "s-1",
                        "starts_at": NOW + timedelta(days=3),
                        "price_cents": cents,
                        "category": "elderly_care",
                    }
                ],
                "total_cents": cents,
                "split": [{"source": "voucher", "account_id": voucher_id, "amount_cents": cents}],
                "requested_at": NOW,
            }
        )

    def hold(self, voucher_id: str, cents: int, **changes: Any) -> booking.FundsHoldRequested:
        fields: dict[str, Any] = {
            "booking_id": self.id,
            "component": 1,
            "request_id": self.rid("c1:f1:hold"),
            "source": "voucher",
            "account_id": voucher_id,
            "amount_cents": cents,
            "category": "elderly_care",
            "provider_id": PROVIDER,
            "expires_at": NOW + timedelta(days=40),
            "requested_at": NOW,
        }
        return booking.FundsHoldRequested.model_validate({**fields, **changes})

    def capture(self, voucher_id: str, cents: int, **changes: Any) -> booking.FundsCaptureRequested:
        fields: dict[str, Any] = {
            "booking_id": self.id,
            "component": 1,
            "request_id": self.rid("c1:f1:capture"),
            "source": "voucher",
            "account_id": voucher_id,
            "hold_request_id": self.rid("c1:f1:hold"),
            "provider_id": PROVIDER,
            "amount_cents": cents,
            "requested_at": NOW + timedelta(days=4),
        }
        return booking.FundsCaptureRequested.model_validate({**fields, **changes})

    def release(self, voucher_id: str) -> booking.FundsReleaseRequested:
        return booking.FundsReleaseRequested.model_validate(
            {
                "booking_id": self.id,
                "component": 1,
                "request_id": self.rid("c1:f1:release"),
                "source": "voucher",
                "account_id": voucher_id,
                "hold_request_id": self.rid("c1:f1:hold"),
                "requested_at": NOW + timedelta(days=1),
            }
        )


ANSWERS = (
    c.ServiceVoucherHeld,
    c.ServiceVoucherHoldRefused,
    c.ServiceVoucherCaptured,
    c.ServiceVoucherReleased,
    c.ServiceVoucherRequestRefused,
)


def answers(app: VouchersApplication, after: int = 0) -> list[Any]:
    """The answers published to the saga since notification ``after``."""
    found = []
    for notification in app.recorder.select_notifications(start=after + 1, limit=10_000):
        public = to_contract(app.mapper.to_domain_event(notification))
        if isinstance(public, ANSWERS):
            found.append(public)
    return found


@pytest.fixture
def setup(app: VouchersApplication) -> tuple[UUID, list[str]]:
    round_id = services_round(app)
    assert consume(app, accredited(), topic="catalog")
    return round_id, served_holder(app, round_id)


def test_a_held_voucher_is_captured_on_delivery_and_credited_to_the_provider(
    app: VouchersApplication, setup: tuple[UUID, list[str]]
) -> None:
    round_id, (voucher_id, _) = setup
    b = Booking()
    consume(app, b.requested(voucher_id, 6_000))
    consume(app, b.hold(voucher_id, 6_000))
    consume(app, b.capture(voucher_id, 5_000))

    held, captured = answers(app)
    assert isinstance(held, c.ServiceVoucherHeld) and held.request_id == b.rid("c1:f1:hold")
    assert (held.amount_cents, held.held_cents, held.remaining_cents) == (6_000, 6_000, 10_000)
    assert isinstance(captured, c.ServiceVoucherCaptured)
    assert (captured.amount_cents, captured.released_cents, captured.remaining_cents) == (
        5_000,
        1_000,
        5_000,
    )
    assert app.merchant_account(round_id, PROVIDER).redeemed_cents == 5_000
    assert app.get_voucher(UUID(voucher_id)).available_cents == 5_000

    audit = audit_vouchers(
        store_records(VouchersLedgerStore(app)),
        source="store",
        figures=figures_from_store(VouchersLedgerStore(app)),
    )
    assert audit.ok, audit.summary_lines()
    assert audit.tally.merchant_figures()[(str(round_id), PROVIDER)]["redeemed_cents"] == 5_000


def test_a_released_hold_gives_the_money_back_and_each_request_is_answered_once(
    app: VouchersApplication, setup: tuple[UUID, list[str]]
) -> None:
    _, (voucher_id, _) = setup
    b = Booking()
    consume(app, b.requested(voucher_id, 4_000))
    hold = b.hold(voucher_id, 4_000)
    consume(app, hold)
    consume(app, hold)  # the saga sent it again (same request id, a new message)
    consume(app, b.release(voucher_id))
    consume(app, b.release(voucher_id))

    assert [type(a).__name__ for a in answers(app)] == [
        "ServiceVoucherHeld",
        "ServiceVoucherReleased",
    ]
    voucher = app.get_voucher(UUID(voucher_id))
    assert (voucher.remaining_cents, voucher.held_cents) == (10_000, 0)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("over the balance", "insufficient_balance"),
        ("someone else's voucher", "not_the_holder"),
        ("a category not covered", "category_not_covered"),
        ("a provider not accredited", "provider_not_accredited"),
        ("an unknown voucher", "unknown_voucher"),
        ("a booking never requested", "booking_unknown"),
    ],
)
def test_a_refused_hold_is_answered_once_with_its_reason(
    app: VouchersApplication, setup: tuple[UUID, list[str]], case: str, reason: str
) -> None:
    _, (voucher_id, _) = setup
    b = Booking(beneficiary="b-someone-else" if case == "someone else's voucher" else HOLDER)
    request = {
        "over the balance": b.hold(voucher_id, 10_001),
        "someone else's voucher": b.hold(voucher_id, 1_000),
        "a category not covered": b.hold(voucher_id, 1_000, category="transport"),
        "a provider not accredited": b.hold(voucher_id, 1_000, provider_id="p-unknown"),
        "an unknown voucher": b.hold(str(uuid.uuid4()), 1_000),
        "a booking never requested": b.hold(voucher_id, 1_000),
    }[case]
    if case != "a booking never requested":
        consume(app, b.requested(voucher_id, request.amount_cents))
    consume(app, request)
    consume(app, request)  # again: no second answer

    (refused,) = answers(app)
    assert isinstance(refused, c.ServiceVoucherHoldRefused)
    assert (refused.reason_code, refused.request_id) == (reason, request.request_id)
    assert app.get_voucher(UUID(voucher_id)).held_cents == 0


def test_a_food_voucher_named_by_a_booking_is_refused(app: VouchersApplication) -> None:
    from .test_domain_rules import open_round, served_household

    _, food_round = open_round(app)
    application_id, _ = served_household(app, food_round)
    food_voucher = app.get_application(application_id).voucher_ids[0]
    b = Booking(beneficiary=app.get_application(application_id).applicant)
    consume(app, b.requested(food_voucher, 1_000))
    consume(app, b.hold(food_voucher, 1_000))

    (refused,) = answers(app)
    assert refused.reason_code == "not_a_service_voucher"


def test_captures_and_releases_that_cannot_be_done_are_refused_once(
    app: VouchersApplication, setup: tuple[UUID, list[str]]
) -> None:
    _, (voucher_id, _) = setup
    b = Booking()
    consume(app, b.requested(voucher_id, 3_000))
    consume(app, b.capture(voucher_id, 3_000))  # no hold yet
    consume(app, b.hold(voucher_id, 3_000))
    mark = app.recorder.max_notification_id()
    over = b.capture(voucher_id, 3_001, request_id=b.rid("c1:f1:capture:over"))
    consume(app, over)
    consume(app, over)
    consume(app, b.release(voucher_id))
    late = b.capture(voucher_id, 1_000, request_id=b.rid("c1:f1:capture:late"))
    consume(app, late)

    refusals = [a for a in answers(app) if isinstance(a, c.ServiceVoucherRequestRefused)]
    assert [(r.request, r.reason_code) for r in refusals] == [
        ("capture", "no_such_hold"),
        ("capture", "capture_over_hold"),
        ("capture", "hold_released"),
    ]
    assert [type(a).__name__ for a in answers(app, mark)] == [
        "ServiceVoucherRequestRefused",
        "ServiceVoucherReleased",
        "ServiceVoucherRequestRefused",
    ]


def test_an_accredited_provider_joins_services_rounds_only_and_its_suspension_stops_holds(
    app: VouchersApplication,
) -> None:
    from .test_domain_rules import open_round

    _, food_round = open_round(app)
    consume(app, accredited(), topic="catalog")
    consume(app, accredited("m-forno", kind="shop"), topic="catalog")  # a shop: no services
    later = services_round(app)  # opened after: the accredited provider joins it

    assert app.is_affiliated(later, PROVIDER)
    assert not app.is_affiliated(food_round, PROVIDER)
    assert not app.is_affiliated(later, "m-forno")

    voucher_id = served_holder(app, later)[0]
    suspended = catalog.ProviderSuspended(
        provider_id=PROVIDER, reason_code="audit", suspended_at=NOW
    )
    consume(app, suspended, topic="catalog")
    b = Booking()
    consume(app, b.requested(voucher_id, 1_000))
    consume(app, b.hold(voucher_id, 1_000))
    (refused,) = answers(app)
    assert refused.reason_code == "provider_suspended"


def test_a_service_voucher_is_refused_at_a_till_a_shops_or_a_providers(
    app: VouchersApplication, setup: tuple[UUID, list[str]]
) -> None:
    round_id, (voucher_id, _) = setup
    codes = app.codes_of(app.applications_in_round(round_id)[0])
    with pytest.raises(NotAffiliated):  # a food shop has no place in a services round
        redeem(app, codes[0], 1_000, merchant_id="m-forno")
    with pytest.raises(ServiceVoucherAtTill):  # nor does a provider's till take it
        redeem(app, codes[0], 1_000, merchant_id=PROVIDER, goods="elderly_care")
    assert app.get_voucher(UUID(voucher_id)).remaining_cents == 10_000


def test_a_provider_whose_accreditation_missed_a_round_being_opened_joins_it_by_the_job(
    app: VouchersApplication,
) -> None:
    """The accreditation and the round's opening, concurrent, each saw nothing of the other:
    the provider recorded, no account in the round. The periodic job opens it, once."""
    from vouchers.domain.programme_provider import ProgrammeProvider

    round_id = services_round(app)
    app.save(ProgrammeProvider(PROVIDER, ["096004"]))  # as the concurrent accreditation left it
    assert not app.is_affiliated(round_id, PROVIDER)

    assert app.join_open_rounds() == 1
    assert app.is_affiliated(round_id, PROVIDER)
    assert app.join_open_rounds() == 0
