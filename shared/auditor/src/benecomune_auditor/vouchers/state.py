"""What the vouchers tally holds while it adds events up: each entity by its id, the violations
found so far and the streams whose chain broke; and how a rule records a violation. The
tally's parts (:mod:`.tally`, :mod:`.voucher_rules`, :mod:`.shop_rules`, :mod:`.end_checks`,
:mod:`.tally_figures`) all work on this state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from benecomune_auditor.vouchers.entities import (
    FundTally,
    HouseholdTally,
    MerchantTally,
    RoundTally,
    VoucherTally,
)
from benecomune_auditor.vouchers.naming import EventRef, Violation

__all__ = ["ISSUED", "Entries", "Fields", "TallyState"]

_T = TypeVar("_T")

Fields = dict[str, Any]
"""A contract event's fields, as pydantic keeps them (its ``__dict__``): what every handler of
the tally is given (see :meth:`benecomune_auditor.vouchers.tally.VouchersTally.add`)."""

ISSUED = "issued"  # an application whose household the round committed vouchers to


class Entries(dict[str, _T]):
    """The tally's entities of one kind by id; looking up an id not seen yet adds an empty
    one (``make(id)``). Read with ``get`` or ``in`` to look without adding."""

    def __init__(self, make: Callable[[str], _T]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: str) -> _T:
        entry = self[key] = self.make(key)
        return entry


class TallyState:
    """The tally's entities and findings (see the module's docstring)."""

    def __init__(self) -> None:
        # Each entity by its id, made empty the first time an event names it.
        self.funds = Entries(FundTally)
        self.rounds = Entries(RoundTally)
        self.vouchers = Entries(VoucherTally)
        self.merchants = Entries(MerchantTally)
        self.households = Entries(HouseholdTally)
        # application id -> (entitlement approved, its event); rejected applications
        self.approvals: dict[str, tuple[int, EventRef]] = {}
        self.rejections: dict[str, EventRef] = {}
        # application id -> (its round, its status so far): what the round's counts hold
        self.application_status: dict[str, tuple[str, str]] = {}
        # (round, provider) -> the provider's account in a services round
        self.provider_accounts: dict[tuple[str, str], str] = {}
        self.captured_redemptions: set[str] = set()  # redemptions that captured a hold
        self.violations: list[Violation] = []
        self.tainted: set[str] = set()

    def _violate(self, rule: str, subject: str, detail: str, *events: EventRef | None) -> None:
        self.violations.append(
            Violation(rule, subject, detail, tuple(e for e in events if e is not None))
        )

    def _checking(self, *streams: str) -> bool:
        """Whether a stream's own consistency can still be checked (its chain is unbroken)."""
        tainted = self.tainted
        return not tainted or not any(s in tainted for s in streams)
