"""The auditor's reconciliation of bookings, from hand-built event streams (the booking's
requests and facts, the wallet's, the vouchers service's and the catalog's answers): a clean
package, a compensated booking, and captures, releases and holds that do not add up, each
named by its rule."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from benecomune_auditor.booking import audit_bookings
from benecomune_contracts import booking as b
from benecomune_contracts import catalog, vouchers, wallet

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
CHAIN: dict[str, Any] = {"sequence": 1, "prev_hash": "0" * 64, "event_hash": "0" * 64}
WALLET, VOUCHER = "w-1", "v-1"


@dataclass
class Story:
    """One booking as its topics tell it."""

    prices: list[int]
    events: list[Any] = field(default_factory=list)
    booking_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    clock: datetime = T0

    def at(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    def rid(self, step: str) -> str:
        return f"booking:{self.booking_id}:{step}"

    def request(self, split: dict[str, int]) -> Story:
        components = [
            b.ComponentFacts(
                component=i,
                offering_id=f"o-{i}",
                provider_id=f"p-{i}",
                slot_id=f"s-{i}",
                starts_at=T0 + timedelta(days=5),
                price_cents=price,
                category="elderly_care",
            )
            for i, price in enumerate(self.prices, start=1)
        ]
        paid = [b.SourcePaid(source=s, account_id=_account(s), amount_cents=c)  # type: ignore[arg-type]
                for s, c in split.items()]  # fmt: skip
        self.events.append(b.BookingRequested(
            booking_id=self.booking_id, beneficiary_id="b-1", requested_by="beneficiary",
            components=components, total_cents=sum(self.prices), split=paid,
            requested_at=self.at(),
        ))  # fmt: skip
        return self

    def hold_slot(self, i: int, confirm: bool = True) -> None:
        self.events.append(b.SlotHoldRequested(
            booking_id=self.booking_id, component=i, request_id=self.rid(f"c{i}:slot"),
            slot_id=f"s-{i}", offering_id=f"o-{i}", provider_id=f"p-{i}",
            expires_at=self.clock + timedelta(hours=1), requested_at=self.at(),
        ))  # fmt: skip
        if confirm:
            self.events.append(catalog.SlotHoldConfirmed(
                slot_id=f"s-{i}", request_id=self.rid(f"c{i}:slot"), quantity=1,
                confirmed_at=self.at(),
            ))  # fmt: skip

    def hold(self, i: int, source: str, cents: int, hours: int = 48) -> str:
        request_id = self.rid(f"c{i}:{source[0]}:hold")
        expires = self.clock + timedelta(hours=hours)
        self.events.append(b.FundsHoldRequested(
            booking_id=self.booking_id, component=i, request_id=request_id,
            source=source, account_id=_account(source), amount_cents=cents,  # type: ignore[arg-type]
            category="elderly_care", provider_id=f"p-{i}", beneficiary_id="b-1",
            expires_at=expires, requested_at=self.at(),
        ))  # fmt: skip
        hold_id = f"h-{self.booking_id[:8]}-{i}-{source}"
        if source == "wallet":
            self.events.append(wallet.FundsHeld(
                stream_id=WALLET, **CHAIN, transfers=[], wallet_id=WALLET, employee_id="b-1",
                hold_id=hold_id, request_id=request_id, provider_id=f"p-{i}",
                category="services_no_cap", amount_cents=cents, expires_at=expires,
                held_at=self.at(),
            ))  # fmt: skip
        else:
            self.events.append(vouchers.ServiceVoucherHeld(
                stream_id=VOUCHER, **CHAIN, voucher_id=VOUCHER, round_id="r-1",
                hold_id=hold_id, request_id=request_id, booking_id=self.booking_id,
                provider_id=f"p-{i}", category="elderly_care", amount_cents=cents,
                held_cents=cents, remaining_cents=0, expires_at=expires, held_at=self.at(),
            ))  # fmt: skip
        return hold_id

    def capture(self, i: int, source: str, hold_id: str, cents: int) -> None:
        if source == "wallet":
            self.events.append(wallet.HoldCaptured(
                stream_id=WALLET, **CHAIN, transfers=[], wallet_id=WALLET, employee_id="b-1",
                hold_id=hold_id, provider_id=f"p-{i}", category="services_no_cap",
                amount_cents=cents, released_cents=0, captured_at=self.at(),
            ))  # fmt: skip
        else:
            self.events.append(vouchers.ServiceVoucherCaptured(
                stream_id=VOUCHER, **CHAIN, voucher_id=VOUCHER, round_id="r-1",
                hold_id=hold_id, request_id=self.rid(f"c{i}:v:capture"),
                booking_id=self.booking_id, redemption_id=f"x-{i}", provider_id=f"p-{i}",
                category="elderly_care", amount_cents=cents, released_cents=0, held_cents=0,
                remaining_cents=0, captured_at=self.at(),
            ))  # fmt: skip

    def release(self, source: str, hold_id: str, cents: int) -> None:
        if source == "wallet":
            self.events.append(wallet.HoldReleased(
                stream_id=WALLET, **CHAIN, transfers=[], wallet_id=WALLET, employee_id="b-1",
                hold_id=hold_id, amount_cents=cents, released_at=self.at(),
            ))  # fmt: skip
        else:
            self.events.append(vouchers.ServiceVoucherReleased(
                stream_id=VOUCHER, **CHAIN, voucher_id=VOUCHER, round_id="r-1",
                hold_id=hold_id, booking_id=self.booking_id, amount_cents=cents, held_cents=0,
                released_at=self.at(),
            ))  # fmt: skip

    def captured(self, i: int, paid: dict[str, int], co_payment_due: int | None = None) -> None:
        shares = [b.SourcePaid(source=s, account_id=_account(s), amount_cents=c)  # type: ignore[arg-type]
                  for s, c in paid.items()]  # fmt: skip
        due = paid.get("co_payment", 0) if co_payment_due is None else co_payment_due
        if due:
            self.events.append(b.CoPaymentDue(
                booking_id=self.booking_id, component=i, provider_id=f"p-{i}",
                amount_cents=due, why="delivery", due_at=self.at(),
            ))  # fmt: skip
        self.events.append(b.ComponentCaptured(
            booking_id=self.booking_id, component=i, provider_id=f"p-{i}", paid=shares,
            total_cents=sum(paid.values()), captured_at=self.at(),
        ))  # fmt: skip

    def confirmed(self) -> None:
        self.events.append(b.BookingConfirmed(
            booking_id=self.booking_id, beneficiary_id="b-1", total_cents=sum(self.prices),
            confirmed_at=self.at(),
        ))  # fmt: skip


def _account(source: str) -> str | None:
    return {"wallet": WALLET, "voucher": VOUCHER}.get(source)


def package(capture_wallet: int = 5_000) -> Story:
    """Three providers, paid with welfare credit, a service voucher and a co-payment: each
    component 100 EUR = 50 wallet + 30 voucher + 20 co-payment."""
    story = Story([10_000, 10_000, 10_000]).request(
        {"wallet": 15_000, "voucher": 9_000, "co_payment": 6_000}
    )
    holds = {}
    for i in (1, 2, 3):
        story.hold_slot(i)
        holds[i] = (story.hold(i, "wallet", 5_000), story.hold(i, "voucher", 3_000))
    story.confirmed()
    for i in (1, 2, 3):
        story.capture(i, "wallet", holds[i][0], capture_wallet if i == 2 else 5_000)
        story.capture(i, "voucher", holds[i][1], 3_000)
        story.captured(i, {"wallet": 5_000, "voucher": 3_000, "co_payment": 2_000})
    return story


def rules(story: Story, **kwargs: Any) -> list[tuple[str, int | None]]:
    audit = audit_bookings(story.events, source="test", **kwargs)
    return [(v.rule, v.component) for v in audit.violations]


def test_a_clean_package_reconciles_to_the_cent() -> None:
    audit = audit_bookings(package().events, source="test")
    assert audit.ok, audit.summary_lines()
    f = audit.figures
    assert (f["captured_wallet_cents"], f["captured_voucher_cents"], f["co_payment_cents"]) == (
        15_000, 9_000, 6_000,
    )  # fmt: skip
    assert (f["bookings_confirmed"], f["components_captured"], f["holds_open"]) == (1, 3, 0)
    assert audit.summary_lines()[-1] == "OK: every booking reconciles"


def test_a_capture_that_does_not_add_up_is_named() -> None:
    assert rules(package(capture_wallet=4_900)) == [("capture_mismatch", 2)]


def test_a_co_payment_not_declared_due_is_named() -> None:
    story = Story([10_000]).request({"wallet": 8_000, "co_payment": 2_000})
    story.hold_slot(1)
    hold = story.hold(1, "wallet", 8_000)
    story.confirmed()
    story.capture(1, "wallet", hold, 8_000)
    story.captured(1, {"wallet": 8_000, "co_payment": 2_000}, co_payment_due=1_500)
    assert rules(story) == [("capture_mismatch", 1)]


def test_a_compensated_booking_may_release_its_holds() -> None:
    story = Story([10_000, 5_000]).request({"wallet": 15_000})
    story.hold_slot(1, confirm=False)
    first = story.hold(1, "wallet", 10_000)
    story.events.append(b.BookingCompensated(
        booking_id=story.booking_id, beneficiary_id="b-1", reason_code="provider_declined",
        compensated_at=story.at(),
    ))  # fmt: skip
    story.release("wallet", first, 10_000)
    audit = audit_bookings(story.events, source="test")
    assert audit.ok, audit.summary_lines()
    assert (audit.figures["bookings_compensated"], audit.figures["holds_open"]) == (1, 0)


def test_a_release_for_a_booking_still_going_is_unexplained() -> None:
    story = Story([10_000]).request({"voucher": 10_000})
    story.hold_slot(1)
    hold = story.hold(1, "voucher", 10_000)
    story.confirmed()
    story.release("voucher", hold, 10_000)
    assert rules(story) == [("release_unexplained", 1)]


def test_a_hold_left_open_past_its_deadline_is_named_at_the_end_of_the_replay() -> None:
    story = Story([10_000]).request({"wallet": 10_000})
    story.hold_slot(1)
    story.hold(1, "wallet", 10_000, hours=2)
    story.confirmed()
    assert rules(story) == []  # the topics end before the deadline
    assert rules(story, as_of=T0 + timedelta(hours=3)) == [("hold_open_past_deadline", 1)]


def test_a_confirmed_booking_whose_slot_the_catalog_never_confirmed_is_named() -> None:
    story = Story([10_000]).request({"co_payment": 10_000})
    story.hold_slot(1, confirm=False)
    story.confirmed()
    assert rules(story) == [("slot_not_confirmed", 1)]
    assert rules(story, read_catalog=False) == []


def test_a_hold_captured_but_never_settled_is_named() -> None:
    story = Story([10_000]).request({"wallet": 10_000})
    story.hold_slot(1)
    hold = story.hold(1, "wallet", 10_000)
    story.confirmed()
    story.capture(1, "wallet", hold, 10_000)
    assert rules(story) == [("capture_without_settlement", 1)]
