"""Steps of the vouchers story that several test modules tell (no relative imports here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from vouchers.application import commands as cmd
from vouchers.application.app import VouchersApplication

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def open_round(
    app: VouchersApplication,
    *,
    budget: int = 60_000,
    base: int = 15_000,
    per_member: int = 5_000,
    cap: int = 50_000,
    denominations: list[int] | None = None,
    validity_days: int = 30,
    municipality: str = "096004",
    now: datetime = NOW,
    **rules: Any,
) -> tuple[UUID, UUID]:
    """A fund of 10,000 EUR and a round open around ``now``: the fund's and the round's ids."""
    fund = app.allocate_fund(
        cmd.AllocateFund(
            municipality_istat=municipality,
            source_kind="state_transfer",
            source_reference="OCDPC 658/2020",
            amount_cents=1_000_000,
        )
    )
    round_id = app.open_round(
        cmd.OpenRound(
            fund_id=str(fund),
            title="Buoni spesa",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=10),
            budget_cents=budget,
            rules=cmd.EntitlementRulesInput(
                base_cents=base,
                per_extra_member_cents=per_member,
                per_minor_cents=2_500,
                cap_cents=cap,
                **rules,
            ),
            denominations_cents=denominations,
            validity_days=validity_days,
        ),
        now=now,
    )
    return fund, round_id
