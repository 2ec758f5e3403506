"""Commands the vouchers service accepts, validated at the edge (pydantic) before the domain
checks its own invariants."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from vouchers.domain.fund import SourceKind


class AllocateFund(BaseModel):
    model_config = ConfigDict(extra="forbid")

    municipality_istat: str = Field(
        pattern=r"^\d{6}$", description="ISTAT code of the municipality"
    )
    source_kind: SourceKind
    source_reference: str = Field(
        min_length=1, max_length=200, description="The act (e.g. OCDPC 658/2020) or the donor"
    )
    amount_cents: int = Field(gt=0, description="Integer euro cents")


class TopUpFund(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_kind: SourceKind
    source_reference: str = Field(min_length=1, max_length=200)
    amount_cents: int = Field(gt=0)
