"""The auditor's tally of the vouchers ledger, from hand-made event lists: what it adds up, the
money rules it checks, the comparison with the service's figures, and tampering found by the
hash chain (an edited amount, a deleted event, two events swapped) named in the report — as
contract events and as Kafka messages of a topic copy."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from benecomune_auditor.kafka_copy import TopicCopy, TopicMessage, records_from_messages
from benecomune_auditor.ledger_seal import LedgerSeal
from benecomune_auditor.records import AuditItem, AuditRecord
from benecomune_auditor.topic_reader import Cut, content_hash
from benecomune_auditor.vouchers import (
    FUND_FIGURES,
    ServiceFigures,
    VouchersAudit,
    audit_vouchers,
    euro,
)
from benecomune_contracts import EventEnvelope
from benecomune_contracts import vouchers as c
from benecomune_contracts.base import ContractEvent
from benecomune_contracts.chain import GENESIS_HASH, LedgerEvent

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VAT = "06363391001"
TOPIC = "t.benecomune.vouchers"
LEDGER_TYPES = (
    c.FundAllocated,
    c.FundToppedUp,
    c.FundBudgetAssigned,
    c.RoundOpened,
    c.RoundVouchersCommitted,
    c.RoundValueReturned,
    c.VoucherIssued,
    c.VoucherRedeemed,
    c.VoucherRedemptionVoided,
    c.VoucherExpired,
    c.VoucherRevoked,
    c.MerchantAffiliated,
    c.MerchantCredited,
    c.MerchantDebited,
    c.ReimbursementClaimed,
    c.ReimbursementApproved,
    c.ReimbursementPaid,
)


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Ledger:
    """Hand-made contract events, each ledger event properly linked into its stream's chain."""

    events: list[ContractEvent] = field(default_factory=list)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    clock: datetime = T0

    def at(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    def emit(self, cls: type[ContractEvent], stream_id: str | None = None, **fields: Any) -> Any:
        event: ContractEvent
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
            linked = draft.model_copy(update={"event_hash": draft.computed_hash()})
            self.heads[stream_id] = (sequence + 1, linked.event_hash)
            event = linked
        else:
            event = cls(**fields)
        self.events.append(event)
        return event

    # --- the story's steps --------------------------------------------------------------------

    def fund(self, amount: int, municipality: str = "096004") -> str:
        fund_id = new_id()
        self.emit(
            c.FundAllocated,
            fund_id,
            fund_id=fund_id,
            municipality_istat=municipality,
            source_kind="state_transfer",
            source_reference="OCDPC 658/2020",
            amount_cents=amount,
            allocated_at=self.at(),
        )
        return fund_id

    def top_up(self, fund_id: str, amount: int) -> None:
        self.emit(
            c.FundToppedUp,
            fund_id,
            fund_id=fund_id,
            source_kind="donation",
            source_reference="Fondazione Cassa di Risparmio di Biella",
            amount_cents=amount,
            topped_up_at=self.at(),
        )

    def round(self, fund_id: str, budget: int) -> str:
        round_id = new_id()
        self.emit(
            c.FundBudgetAssigned,
            fund_id,
            fund_id=fund_id,
            round_id=round_id,
            amount_cents=budget,
            assigned_at=self.at(),
        )
        self.emit(
            c.RoundOpened,
            round_id,
            round_id=round_id,
            fund_id=fund_id,
            municipality_istat="096004",
            title="Buoni spesa",
            opens_at=T0,
            closes_at=T0 + timedelta(days=30),
            budget_cents=budget,
            rules={"base_cents": 15_000},
            denominations_cents=[1_000, 2_000, 2_500, 5_000],
            validity_days=30,
            excluded_categories=["alcohol", "tobacco"],
            opened_at=self.at(),
        )
        return round_id

    def serve(self, round_id: str, *values: int) -> tuple[str, list[str]]:
        """A household applies, is approved and gets vouchers of these values."""
        application_id, household_id = new_id(), new_id()
        self.emit(
            c.ApplicationSubmitted,
            application_id=application_id,
            round_id=round_id,
            household_id=household_id,
            members=3,
            minors=1,
            submitted_at=self.at(),
        )
        self.emit(
            c.ApplicationApproved,
            application_id=application_id,
            round_id=round_id,
            household_id=household_id,
            entitlement_cents=sum(values),
            priority=1,
            approved_at=self.at(),
        )
        voucher_ids = [new_id() for _ in values]
        self.commit(
            round_id, application_id, household_id, dict(zip(voucher_ids, values, strict=True))
        )
        return household_id, voucher_ids

    def commit(
        self,
        round_id: str,
        application_id: str,
        household_id: str,
        vouchers: dict[str, int],
        amount: int | None = None,
    ) -> None:
        """The round commits ``amount`` (default: the vouchers' values) to the household, and
        the vouchers not issued yet are issued."""
        self.emit(
            c.RoundVouchersCommitted,
            round_id,
            round_id=round_id,
            application_id=application_id,
            household_id=household_id,
            voucher_ids=list(vouchers),
            amount_cents=sum(vouchers.values()) if amount is None else amount,
            committed_at=self.at(),
        )
        for voucher_id, value in vouchers.items():
            if voucher_id in self.heads:
                continue
            self.emit(
                c.VoucherIssued,
                voucher_id,
                voucher_id=voucher_id,
                round_id=round_id,
                application_id=application_id,
                household_id=household_id,
                value_cents=value,
                expires_at=T0 + timedelta(days=30),
                issued_at=self.at(),
            )

    def shop(self, round_id: str, merchant_id: str) -> str:
        account_id = new_id()
        self.emit(
            c.MerchantAffiliated,
            account_id,
            account_id=account_id,
            round_id=round_id,
            merchant_id=merchant_id,
            vat_number=VAT,
            goods_categories=["food", "hygiene"],
            excluded_categories=["alcohol", "tobacco"],
            affiliated_at=self.at(),
        )
        return account_id

    def redeem(
        self,
        round_id: str,
        voucher_id: str,
        account_id: str,
        merchant_id: str,
        amount: int,
        remaining: int,
        category: str = "food",
    ) -> str:
        redemption_id = new_id()
        self.emit(
            c.VoucherRedeemed,
            voucher_id,
            voucher_id=voucher_id,
            round_id=round_id,
            redemption_id=redemption_id,
            merchant_id=merchant_id,
            amount_cents=amount,
            goods_category=category,
            remaining_cents=remaining,
            redeemed_at=self.at(),
        )
        self.credit(account_id, merchant_id, voucher_id, amount, redemption_id)
        return redemption_id

    def credit(
        self,
        account_id: str,
        merchant_id: str,
        voucher_id: str,
        amount: int,
        redemption_id: str | None = None,
    ) -> None:
        """A shop credited for a redemption (by default one the voucher never recorded)."""
        self.emit(
            c.MerchantCredited,
            account_id,
            account_id=account_id,
            merchant_id=merchant_id,
            redemption_id=redemption_id or new_id(),
            voucher_id=voucher_id,
            amount_cents=amount,
            credited_at=self.clock,
        )

    def void(
        self,
        round_id: str,
        voucher_id: str,
        account_id: str,
        merchant_id: str,
        redemption_id: str,
        amount: int,
    ) -> None:
        self.emit(
            c.VoucherRedemptionVoided,
            voucher_id,
            voucher_id=voucher_id,
            round_id=round_id,
            redemption_id=redemption_id,
            merchant_id=merchant_id,
            amount_cents=amount,
            voided_at=self.at(),
        )
        self.emit(
            c.MerchantDebited,
            account_id,
            account_id=account_id,
            merchant_id=merchant_id,
            redemption_id=redemption_id,
            amount_cents=amount,
            debited_at=self.clock,
        )

    def expire(self, round_id: str, voucher_id: str, amount: int) -> None:
        self.emit(
            c.VoucherExpired,
            voucher_id,
            voucher_id=voucher_id,
            round_id=round_id,
            amount_cents=amount,
            expired_at=self.at(),
        )
        if amount:
            self.emit(
                c.RoundValueReturned,
                round_id,
                round_id=round_id,
                voucher_id=voucher_id,
                amount_cents=amount,
                reason="expired",
                returned_at=self.clock,
            )

    def revoke(self, round_id: str, voucher_id: str, amount: int) -> None:
        self.emit(
            c.VoucherRevoked,
            voucher_id,
            voucher_id=voucher_id,
            round_id=round_id,
            amount_cents=amount,
            reason_code="false_declaration",
            revoked_at=self.at(),
        )
        self.emit(
            c.RoundValueReturned,
            round_id,
            round_id=round_id,
            voucher_id=voucher_id,
            amount_cents=amount,
            reason="revoked",
            returned_at=self.clock,
        )

    def claim(
        self,
        round_id: str,
        account_id: str,
        merchant_id: str,
        redemption_ids: list[str],
        amount: int,
    ) -> str:
        claim_id = new_id()
        self.emit(
            c.ReimbursementClaimed,
            account_id,
            account_id=account_id,
            claim_id=claim_id,
            merchant_id=merchant_id,
            round_id=round_id,
            period_from=date(2026, 3, 1),
            period_to=date(2026, 3, 31),
            amount_cents=amount,
            redemption_ids=redemption_ids,
            claimed_at=self.at(),
        )
        return claim_id

    def approve(self, account_id: str, merchant_id: str, claim_id: str, amount: int) -> None:
        self.emit(
            c.ReimbursementApproved,
            account_id,
            account_id=account_id,
            claim_id=claim_id,
            merchant_id=merchant_id,
            amount_cents=amount,
            payment_due_on=date(2026, 4, 30),
            approved_at=self.at(),
        )

    def pay(self, account_id: str, merchant_id: str, claim_id: str, amount: int) -> None:
        self.emit(
            c.ReimbursementPaid,
            account_id,
            account_id=account_id,
            claim_id=claim_id,
            merchant_id=merchant_id,
            amount_cents=amount,
            payment_reference="CRO 0000012345",
            paid_at=self.at(),
        )


def records(events: list[ContractEvent]) -> list[AuditItem]:
    return [
        AuditRecord(event, f"hand-made #{n}", n, f"event-{n}") for n, event in enumerate(events, 1)
    ]


def audit(
    events: list[ContractEvent],
    figures: ServiceFigures | None = None,
    since: LedgerSeal | None = None,
) -> VouchersAudit:
    return audit_vouchers(records(events), source="hand-made events", figures=figures, since=since)


@dataclass
class Story:
    ledger: Ledger
    fund_id: str
    round_id: str
    household_a: str
    household_b: str
    vouchers_a: list[str]
    vouchers_b: list[str]
    shop_1: str
    shop_2: str
    redemptions: list[str]


def story() -> Story:
    """Biella's fund of 1,000 EUR plus a 200 EUR donation; a round of 500 EUR; two households
    served (150 and 100 EUR); two shops; spending, a void, a revocation, an expiry; a claim
    approved and paid, another claimed and waiting."""
    ledger = Ledger()
    fund_id = ledger.fund(100_000)
    ledger.top_up(fund_id, 20_000)
    round_id = ledger.round(fund_id, 50_000)
    household_a, vouchers_a = ledger.serve(round_id, 10_000, 5_000)
    household_b, vouchers_b = ledger.serve(round_id, 5_000, 5_000)
    shop_1 = ledger.shop(round_id, "m-001")
    shop_2 = ledger.shop(round_id, "m-002")
    r1 = ledger.redeem(round_id, vouchers_a[0], shop_1, "m-001", 3_000, 7_000)
    r2 = ledger.redeem(round_id, vouchers_a[0], shop_2, "m-002", 2_550, 4_450)
    r3 = ledger.redeem(round_id, vouchers_a[1], shop_1, "m-001", 5_000, 0)
    r4 = ledger.redeem(round_id, vouchers_b[0], shop_2, "m-002", 1_999, 3_001)
    ledger.void(round_id, vouchers_b[0], shop_2, "m-002", r4, 1_999)
    r5 = ledger.redeem(round_id, vouchers_b[0], shop_2, "m-002", 1_990, 3_010)
    ledger.revoke(round_id, vouchers_b[1], 5_000)
    ledger.expire(round_id, vouchers_a[1], 0)  # spent in full: nothing returns
    ledger.expire(round_id, vouchers_b[0], 3_010)
    claim_1 = ledger.claim(round_id, shop_1, "m-001", [r1, r3], 8_000)
    ledger.approve(shop_1, "m-001", claim_1, 8_000)
    ledger.pay(shop_1, "m-001", claim_1, 8_000)
    ledger.claim(round_id, shop_2, "m-002", [r2, r5], 4_540)
    return Story(
        ledger,
        fund_id,
        round_id,
        household_a,
        household_b,
        vouchers_a,
        vouchers_b,
        shop_1,
        shop_2,
        [r1, r2, r3, r4, r5],
    )


EXPECTED_FUND = {
    "allocated_cents": 120_000,
    "assigned_to_rounds_cents": 50_000,
    "issued_cents": 25_000,
    "redeemed_cents": 12_540,  # 3,000 + 2,550 + 5,000 + 1,990 (1,999 voided)
    "reimbursed_cents": 8_000,
    "returned_cents": 8_010,  # 5,000 revoked + 3,010 expired
    "available_cents": 103_010,  # 120,000 - 25,000 + 8,010
}


def service_figures(s: Story, **changes: int) -> ServiceFigures:
    return ServiceFigures(
        "the service (hand-made)",
        {s.fund_id: {**EXPECTED_FUND, **changes}},
        {
            (s.round_id, "m-001"): {
                "redeemed_cents": 8_000,
                "claimed_cents": 8_000,
                "approved_cents": 8_000,
                "reimbursed_cents": 8_000,
            },
            (s.round_id, "m-002"): {
                "redeemed_cents": 4_540,
                "claimed_cents": 4_540,
                "approved_cents": 0,
                "reimbursed_cents": 0,
            },
        },
    )


# --- The tally -----------------------------------------------------------------------------------


def test_the_tally_adds_up_funds_rounds_shops_and_households_from_events_alone() -> None:
    s = story()
    result = audit(s.ledger.events, service_figures(s))

    assert result.replay.intact
    assert result.violations == []
    assert result.comparison is not None and result.comparison.differences == []
    assert result.ok
    assert result.tally.fund_figures() == {s.fund_id: EXPECTED_FUND}
    assert set(FUND_FIGURES) == set(EXPECTED_FUND)

    shops = {m.merchant_id: m for m in result.tally.merchants.values()}
    assert (shops["m-001"].redeemed_cents, shops["m-001"].reimbursed_cents) == (8_000, 8_000)
    assert (shops["m-002"].redeemed_cents, shops["m-002"].claimed_cents) == (4_540, 4_540)
    assert shops["m-002"].outstanding_cents == 4_540

    a, b = result.tally.households[s.household_a], result.tally.households[s.household_b]
    assert (a.issued_cents, a.redeemed_cents, a.returned_cents, a.vouchers) == (
        15_000,
        10_550,
        0,
        2,
    )
    assert (b.issued_cents, b.redeemed_cents, b.returned_cents, b.status) == (
        10_000,
        1_990,
        8_010,
        "issued",
    )
    round_ = result.tally.rounds[s.round_id]
    assert round_.available_cents == 50_000 - 25_000 + 8_010
    assert round_.applications == {"issued": 2}

    report = result.replay
    ledger_events = sum(isinstance(e, LedgerEvent) for e in s.ledger.events)
    assert report.ledger_events == ledger_events
    assert report.other_events == 4
    assert report.streams == len(s.ledger.heads)


def test_the_report_counts_each_application_once_in_its_final_status() -> None:
    """Ten applications: 3 issued at once, 2 rejected (one after approval), 1 still submitted,
    2 waitlisted and still waiting, 2 waitlisted and then served from the waitlist (money
    returned). The events-per-status count said approved 6, rejected 2, submitted 10,
    waitlisted 5 (a re-rank is a second Waitlisted event); the facts are these."""
    ledger = Ledger()
    fund_id = ledger.fund(100_000)
    round_id = ledger.round(fund_id, 30_000)
    at = ledger.at

    def apply() -> tuple[str, str]:
        application_id, household_id = new_id(), new_id()
        ledger.emit(
            c.ApplicationSubmitted,
            application_id=application_id,
            round_id=round_id,
            household_id=household_id,
            members=2,
            minors=0,
            submitted_at=at(),
        )
        return application_id, household_id

    def approve(application: tuple[str, str]) -> None:
        ledger.emit(
            c.ApplicationApproved,
            application_id=application[0],
            round_id=round_id,
            household_id=application[1],
            entitlement_cents=5_000,
            priority=1,
            approved_at=at(),
        )

    def reject(application: tuple[str, str]) -> None:
        ledger.emit(
            c.ApplicationRejected,
            application_id=application[0],
            round_id=round_id,
            household_id=application[1],
            reason_code="isee_too_high",
            rejected_at=at(),
        )

    def waitlist(application: tuple[str, str], rank: int) -> None:
        ledger.emit(
            c.ApplicationWaitlisted,
            application_id=application[0],
            round_id=round_id,
            household_id=application[1],
            rank=rank,
            waitlisted_at=at(),
        )

    def serve(application: tuple[str, str]) -> str:
        voucher_id = new_id()
        ledger.commit(round_id, application[0], application[1], {voucher_id: 5_000})
        return voucher_id

    applications = [apply() for _ in range(10)]
    issued, rejected, still_submitted = applications[:3], applications[3:5], applications[5]
    waiting, served_late = applications[6:8], applications[8:]
    for application in [*issued, rejected[1], *waiting, *served_late]:
        approve(application)
    reject(rejected[0])
    reject(rejected[1])
    spent = [serve(a) for a in issued]
    for rank, application in enumerate([*served_late, *waiting], start=1):
        waitlist(application, rank)
    ledger.emit(
        c.VoucherRevoked,
        spent[0],
        voucher_id=spent[0],
        round_id=round_id,
        amount_cents=5_000,
        reason_code="false_declaration",
        revoked_at=at(),
    )
    ledger.emit(
        c.RoundValueReturned,
        round_id,
        round_id=round_id,
        voucher_id=spent[0],
        amount_cents=5_000,
        reason="revoked",
        returned_at=at(),
    )
    serve(served_late[0])
    waitlist(served_late[1], 1)  # re-ranked: a second Waitlisted event, still one application
    waitlist(waiting[0], 2)
    waitlist(waiting[1], 3)
    ledger.emit(
        c.VoucherExpired,
        spent[1],
        voucher_id=spent[1],
        round_id=round_id,
        amount_cents=5_000,
        expired_at=at(),
    )
    ledger.emit(
        c.RoundValueReturned,
        round_id,
        round_id=round_id,
        voucher_id=spent[1],
        amount_cents=5_000,
        reason="expired",
        returned_at=at(),
    )
    serve(served_late[1])

    result = audit(ledger.events)

    assert result.violations == []
    round_ = result.tally.rounds[round_id]
    assert round_.applications == {
        "issued": 5,
        "rejected": 2,
        "submitted": 1,
        "waitlisted": 2,
    }
    assert sum(round_.applications.values()) == 10
    [reported] = result.as_dict()["funds"][0]["rounds"]
    assert reported["applications"] == {
        "issued": 5,
        "rejected": 2,
        "submitted": 1,
        "waitlisted": 2,
    }
    assert reported["households_served"] == 5
    statuses = {h.household_id: h.status for h in result.tally.households.values()}
    assert {statuses[a[1]] for a in served_late} == {"issued"}  # not "waitlisted"
    assert {statuses[a[1]] for a in waiting} == {"waitlisted"}
    assert {statuses[a[1]] for a in rejected} == {"rejected"}
    assert statuses[still_submitted[1]] == "submitted"


def test_exact_duplicates_from_at_least_once_delivery_are_skipped_not_counted_twice() -> None:
    s = story()
    events = s.ledger.events
    everything = records(events)
    again = everything[-6:]  # a relay re-published its last batch
    applications = [
        r for r in everything if isinstance(r, AuditRecord) and not isinstance(r.event, LedgerEvent)
    ][:2]
    result = audit_vouchers(
        [*everything, *again, *applications], source="with duplicates", figures=service_figures(s)
    )
    assert result.ok, result.summary_lines()
    assert result.replay.duplicates == 6 + 2
    assert result.tally.fund_figures()[s.fund_id] == EXPECTED_FUND


def test_the_outputs_carry_every_level_and_the_summary_says_ok() -> None:
    s = story()
    result = audit(s.ledger.events, service_figures(s))
    rows = result.csv_rows()
    assert [r["level"] for r in rows] == [
        "fund",
        "source",
        "source",
        "round",
        "merchant",
        "merchant",
    ]
    fund_row = rows[0]
    assert fund_row["allocated_cents"] == 120_000
    assert fund_row["available_cents"] == 103_010
    assert rows[2]["source_kind"] == "donation" and rows[2]["allocated_cents"] == 20_000
    assert rows[4]["merchant_id"] == "m-001" and rows[4]["issued_cents"] == ""
    assert (
        rows[4]["approved_cents"]
        == result.tally.merchant_figures()[(rows[4]["round_id"], "m-001")]["approved_cents"]
    )
    data = result.as_dict()
    json.dumps(data)  # serialisable as it is
    assert data["ok"] is True
    assert data["funds"][0]["rounds"][0]["households_served"] == 2
    summary = result.summary_lines()
    assert summary[-1] == "RESULT: OK"
    # The printed summary (and so the PDF) shows the money per source and per shop too.
    donations = [line for line in summary if line.strip().startswith("source donation")]
    assert len(donations) == 1 and donations[0].endswith("200,00 €")
    shops = [line for line in summary if line.startswith("  shop m-001")]
    assert len(shops) == 1 and "redeemed" in shops[0] and "reimbursed" in shops[0]
    assert euro(103_010) == "1.030,10 €" and euro(-5) == "-0,05 €"


# --- Tampering, found by the hash chain ---------------------------------------------------------


def test_an_edited_amount_is_named_with_its_stream_sequence_and_type() -> None:
    s = story()
    events = list(s.ledger.events)
    index = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, c.VoucherRedeemed) and e.redemption_id == s.redemptions[1]
    )
    original = events[index]
    assert isinstance(original, c.VoucherRedeemed)
    events[index] = original.model_copy(update={"amount_cents": 550})  # 25.50 -> 5.50 EUR

    result = audit(events, service_figures(s))

    assert not result.ok
    assert [(b.kind, b.stream_id, b.sequence, b.type_name) for b in result.replay.breaks] == [
        ("edited", s.vouchers_a[0], original.sequence, c.VoucherRedeemed.type_name)
    ]
    assert result.replay.breaks[0].origin == f"hand-made #{index + 1}"
    text = "\n".join(result.summary_lines())
    assert f"stream {s.vouchers_a[0]} sequence {original.sequence}" in text
    assert "VoucherRedeemed" in text and text.endswith("RESULT: FAILED")


def test_an_edited_amount_with_a_recomputed_hash_breaks_the_next_link() -> None:
    s = story()
    events = list(s.ledger.events)
    index = next(i for i, e in enumerate(events) if isinstance(e, c.MerchantCredited))
    original = events[index]
    assert isinstance(original, c.MerchantCredited)
    forged = original.model_copy(update={"amount_cents": 30_000})
    events[index] = forged.model_copy(update={"event_hash": forged.computed_hash()})

    result = audit(events)

    broken = result.replay.breaks
    assert [(b.kind, b.stream_id, b.sequence) for b in broken] == [
        ("edited", s.shop_1, original.sequence + 1)
    ]
    assert f"does not match event {original.sequence}: that event was edited" in broken[0].detail


def test_a_deleted_event_is_named_as_missing() -> None:
    s = story()
    events = list(s.ledger.events)
    victim = next(
        e
        for e in events
        if isinstance(e, c.MerchantCredited) and e.redemption_id == s.redemptions[2]
    )
    events.remove(victim)

    result = audit(events, service_figures(s))

    assert not result.ok
    (gap,) = result.replay.breaks
    assert (gap.kind, gap.stream_id, gap.sequence) == ("missing", s.shop_1, victim.sequence + 1)
    assert f"events {victim.sequence}..{victim.sequence} are missing" in gap.detail
    # Without that credit the shop's figures no longer match the service's either.
    assert {(d.subject, d.figure) for d in result.comparison.differences} >= {  # type: ignore[union-attr]
        (f"fund {s.fund_id}", "redeemed_cents"),
        (f"merchant m-001 in round {s.round_id}", "redeemed_cents"),
    }


def test_two_swapped_events_are_named() -> None:
    s = story()
    events = list(s.ledger.events)
    stream = [i for i, e in enumerate(events) if getattr(e, "stream_id", None) == s.vouchers_a[0]]
    first, second = stream[1], stream[2]  # its first two redemptions
    events[first], events[second] = events[second], events[first]

    result = audit(events)

    named = [(b.kind, b.stream_id, b.sequence) for b in result.replay.breaks]
    assert named == [
        ("missing", s.vouchers_a[0], 3),
        ("out_of_order", s.vouchers_a[0], 2),
    ]
    assert not result.ok


# --- What a chain cannot see alone: its end cut off or rewritten, found by an earlier seal ---


def last_of(events: list[ContractEvent], stream_id: str) -> int:
    return max(i for i, e in enumerate(events) if getattr(e, "stream_id", None) == stream_id)


def test_a_stream_whose_last_event_was_deleted_is_named_against_an_earlier_seal() -> None:
    s = story()
    sealed = audit(s.ledger.events).replay.seal
    events = list(s.ledger.events)
    tail = events.pop(last_of(events, s.vouchers_a[0]))
    assert isinstance(tail, LedgerEvent)

    alone = audit(events)
    checked = audit(events, since=sealed)

    assert alone.replay.intact  # what is left still links up: the chain cannot see it
    assert [(b.kind, b.stream_id, b.sequence, b.type_name) for b in checked.replay.breaks] == [
        ("deleted", s.vouchers_a[0], tail.sequence, tail.type_name)
    ]
    finding = checked.replay.breaks[0]
    assert f"events {tail.sequence}..{tail.sequence} were deleted" in finding.detail
    assert finding.origin.startswith("sealed by an earlier audit")
    assert not checked.ok
    text = "\n".join(checked.summary_lines())
    assert f"checked against an earlier audit's seal {sealed.digest}" in text  # type: ignore[union-attr]


def test_a_stream_deleted_whole_is_named_against_an_earlier_seal() -> None:
    s = story()
    sealed = audit(s.ledger.events).replay.seal
    events = [e for e in s.ledger.events if getattr(e, "stream_id", None) != s.shop_2]

    checked = audit(events, since=sealed)

    (gone,) = [b for b in checked.replay.breaks if b.stream_id == s.shop_2]
    assert gone.kind == "deleted" and "the ledger has no event of it" in gone.detail


def test_a_last_event_rewritten_with_its_hash_recomputed_is_named_against_an_earlier_seal() -> None:
    s = story()
    sealed = audit(s.ledger.events).replay.seal
    events = list(s.ledger.events)
    index = last_of(events, s.shop_1)
    original = events[index]
    assert isinstance(original, LedgerEvent)
    forged = original.model_copy(update={"payment_reference": "CRO 0000 forged"})
    assert forged.computed_hash() != original.event_hash
    events[index] = forged.model_copy(update={"event_hash": forged.computed_hash()})

    assert audit(events).replay.intact  # sound hashes, sound links
    checked = audit(events, since=sealed)

    assert [(b.kind, b.stream_id, b.sequence) for b in checked.replay.breaks] == [
        ("rewritten", s.shop_1, original.sequence)
    ]


def test_a_seal_made_of_a_damaged_ledger_keeps_the_earlier_heads_of_the_damaged_streams() -> None:
    s = story()
    march = audit(s.ledger.events).replay.seal
    events = [e for e in s.ledger.events if getattr(e, "stream_id", None) != s.shop_2]
    tail = events.pop(last_of(events, s.vouchers_a[0]))
    assert isinstance(tail, LedgerEvent)

    april = audit(events, since=march).replay.seal
    may = audit(events, since=april)

    named = {(b.kind, b.stream_id, b.sequence) for b in may.replay.breaks}
    assert ("deleted", s.vouchers_a[0], tail.sequence) in named  # still named a month later
    assert any(kind == "deleted" and stream == s.shop_2 for kind, stream, _ in named)
    assert not may.ok


def test_a_forged_copy_of_a_sound_event_is_named_not_skipped_as_a_duplicate() -> None:
    s = story()
    events = list(s.ledger.events)
    sale = next(e for e in events if isinstance(e, c.VoucherRedeemed))
    forged = sale.model_copy(update={"amount_cents": sale.amount_cents + 10_000})  # same hash

    result = audit([*events, forged], service_figures(s))
    sound_copy = audit([*events, sale], service_figures(s))

    assert [(b.kind, b.stream_id, b.sequence) for b in result.replay.breaks] == [
        ("edited", sale.stream_id, sale.sequence)
    ]
    assert "a second copy of this event does not match" in result.replay.breaks[0].detail
    assert result.comparison is not None and result.comparison.differences == []  # not added
    assert sound_copy.ok and sound_copy.replay.duplicates == 1


def test_a_ledger_that_only_grew_since_its_seal_is_intact() -> None:
    s = story()
    cut = len(s.ledger.events) // 2
    earlier = audit(s.ledger.events[:cut]).replay.seal
    assert earlier is not None and earlier != audit(s.ledger.events).replay.seal

    checked = audit(s.ledger.events, since=earlier)

    assert checked.replay.intact and checked.replay.breaks == []
    assert checked.replay.since == earlier


def test_the_seal_depends_on_the_heads_only_not_on_the_order_the_streams_were_read() -> None:
    s = story()
    by_stream = sorted(
        s.ledger.events, key=lambda e: (getattr(e, "stream_id", ""), getattr(e, "sequence", 0))
    )

    assert audit(by_stream).replay.seal == audit(s.ledger.events).replay.seal
    assert audit(s.ledger.events[:-1]).replay.seal != audit(s.ledger.events).replay.seal


# --- The money rules, for events a faulty service might have written (hashes sound) --------


def a_50_euro_voucher_and_a_shop() -> tuple[Ledger, str, str, str]:
    """A ledger with a round, one household's 50-euro voucher and shop m-001: the ledger, the
    round, the voucher and the shop's account."""
    ledger = Ledger()
    fund_id = ledger.fund(100_000)
    round_id = ledger.round(fund_id, 50_000)
    _, (voucher,) = ledger.serve(round_id, 5_000)
    return ledger, round_id, voucher, ledger.shop(round_id, "m-001")


def test_a_voucher_spent_below_zero_is_a_violation_naming_the_events() -> None:
    ledger, round_id, voucher, shop = a_50_euro_voucher_and_a_shop()
    ledger.redeem(round_id, voucher, shop, "m-001", 4_000, 1_000)
    ledger.redeem(round_id, voucher, shop, "m-001", 2_000, 0)

    result = audit(ledger.events)

    assert result.replay.intact and not result.ok
    rules = {v.rule for v in result.violations}
    assert "no voucher remaining < 0" in rules
    below_zero = next(v for v in result.violations if v.rule == "no voucher remaining < 0")
    assert below_zero.events[0].stream_id == voucher
    assert below_zero.events[0].sequence == 3
    assert below_zero.events[0].type_name == "VoucherRedeemed"


def test_issuing_beyond_the_budget_and_reimbursing_beyond_redeemed_are_violations() -> None:
    ledger = Ledger()
    fund_id = ledger.fund(10_000)
    round_id = ledger.round(fund_id, 10_000)
    ledger.serve(round_id, 5_000)
    _, (voucher,) = ledger.serve(round_id, 6_000)  # 11,000 committed on a 10,000 budget
    shop = ledger.shop(round_id, "m-001")
    redemption = ledger.redeem(round_id, voucher, shop, "m-001", 1_000, 5_000)
    claim = ledger.claim(round_id, shop, "m-001", [redemption], 1_000)
    ledger.approve(shop, "m-001", claim, 1_000)
    ledger.pay(shop, "m-001", claim, 1_500)  # pays more than approved

    result = audit(ledger.events)

    by_rule = {(v.rule, v.subject.split()[0]): v for v in result.violations}
    over_budget = by_rule["issued ≤ allocated", "round"]
    assert over_budget.subject == f"round {round_id}"
    assert "committed 60,00 € to household" in over_budget.detail
    assert "with only 50,00 € of the budget left" in over_budget.detail
    assert [e.type_name for e in over_budget.events] == ["RoundVouchersCommitted", "RoundOpened"]
    over_allocation = by_rule["issued ≤ allocated", "fund"]
    assert "exceeds the 100,00 € allocated" in over_allocation.detail
    overpaid = by_rule["reimbursed ≤ redeemed", "merchant"]
    assert overpaid.events[-1].type_name == "ReimbursementPaid"
    assert any("reimbursed 15,00 € exceeds approved 10,00 €" in v.detail for v in result.violations)


def test_budget_given_twice_or_to_the_wrong_application_is_a_violation() -> None:
    ledger = Ledger()
    fund_id = ledger.fund(100_000)
    round_id = ledger.round(fund_id, 80_000)
    household, _ = ledger.serve(round_id, 5_000)
    approved = next(e for e in ledger.events if isinstance(e, c.ApplicationApproved))
    application = approved.application_id
    ledger.commit(round_id, application, household, {new_id(): 5_000})  # served twice
    other, (other_voucher,) = ledger.serve(round_id, 5_000)
    other_application = next(
        e.application_id
        for e in ledger.events
        if isinstance(e, c.ApplicationApproved) and e.household_id == other
    )
    ledger.commit(round_id, other_application, other, {other_voucher: 5_000})  # reused
    never_approved, rejected, greedy = new_id(), new_id(), new_id()
    ledger.commit(round_id, never_approved, new_id(), {new_id(): 5_000})
    at = ledger.at()
    reviewed: dict[str, Any] = {"round_id": round_id, "household_id": new_id()}
    refusal: dict[str, Any] = {"reason_code": "false_declaration", "rejected_at": at}
    ledger.emit(c.ApplicationRejected, application_id=rejected, **refusal, **reviewed)
    ledger.commit(round_id, rejected, new_id(), {new_id(): 5_000})
    approval: dict[str, Any] = {"entitlement_cents": 5_000, "priority": 1, "approved_at": at}
    ledger.emit(c.ApplicationApproved, application_id=greedy, **approval, **reviewed)
    ledger.commit(round_id, greedy, new_id(), {new_id(): 10_000, new_id(): 10_000})

    result = audit(ledger.events)

    details = [v.detail for v in result.violations]
    assert any(f"served application {application}" in d and "twice" in d for d in details)
    assert any(f"committed voucher {other_voucher} a second time" in d for d in details)
    assert any(f"{never_approved}, which was never approved" in d for d in details)
    assert any(f"{rejected}, which was rejected" in d for d in details)
    assert any(f"{greedy}, approved for 50,00 €" in d for d in details)
    assert not result.ok


def test_a_voucher_spent_after_its_expiry_is_a_violation() -> None:
    ledger, round_id, voucher, shop = a_50_euro_voucher_and_a_shop()
    ledger.redeem(round_id, voucher, shop, "m-001", 1_000, 4_000)
    ledger.clock = T0 + timedelta(days=40)  # it expired on day 30, with no expiry event yet
    ledger.redeem(round_id, voucher, shop, "m-001", 1_000, 3_000)

    result = audit(ledger.events)

    (late,) = result.violations
    assert "after it expired" in late.detail
    assert late.events[0].type_name == "VoucherRedeemed" and late.events[0].sequence == 3


def test_streams_that_disagree_are_violations() -> None:
    ledger, round_id, voucher, shop = a_50_euro_voucher_and_a_shop()
    # The voucher records a redemption the shop was never credited for, at an excluded category.
    ledger.emit(
        c.VoucherRedeemed,
        voucher,
        voucher_id=voucher,
        round_id=round_id,
        redemption_id=new_id(),
        merchant_id="m-001",
        amount_cents=1_000,
        goods_category="alcohol",
        remaining_cents=4_000,
        redeemed_at=ledger.at(),
    )
    # The shop is credited for a redemption the voucher does not record.
    ledger.at()
    ledger.credit(shop, "m-001", voucher, 700)
    # A return to the round that no expiry or revocation explains.
    ledger.emit(
        c.RoundValueReturned,
        round_id,
        round_id=round_id,
        voucher_id=voucher,
        amount_cents=4_000,
        reason="expired",
        returned_at=ledger.at(),
    )

    result = audit(ledger.events)

    details = [v.detail for v in result.violations]
    assert any("never credited to the shop" in d for d in details)
    assert any("which voucher" in d and "does not record" in d for d in details)
    assert any("excluded goods (alcohol)" in d for d in details)
    assert any("did not expire or get revoked" in d for d in details)


def test_a_credit_unlike_its_redemption_and_a_void_on_one_side_only_are_violations() -> None:
    ledger, round_id, voucher, shop = a_50_euro_voucher_and_a_shop()
    _, (other_voucher,) = ledger.serve(round_id, 5_000)
    # The shop is credited the right amount, but for another household's voucher.
    misnamed = new_id()
    ledger.emit(
        c.VoucherRedeemed,
        voucher,
        voucher_id=voucher,
        round_id=round_id,
        redemption_id=misnamed,
        merchant_id="m-001",
        amount_cents=1_000,
        goods_category="food",
        remaining_cents=4_000,
        redeemed_at=ledger.at(),
    )
    ledger.credit(shop, "m-001", other_voucher, 1_000, misnamed)
    # A redemption voided on the voucher, still credited to the shop.
    voided = ledger.redeem(round_id, voucher, shop, "m-001", 500, 3_500)
    ledger.emit(
        c.VoucherRedemptionVoided,
        voucher,
        voucher_id=voucher,
        round_id=round_id,
        redemption_id=voided,
        merchant_id="m-001",
        amount_cents=500,
        voided_at=ledger.at(),
    )

    result = audit(ledger.events)

    details = [v.detail for v in result.violations]
    assert details == [
        f"redemption {misnamed}: voucher {voucher} spent 10,00 €, the shop was credited "
        f"10,00 € for voucher {other_voucher}",
        f"redemption {voided} was voided on the voucher but not on the shop's account",
    ]


def test_a_round_whose_vouchers_spent_more_than_it_issued_is_a_violation_net_of_voids() -> None:
    ledger = Ledger()
    fund_id = ledger.fund(100_000)
    round_id = ledger.round(fund_id, 50_000)
    application_id, household_id, voucher = new_id(), new_id(), new_id()
    approval: dict[str, Any] = {"entitlement_cents": 5_000, "priority": 1}
    ledger.emit(
        c.ApplicationApproved,
        application_id=application_id,
        round_id=round_id,
        household_id=household_id,
        approved_at=ledger.at(),
        **approval,
    )
    # The round commits 20 euros to a voucher issued for 50.
    ledger.commit(round_id, application_id, household_id, {voucher: 5_000}, amount=2_000)
    shop = ledger.shop(round_id, "m-001")
    ledger.redeem(round_id, voucher, shop, "m-001", 3_000, 2_000)
    voided = ledger.redeem(round_id, voucher, shop, "m-001", 1_500, 500)
    ledger.void(round_id, voucher, shop, "m-001", voided, 1_500)

    result = audit(ledger.events)

    assert [(v.rule, v.detail) for v in result.violations] == [
        (
            "issued ≤ allocated",
            f"committed 20,00 € to household {household_id}; its vouchers are worth 50,00 €",
        ),
        ("redeemed ≤ issued", "redeemed 30,00 € and returned 0,00 € exceed the 20,00 € issued"),
        (
            "redeemed ≤ issued",
            "vouchers spent 30,00 € and returned 0,00 €, more than the 20,00 € issued",
        ),
    ]


def test_a_difference_with_the_service_names_the_figure_and_the_events_behind_it() -> None:
    s = story()
    result = audit(s.ledger.events, service_figures(s, redeemed_cents=12_541))

    (difference,) = result.comparison.differences  # type: ignore[union-attr]
    assert (difference.subject, difference.figure) == (f"fund {s.fund_id}", "redeemed_cents")
    assert (difference.tally_cents, difference.service_cents) == (12_540, 12_541)
    assert difference.events_counted == 6  # five credits and one debit
    assert {e.type_name for e in difference.events} <= {"MerchantCredited", "MerchantDebited"}
    assert not result.ok
    assert "difference -0,01 €" in "\n".join(result.summary_lines())


def test_a_fund_the_service_does_not_report_is_a_difference() -> None:
    s = story()
    figures = ServiceFigures("the service", {}, None)
    result = audit(s.ledger.events, figures)
    assert {d.service_cents for d in result.comparison.differences} == {None}  # type: ignore[union-attr]
    assert len(result.comparison.differences) == len(FUND_FIGURES)  # type: ignore[union-attr]


# --- A copy of the topic: messages with CloudEvents headers --------------------------------------


def as_messages(events: list[ContractEvent]) -> list[TopicMessage]:
    messages = []
    for n, event in enumerate(events, 1):
        subject = event.stream_id if isinstance(event, LedgerEvent) else str(event.application_id)  # type: ignore[attr-defined]
        envelope = EventEnvelope(
            id=f"event-{n}",
            source="/benecomune/biella/vouchers",
            type=event.type_name,
            time=T0,
            subject=subject,
            notification_id=n,
            sequence=event.sequence if isinstance(event, LedgerEvent) else 1,
        )
        messages.append(
            TopicMessage(
                partition=n % 6,
                offset=n // 6,
                key=envelope.kafka_key(),
                value=event.to_json_bytes(),
                headers=tuple(envelope.to_headers()),
            )
        )
    return messages


def test_a_topic_copy_with_a_message_removed_or_edited_is_caught() -> None:
    s = story()
    messages = as_messages(s.ledger.events)
    sound = audit_vouchers(
        records_from_messages(messages, TOPIC), source="copy", figures=service_figures(s)
    )
    assert sound.ok, sound.summary_lines()

    removed = next(
        i
        for i, e in enumerate(s.ledger.events)
        if isinstance(e, c.RoundValueReturned) and e.reason == "revoked"
    )
    fewer = messages[:removed] + messages[removed + 1 :]
    result = audit_vouchers(records_from_messages(fewer, TOPIC), source="copy")
    (gap,) = result.replay.breaks
    assert (gap.kind, gap.stream_id, gap.type_name) == (
        "missing",
        s.round_id,
        c.RoundValueReturned.type_name,
    )
    assert not result.ok

    edited_index = next(
        i for i, m in enumerate(messages) if b'"amount_cents":2550' in (m.value or b"")
    )
    edited = list(messages)
    message = edited[edited_index]
    payload = json.loads(message.value or b"")
    payload["amount_cents"] = 255
    edited[edited_index] = TopicMessage(
        message.partition,
        message.offset,
        message.key,
        json.dumps(payload).encode(),
        message.headers,
    )
    result = audit_vouchers(records_from_messages(edited, TOPIC), source="copy")
    kinds = {(b.kind, b.stream_id, b.sequence) for b in result.replay.breaks}
    assert ("edited", payload["stream_id"], payload["sequence"]) in kinds
    assert result.replay.breaks[0].origin == f"{TOPIC}[{message.partition}]@{message.offset}"


def test_unreadable_messages_are_reported_not_dropped() -> None:
    s = story()
    messages = as_messages(s.ledger.events)
    first = messages[0]
    no_headers = TopicMessage(first.partition, first.offset, first.key, first.value, ())
    wrong_subject = TopicMessage(
        messages[1].partition,
        messages[1].offset,
        b"someone-else",
        messages[1].value,
        messages[1].headers,
    )
    garbage = TopicMessage(
        messages[2].partition,
        messages[2].offset,
        messages[2].key,
        b"{not json",
        messages[2].headers,
    )
    result = audit_vouchers(
        records_from_messages([no_headers, wrong_subject, garbage, *messages[3:]], TOPIC),
        source="copy",
    )
    kinds = [p.kind for p in result.replay.problems]
    assert kinds == ["malformed_envelope", "envelope_mismatch", "invalid_payload"]
    garbled = result.replay.problems[2]
    assert (garbled.stream_id, garbled.sequence, garbled.type_name) == (
        s.fund_id,
        3,
        c.FundBudgetAssigned.type_name,
    )
    assert not result.ok


@pytest.mark.parametrize("cents", [0, 5, 100, 123_456_789])
def test_euro_formatting_is_exact(cents: int) -> None:
    text = euro(cents)
    whole, rest = text.removesuffix(" €").split(",")
    assert int(whole.replace(".", "")) * 100 + int(rest) == cents


# --- Hashing a message ----------------------------------------------------------------------------


def troubled_ledger() -> Ledger:
    """The story, then a second round with rules broken inside streams (a voucher spent below
    zero, a claim for more than its redemptions) and across them (a credit the voucher does not
    record), and the first voucher of the story edited."""
    s = story()
    ledger = s.ledger
    round_id = ledger.round(s.fund_id, 20_000)
    _, (voucher,) = ledger.serve(round_id, 5_000)
    shop = ledger.shop(round_id, "m-003")
    spent = ledger.redeem(round_id, voucher, shop, "m-003", 4_000, 1_000)
    ledger.redeem(round_id, voucher, shop, "m-003", 2_000, 0)
    ledger.claim(round_id, shop, "m-003", [spent], 9_000)
    ledger.at()
    ledger.credit(shop, "m-003", voucher, 700)
    return ledger


def test_every_ledger_event_is_hashed_from_its_message_as_from_the_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reader hashes a message's own JSON when it is the event's JSON form, which holds for
    every ledger event type of the vouchers topic as published; JSON written otherwise (keys in
    another order, an extra field, spaces) is hashed from the validated event, and an edited
    one does not match its claimed hash either way."""
    events = [e for e in troubled_ledger().events if isinstance(e, LedgerEvent)]
    assert {type(e) for e in events} >= set(LEDGER_TYPES)
    expected = {e.event_hash: e.computed_hash() for e in events}
    with monkeypatch.context() as patched:  # the message's JSON is enough: never the model's
        patched.setattr(LedgerEvent, "computed_hash", lambda self: pytest.fail("model hashed"))
        for event in events:
            assert content_hash(event, event.to_json_bytes()) == expected[event.event_hash]

    for event in events[:5]:
        body = json.loads(event.to_json_bytes())
        written_otherwise = json.dumps({"note": "x", **dict(reversed(body.items()))}, indent=1)
        assert content_hash(event, written_otherwise.encode()) == event.event_hash
        edited = event.to_json_bytes().replace(b'"sequence":', b'"sequence": ', 1)
        assert content_hash(event, edited) == event.event_hash  # spacing is not content
    redeemed = next(e for e in events if isinstance(e, c.VoucherRedeemed))
    value = redeemed.to_json_bytes().replace(
        f'"amount_cents":{redeemed.amount_cents}'.encode(), b'"amount_cents":1'
    )
    edited_event = c.VoucherRedeemed.from_json_bytes(value)
    assert content_hash(edited_event, value) == edited_event.computed_hash() != redeemed.event_hash


def copy_of(messages: list[TopicMessage], cut: Cut) -> TopicCopy:
    """A topic copy as read from the broker, up to its settled end offsets."""
    copy = TopicCopy(TOPIC, [], bootstrap="-", ranges=[], deadline=0, timeout_seconds=1, cut=cut)
    copy._messages = messages
    return copy


def test_a_topic_copy_is_replayed_up_to_its_cut_and_counts_what_it_left() -> None:
    s = story()
    messages = as_messages(s.ledger.events)  # notification ids 1..n
    last = len(messages) - 3
    # When the audit started, every partition ended before the last six messages; three of
    # those landed later with ids up to the cut (kept), three beyond it (left out).
    ends: dict[int, int] = {}
    for m in messages[:-6]:
        ends[m.partition] = m.offset + 1
    copy = copy_of(messages, Cut(last, ends))

    result = audit_vouchers(copy.records(), source="copy")

    assert result.replay.records == last and copy.beyond_cut == 3
    assert result.replay.last_position == last
    # What the command line records of the cut, for the summary, the JSON and the PDF.
    result.replay.cut_at, result.replay.left_for_next_audit = last, copy.beyond_cut
    assert f"up to notification {last}; 3 message(s) that landed later" in "\n".join(
        result.summary_lines()
    )
    chain = result.as_dict()["chain"]
    assert (chain["cut_at"], chain["left_for_next_audit"]) == (last, 3)
    # A cut below messages that were already there when the audit started (a relay that
    # restarted re-publishes an older batch at the partitions' ends) drops none of them.
    early = copy_of(messages, Cut(2, {m.partition: m.offset + 1 for m in messages}))
    assert len(list(early.records())) == len(messages) and early.beyond_cut == 0
    whole = audit_vouchers(records_from_messages(messages, TOPIC), source="copy")
    assert whole.replay.records == len(messages)


def test_a_replay_that_stops_inside_a_store_transaction_says_so() -> None:
    s = story()
    messages = as_messages(s.ledger.events)  # notification ids 1..n
    ends = {m.partition: m.offset + 1 for m in messages}
    # The last message at the start begun a transaction that ends two notifications later;
    # the relay stopped before publishing the rest.
    awaited = len(messages) + 2
    copy = copy_of(messages, Cut(awaited, ends, awaited))

    result = audit_vouchers(copy.records(), source="copy")

    assert not result.ok and not result.replay.intact
    assert result.replay.problems == [] and result.replay.breaks == []
    assert result.replay.records == len(messages)  # what the copy lacks is not a record
    assert result.replay.incomplete_transaction_end == awaited
    summary = "\n".join(result.summary_lines())
    assert "hash chain: intact" in summary
    assert f"the topic is INCOMPLETE: no notification beyond {len(messages)} was" in summary
    assert result.as_dict()["chain"]["incomplete_transaction_end"] == awaited
    # Once the whole transaction is on the topic, nothing is said.
    whole = copy_of(messages, Cut(len(messages), ends, len(messages)))
    assert audit_vouchers(whole.records(), source="copy").ok
