"""The money figures the service reports (and the auditor's independent tally must match)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from vouchers.domain.fund import Fund
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.round import Round


@dataclass(frozen=True)
class FundFigures:
    fund_id: str
    municipality_istat: str
    allocated_cents: int
    assigned_to_rounds_cents: int
    issued_cents: int
    redeemed_cents: int
    reimbursed_cents: int
    returned_cents: int
    available_cents: int
    sources: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(
        cls, fund: Fund, rounds: Sequence[Round], merchants: Sequence[MerchantAccount]
    ) -> FundFigures:
        issued = sum(r.issued_cents for r in rounds)
        returned = sum(r.returned_cents for r in rounds)
        return cls(
            fund_id=str(fund.id),
            municipality_istat=fund.municipality_istat,
            allocated_cents=fund.allocated_cents,
            assigned_to_rounds_cents=fund.assigned_cents,
            issued_cents=issued,
            redeemed_cents=sum(m.redeemed_cents for m in merchants),
            reimbursed_cents=sum(m.reimbursed_cents for m in merchants),
            returned_cents=returned,
            available_cents=fund.allocated_cents - issued + returned,
            sources=[
                {"kind": kind, "reference": reference, "amount_cents": amount}
                for kind, reference, amount in fund.sources
            ],
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MerchantFigures:
    merchant_id: str
    round_id: str
    redeemed_cents: int
    claimed_cents: int
    approved_cents: int
    reimbursed_cents: int
    unclaimed_cents: int
    claims: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, account: MerchantAccount) -> MerchantFigures:
        return cls(
            merchant_id=account.merchant_id,
            round_id=str(account.round_id),
            redeemed_cents=account.redeemed_cents,
            claimed_cents=account.claimed_cents,
            approved_cents=account.approved_cents,
            reimbursed_cents=account.reimbursed_cents,
            unclaimed_cents=account.redeemed_cents - account.claimed_cents,
            claims=account.claims,
        )
