"""The auditor's tally of service vouchers (buoni servizio), from hand-made event lists: a
booking's capture counts as a redemption credited to the provider, like a sale at a till, and
the rules hold — held ≤ balance, captured ≤ held, no capture without hold, only a services
round's voucher held, never a service voucher at a till, never a voucher ending while held."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from benecomune_auditor.records import AuditRecord
from benecomune_auditor.vouchers import VouchersAudit, audit_vouchers
from benecomune_contracts import vouchers as c
from benecomune_contracts.base import ContractEvent
from benecomune_contracts.chain import GENESIS_HASH, LedgerEvent

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PROVIDER = "p-coop-assistenza"
BOOKING = str(uuid.uuid4())


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Ledger:
    """A services round with one household's voucher of 100 EUR and one accredited provider;
    each ledger event linked into its stream's chain."""

    events: list[ContractEvent] = field(default_factory=list)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    clock: datetime = T0
    fund_id: str = field(default_factory=new_id)
    round_id: str = field(default_factory=new_id)
    voucher_id: str = field(default_factory=new_id)
    account_id: str = field(default_factory=new_id)

    def at(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    def emit(self, cls: type[ContractEvent], stream_id: str | None = None, **fields: Any) -> Any:
        if issubclass(cls, LedgerEvent):
            assert stream_id is not None
            sequence, prev_hash = self.heads.get(stream_id, (0, GENESIS_HASH))
            draft = cls(
                stream_id=stream_id,
                sequence=sequence + 1,
                prev_hash=prev_hash,
                event_hash=GENESIS_HASH,
                **fields,
            )
            event: Any = draft.model_copy(update={"event_hash": draft.computed_hash()})
            self.heads[stream_id] = (sequence + 1, event.event_hash)
        else:
            event = cls(**fields)
        self.events.append(event)
        return event

    def open(self, *, services: bool = True) -> Ledger:
        f, r, v = self.fund_id, self.round_id, self.voucher_id
        self.emit(c.FundAllocated, f, fund_id=f, municipality_istat="096004",
                  source_kind="state_transfer", source_reference="DGR 12/2026",
                  amount_cents=100_000, allocated_at=self.at())  # fmt: skip
        self.emit(c.FundBudgetAssigned, f, fund_id=f, round_id=r, amount_cents=50_000,
                  assigned_at=self.at())  # fmt: skip
        self.emit(c.RoundOpened, r, round_id=r, fund_id=f, municipality_istat="096004",
                  title="Buoni servizio", opens_at=T0, closes_at=T0 + timedelta(days=30),
                  budget_cents=50_000, rules={}, denominations_cents=[10_000],
                  validity_days=30, excluded_categories=[], opened_at=self.at())  # fmt: skip
        if services:
            self.emit(c.RoundServicesCovered, r, round_id=r, service_categories=["elderly_care"],
                      covered_at=self.clock)  # fmt: skip
            self.emit(c.ProviderAccountOpened, self.account_id, account_id=self.account_id,
                      round_id=r, provider_id=PROVIDER, service_categories=["elderly_care"],
                      opened_at=self.clock)  # fmt: skip
        application, household = new_id(), new_id()
        self.emit(c.ApplicationApproved, application_id=application, round_id=r,
                  household_id=household, entitlement_cents=10_000, priority=1,
                  approved_at=self.at())  # fmt: skip
        self.emit(c.RoundVouchersCommitted, r, round_id=r, application_id=application,
                  household_id=household, voucher_ids=[v], amount_cents=10_000,
                  committed_at=self.at())  # fmt: skip
        self.emit(c.VoucherIssued, v, voucher_id=v, round_id=r, application_id=application,
                  household_id=household, value_cents=10_000,
                  expires_at=T0 + timedelta(days=30), issued_at=self.clock)  # fmt: skip
        return self

    def hold(self, amount: int, *, held: int | None = None, remaining: int = 10_000,
             category: str = "elderly_care") -> str:  # fmt: skip
        hold_id = new_id()
        self.emit(c.ServiceVoucherHeld, self.voucher_id, voucher_id=self.voucher_id,
                  round_id=self.round_id, hold_id=hold_id, request_id=f"booking:{hold_id}",
                  booking_id=BOOKING, provider_id=PROVIDER, category=category,
                  amount_cents=amount, held_cents=amount if held is None else held,
                  remaining_cents=remaining, expires_at=T0 + timedelta(days=40),
                  held_at=self.at())  # fmt: skip
        return hold_id

    def capture(self, hold_id: str, amount: int, *, released: int = 0, remaining: int,
                credit: bool = True) -> str:  # fmt: skip
        redemption_id = new_id()
        self.emit(c.ServiceVoucherCaptured, self.voucher_id, voucher_id=self.voucher_id,
                  round_id=self.round_id, hold_id=hold_id, request_id=f"booking:{new_id()}",
                  booking_id=BOOKING, redemption_id=redemption_id, provider_id=PROVIDER,
                  category="elderly_care", amount_cents=amount, released_cents=released,
                  held_cents=0, remaining_cents=remaining, captured_at=self.at())  # fmt: skip
        if credit:
            self.emit(c.MerchantCredited, self.account_id, account_id=self.account_id,
                      merchant_id=PROVIDER, redemption_id=redemption_id,
                      voucher_id=self.voucher_id, amount_cents=amount,
                      credited_at=self.clock)  # fmt: skip
        return redemption_id

    def release(self, hold_id: str, amount: int) -> None:
        self.emit(c.ServiceVoucherReleased, self.voucher_id, voucher_id=self.voucher_id,
                  round_id=self.round_id, hold_id=hold_id, request_id=f"booking:{new_id()}",
                  booking_id=BOOKING, amount_cents=amount, held_cents=0,
                  released_at=self.at())  # fmt: skip

    def audit(self) -> VouchersAudit:
        records = [
            AuditRecord(e, f"hand-made #{n}", n, f"event-{n}")
            for n, e in enumerate(self.events, start=1)
        ]
        return audit_vouchers(records, source="hand-made events")


def details(audit: VouchersAudit) -> list[str]:
    return [f"{v.rule}: {v.detail}" for v in audit.violations]


def test_a_captured_service_voucher_is_a_redemption_credited_to_the_provider() -> None:
    ledger = Ledger().open()
    hold_id = ledger.hold(6_000)
    ledger.capture(hold_id, 4_500, released=1_500, remaining=5_500)
    released = ledger.hold(2_000, remaining=5_500)
    ledger.release(released, 2_000)

    audit = ledger.audit()

    assert audit.ok, details(audit)
    fund = audit.tally.fund_figures()[ledger.fund_id]
    assert (fund["issued_cents"], fund["redeemed_cents"]) == (10_000, 4_500)
    assert audit.tally.merchant_figures()[(ledger.round_id, PROVIDER)]["redeemed_cents"] == 4_500
    voucher = audit.tally.vouchers[ledger.voucher_id]
    assert (voucher.remaining_cents, voucher.held_cents) == (5_500, 0)


def test_a_hold_over_what_is_available_breaks_held_within_the_balance() -> None:
    ledger = Ledger().open()
    ledger.hold(7_000)
    ledger.hold(3_001, held=10_001)
    assert details(ledger.audit()) == ["held ≤ balance: held 30,01 € with 30,00 € available"]


def test_a_capture_without_a_hold_or_over_it_is_named() -> None:
    ledger = Ledger().open()
    ledger.capture(new_id(), 1_000, remaining=9_000)
    hold_id = ledger.hold(2_000, remaining=9_000)
    ledger.capture(hold_id, 2_500, remaining=6_500)

    found = details(ledger.audit())
    assert len(found) == 2, found
    assert found[0].startswith("no capture without hold: ends hold")
    assert found[1] == "captured ≤ held: captured 25,00 € of a hold of 20,00 €"


def test_a_food_voucher_held_and_a_category_not_covered_are_named() -> None:
    food = Ledger().open(services=False)
    food.hold(1_000)
    assert any("food voucher" in d for d in details(food.audit()))

    services = Ledger().open()
    services.hold(1_000, category="transport")
    assert any("does not cover" in d for d in details(services.audit()))


def test_a_service_voucher_spent_at_a_till_is_named() -> None:
    ledger = Ledger().open()
    redemption_id = new_id()
    ledger.emit(c.VoucherRedeemed, ledger.voucher_id, voucher_id=ledger.voucher_id,
                round_id=ledger.round_id, redemption_id=redemption_id, merchant_id=PROVIDER,
                amount_cents=1_000, goods_category="food", remaining_cents=9_000,
                redeemed_at=ledger.at())  # fmt: skip
    ledger.emit(c.MerchantCredited, ledger.account_id, account_id=ledger.account_id,
                merchant_id=PROVIDER, redemption_id=redemption_id, voucher_id=ledger.voucher_id,
                amount_cents=1_000, credited_at=ledger.clock)  # fmt: skip
    assert any("at p-coop-assistenza's till" in d for d in details(ledger.audit()))


def test_a_voucher_that_expires_while_held_is_named() -> None:
    ledger = Ledger().open()
    ledger.hold(4_000)
    ledger.emit(c.VoucherExpired, ledger.voucher_id, voucher_id=ledger.voucher_id,
                round_id=ledger.round_id, amount_cents=10_000,
                expired_at=ledger.at())  # fmt: skip
    assert any("ended while holding 40,00 €" in d for d in details(ledger.audit()))


def test_a_capture_the_provider_was_never_credited_for_is_named() -> None:
    ledger = Ledger().open()
    hold_id = ledger.hold(3_000)
    ledger.capture(hold_id, 3_000, remaining=7_000, credit=False)
    assert any("never credited" in d for d in details(ledger.audit()))
