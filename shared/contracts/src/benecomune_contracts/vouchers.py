"""Public events of the vouchers service ("Cura Italia" spending vouchers), topic
``benecomune.vouchers``.

The vouchers topic is a ledger: it is kept forever and an auditor replays it to check every
euro cent of public money (issued ≤ allocated, redeemed ≤ issued, reimbursed ≤ redeemed).

**No personal data in contract events.** Beneficiaries are fragile people: events carry only
pseudonymous ids (household, application, voucher, merchant ids), never names, fiscal codes,
addresses, ISEE figures, e-mail addresses or phone numbers. Those stay in the vouchers
service's own erasable storage, so personal data can be erased without rewriting the ledger.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from benecomune_contracts.base import ContractEvent, Identifier, PositiveCents, UtcDatetime
from benecomune_contracts.registry import contract
from benecomune_contracts.topics import VOUCHERS_TOPIC

__all__ = ["FundAllocated", "FundSourceKind", "FundToppedUp", "IstatCode"]

IstatCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{6}$"),
    Field(description="ISTAT code of the municipality: six digits, e.g. 096004 for Biella."),
]
FundSourceKind = Literal["state_transfer", "donation"]
"""Where money of a voucher fund comes from: a State transfer or a donation."""
SourceReference = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    Field(description='The act or receipt behind the money, e.g. "OCDPC 658/2020".'),
]


@contract
class FundAllocated(ContractEvent):
    """A municipality's voucher fund was created with its first allocation of money."""

    type_name: ClassVar[str] = "benecomune.vouchers.FundAllocated.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    fund_id: Identifier
    municipality_istat: IstatCode
    source_kind: FundSourceKind
    source_reference: SourceReference
    amount_cents: PositiveCents
    allocated_at: UtcDatetime


@contract
class FundToppedUp(ContractEvent):
    """More money was added to an existing voucher fund."""

    type_name: ClassVar[str] = "benecomune.vouchers.FundToppedUp.v1"
    topic: ClassVar[str] = VOUCHERS_TOPIC.name

    fund_id: Identifier
    source_kind: FundSourceKind
    source_reference: SourceReference
    amount_cents: PositiveCents
    topped_up_at: UtcDatetime
