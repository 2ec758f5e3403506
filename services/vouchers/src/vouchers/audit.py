"""The auditor's independent tally of the vouchers ledger ("Cura Italia" public money).

Built ONLY from the public contract events (read from Kafka or mapped from the store by
:mod:`servicekit.audit`), never from the service's aggregates or figures: per fund, round,
merchant account (a shop in a round) and household it adds up what was allocated, assigned to
rounds, issued, redeemed (net of voids), claimed, approved, reimbursed, returned (unspent value
of expired or revoked vouchers) and what is available.

Then it checks the money rules, naming the events involved in any violation:

* **issued ≤ allocated** — a round never commits more than its budget has left (issued -
  returned ≤ budget, at every event of the round), the budgets never exceed the fund
  (assigned ≤ allocated, at every event of the fund), so issued - returned ≤ allocated. Money
  that returns is issued again, so the *gross* issue may exceed the allocation. The budget goes
  only to approved applications, once each, up to the approved entitlement, and no voucher is
  committed twice;
* **redeemed ≤ issued** — redeemed + returned ≤ issued for every round and fund; no voucher is
  spent below zero, after expiry (the till's time against the voucher's expiry; redemptions
  recorded before 2026-11-25 carry their recording time) or revocation, and what a redemption
  says remains is what the voucher's own history leaves;
* **reimbursed ≤ redeemed** — reimbursed ≤ approved ≤ claimed ≤ redeemed for every shop, a claim
  takes only credited, not voided, not yet claimed redemptions, for exactly their sum;
* **the streams agree with each other** — every voucher a round committed was issued for that
  household and the values add up to the commitment; every redemption (and void) on a voucher
  is credited (and debited) to an affiliated shop of the round, for the same amount, and vice
  versa; every return to a round matches a voucher's expiry or revocation; every round's budget
  was assigned by its fund.

Checks of a stream whose hash chain broke are not repeated (the chain already names the event):
its state can no longer be trusted.

Finally the tally is compared, to the cent, with the figures the service reports: over its HTTP
API (``GET /funds``, ``GET /rounds/{id}/merchants`` with an auditor token) or, in-process, from
``VouchersApplication.fund_figures`` / ``merchant_figures``.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from benecomune_contracts import vouchers as c
from benecomune_contracts.base import ContractEvent
from benecomune_contracts.chain import LedgerEvent
from servicekit.audit import AuditItem, AuditRecord, ReadProblem, ReplayReport, replay_and_check
from servicekit.ledger_seal import LedgerSeal

if TYPE_CHECKING:
    import httpx

    from vouchers.application.app import VouchersApplication

__all__ = [
    "FUND_FIGURES",
    "MERCHANT_FIGURES",
    "Comparison",
    "Difference",
    "EventRef",
    "ServiceFigures",
    "Violation",
    "VouchersAudit",
    "VouchersTally",
    "audit_vouchers",
    "compare",
    "euro",
    "figures_from_api",
    "figures_from_application",
]

FUND_FIGURES = (
    "allocated_cents",
    "assigned_to_rounds_cents",
    "issued_cents",
    "redeemed_cents",
    "reimbursed_cents",
    "returned_cents",
    "available_cents",
)
MERCHANT_FIGURES = ("redeemed_cents", "claimed_cents", "approved_cents", "reimbursed_cents")
_TRAIL_LENGTH = 5
_T = TypeVar("_T")


def euro(cents: int) -> str:
    """Cents as Italian-formatted euros, e.g. ``1.234,56 €``."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", ".") + f",{rest:02d} €"


# --- Naming events -----------------------------------------------------------------------------


@dataclass(order=True, slots=True, unsafe_hash=True)
class EventRef:
    """An event as the auditor names it: stream, sequence, type, and where it was read.
    Read-only by convention (hashed by its fields): not frozen, because the tally builds one
    per event and a frozen dataclass is built three times slower."""

    position: int
    stream_id: str
    sequence: int | None
    type_name: str
    origin: str

    @classmethod
    def of(cls, record: AuditRecord, stream_id: str | None = None) -> EventRef:
        event = record.event
        if isinstance(event, LedgerEvent):
            stream, sequence = event.stream_id, event.sequence
        else:
            stream, sequence = stream_id or "", None
        return cls(record.position, stream, sequence, _short(event.type_name), record.origin)

    def describe(self) -> str:
        sequence = "" if self.sequence is None else f" sequence {self.sequence}"
        return f"{self.type_name} stream {self.stream_id}{sequence} ({self.origin})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream_id": self.stream_id,
            "sequence": self.sequence,
            "type": self.type_name,
            "origin": self.origin,
        }


_Handler = Callable[[Any, EventRef], None]


def _shop(account: MerchantTally) -> str:
    """A shop's account as a violation names it."""
    return f"merchant {account.merchant_id} in round {account.round_id}"


@functools.cache
def _short(type_name: str) -> str:
    """``benecomune.vouchers.VoucherRedeemed.v1`` → ``VoucherRedeemed``."""
    parts = type_name.split(".")
    return parts[2] if len(parts) == 4 else type_name


class Trail:
    """How many events made a figure, and the last few of them (to name in a difference)."""

    def __init__(self) -> None:
        self.events = 0
        self.last: deque[EventRef] = deque(maxlen=_TRAIL_LENGTH)

    def add(self, ref: EventRef) -> None:
        self.events += 1
        self.last.append(ref)

    @staticmethod
    def merged(trails: Iterable[Trail]) -> Trail:
        merged = Trail()
        trails = list(trails)
        merged.events = sum(t.events for t in trails)
        merged.last.extend(heapq.nlargest(_TRAIL_LENGTH, (r for t in trails for r in t.last))[::-1])
        return merged


@dataclass(frozen=True)
class Violation:
    """A money rule the events break."""

    rule: str
    subject: str
    detail: str
    events: tuple[EventRef, ...]

    def describe(self) -> str:
        return f"[{self.rule}] {self.subject}: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "subject": self.subject,
            "detail": self.detail,
            "events": [e.as_dict() for e in self.events],
        }


# --- The tally's entities ----------------------------------------------------------------------


@dataclass
class SourceLine:
    kind: str
    reference: str
    amount_cents: int
    event: EventRef


@dataclass
class FundTally:
    fund_id: str
    municipality_istat: str = ""
    allocated_cents: int = 0
    assigned_cents: int = 0
    sources: list[SourceLine] = field(default_factory=list)
    budgets: dict[str, tuple[int, EventRef]] = field(default_factory=dict)  # round -> amount
    allocated_trail: Trail = field(default_factory=Trail)
    assigned_trail: Trail = field(default_factory=Trail)
    opened: EventRef | None = None


@dataclass(slots=True)
class Commitment:
    application_id: str
    household_id: str
    voucher_ids: list[str]
    amount_cents: int
    event: EventRef


@dataclass
class RoundTally:
    round_id: str
    fund_id: str = ""
    title: str = ""
    budget_cents: int = 0
    excluded_categories: frozenset[str] = frozenset()
    issued_cents: int = 0  # committed to served households
    returned_cents: int = 0
    closed: bool = False
    commitments: list[Commitment] = field(default_factory=list)
    returns: dict[str, tuple[int, str, EventRef]] = field(default_factory=dict)  # voucher -> ...
    # final status -> applications in it: each application counted once, in its last status
    # ("issued" once the round committed vouchers to it, whatever came before)
    applications: dict[str, int] = field(default_factory=dict)
    issued_trail: Trail = field(default_factory=Trail)
    returned_trail: Trail = field(default_factory=Trail)
    opened: EventRef | None = None

    @property
    def available_cents(self) -> int:
        return self.budget_cents - self.issued_cents + self.returned_cents


@dataclass(slots=True)
class Redemption:
    merchant_id: str
    amount_cents: int
    goods_category: str
    event: EventRef
    voided: EventRef | None = None


@dataclass(slots=True)
class VoucherTally:
    voucher_id: str
    round_id: str = ""
    application_id: str = ""
    household_id: str = ""
    value_cents: int = 0
    remaining_cents: int = 0
    status: str = "unknown"  # until its VoucherIssued is read
    redemptions: dict[str, Redemption] = field(default_factory=dict)
    ended: tuple[int, EventRef] | None = None  # expired or revoked: the amount returned
    issued: EventRef | None = None
    expires_at: datetime | None = None


@dataclass(slots=True)
class Credit:
    voucher_id: str
    amount_cents: int
    event: EventRef
    debited: EventRef | None = None
    claim_id: str | None = None
    matched: bool = False  # by the end checks: a redemption on the voucher names this credit


@dataclass(slots=True)
class Claim:
    amount_cents: int
    status: str
    redemption_ids: list[str]
    events: list[EventRef]


@dataclass
class MerchantTally:
    """A shop's account in one round."""

    account_id: str
    round_id: str = ""
    merchant_id: str = ""
    vat_number: str = ""
    redeemed_cents: int = 0  # credited - debited
    claimed_cents: int = 0
    approved_cents: int = 0
    reimbursed_cents: int = 0
    credits: dict[str, Credit] = field(default_factory=dict)
    claims: dict[str, Claim] = field(default_factory=dict)
    redeemed_trail: Trail = field(default_factory=Trail)
    claimed_trail: Trail = field(default_factory=Trail)
    approved_trail: Trail = field(default_factory=Trail)
    reimbursed_trail: Trail = field(default_factory=Trail)
    affiliated: EventRef | None = None
    suspended: EventRef | None = None  # while suspended: the suspension

    @property
    def outstanding_cents(self) -> int:
        """What the municipality still owes the shop."""
        return self.redeemed_cents - self.reimbursed_cents


@dataclass(slots=True)
class HouseholdTally:
    household_id: str
    round_id: str = ""
    application_id: str = ""
    status: str = ""
    vouchers: int = 0
    issued_cents: int = 0
    redeemed_cents: int = 0
    returned_cents: int = 0


# --- The tally ---------------------------------------------------------------------------------

ISSUED = "issued"  # an application whose household the round committed vouchers to
_APPLICATION_STATUS = {
    "ApplicationSubmitted": "submitted",
    "ApplicationApproved": "approved",
    "ApplicationRejected": "rejected",
    "ApplicationWaitlisted": "waitlisted",
}


class _Entries(dict[str, _T]):
    """The tally's entities of one kind by id; looking up an id not seen yet adds an empty
    one (``make(id)``). Read with ``get`` or ``in`` to look without adding."""

    def __init__(self, make: Callable[[str], _T]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: str) -> _T:
        entry = self[key] = self.make(key)
        return entry


class VouchersTally:
    """Feed it the sound events of the vouchers topic (see :func:`servicekit.audit.replay`)."""

    def __init__(self) -> None:
        # Each entity by its id, made empty the first time an event names it.
        self.funds = _Entries(FundTally)
        self.rounds = _Entries(RoundTally)
        self.vouchers = _Entries(VoucherTally)
        self.merchants = _Entries(MerchantTally)
        self.households = _Entries(HouseholdTally)
        # application id -> (entitlement approved, its event); rejected applications
        self.approvals: dict[str, tuple[int, EventRef]] = {}
        self.rejections: dict[str, EventRef] = {}
        # application id -> (its round, its status so far): what the round's counts hold
        self.application_status: dict[str, tuple[str, str]] = {}
        self.violations: list[Violation] = []
        self.tainted: set[str] = set()
        self._handlers: dict[type[ContractEvent], Callable[[Any, EventRef], None]] = {
            c.FundAllocated: self._fund_allocated,
            c.FundToppedUp: self._fund_topped_up,
            c.FundBudgetAssigned: self._fund_budget_assigned,
            c.RoundOpened: self._round_opened,
            c.RoundVouchersCommitted: self._round_committed,
            c.RoundValueReturned: self._round_value_returned,
            c.RoundClosed: self._round_closed,
            c.ApplicationSubmitted: self._application,
            c.ApplicationApproved: self._application,
            c.ApplicationRejected: self._application,
            c.ApplicationWaitlisted: self._application,
            c.VoucherIssued: self._voucher_issued,
            c.VoucherDelegateNamed: self._voucher_delegate,
            c.VoucherRedeemed: self._voucher_redeemed,
            c.VoucherRedemptionVoided: self._voucher_voided,
            c.VoucherExpired: self._voucher_ended,
            c.VoucherRevoked: self._voucher_ended,
            c.MerchantAffiliated: self._merchant_affiliated,
            c.MerchantSuspended: self._merchant_suspended,
            c.MerchantReinstated: self._merchant_reinstated,
            c.MerchantCredited: self._merchant_credited,
            c.MerchantDebited: self._merchant_debited,
            c.ReimbursementClaimed: self._claimed,
            c.ReimbursementApproved: self._claim_approved,
            c.ReimbursementPaid: self._claim_paid,
        }
        # Per type: its handler and, for a ledger event, the short type name its refs carry.
        self._handling: dict[type[ContractEvent], tuple[_Handler, str | None]] = {
            t: (handler, _short(t.type_name) if issubclass(t, LedgerEvent) else None)
            for t, handler in self._handlers.items()
        }
        self._finished = False

    # --- the Tally protocol -----------------------------------------------------------------

    def add(self, record: AuditRecord) -> None:
        event: Any = record.event
        handling = self._handling.get(type(event))
        if handling is None:
            return  # another service's event on a shared copy: not part of this ledger
        handler, short_type = handling
        if short_type is not None:  # a ledger event: named by its stream and sequence
            f = event.__dict__  # see _merchant_credited
            ref = EventRef(
                record.position, f["stream_id"], f["sequence"], short_type, record.origin
            )
        else:  # an application's event: named by its application
            ref = EventRef.of(record, getattr(event, "application_id", None))
        handler(event, ref)

    def broken(self, record: AuditRecord) -> None:
        if isinstance(record.event, LedgerEvent):
            self.tainted.add(record.event.stream_id)

    # --- helpers ------------------------------------------------------------------------------

    def _violate(self, rule: str, subject: str, detail: str, *events: EventRef | None) -> None:
        self.violations.append(
            Violation(rule, subject, detail, tuple(e for e in events if e is not None))
        )

    def _checking(self, *streams: str) -> bool:
        """Whether a stream's own consistency can still be checked (its chain is unbroken)."""
        tainted = self.tainted
        return not tainted or not any(s in tainted for s in streams)

    # --- funds --------------------------------------------------------------------------------

    def _fund_allocated(self, e: c.FundAllocated, ref: EventRef) -> None:
        fund = self.funds[e.fund_id]
        fund.municipality_istat = e.municipality_istat
        fund.opened = ref
        self._allocate(fund, e.source_kind, e.source_reference, e.amount_cents, ref)

    def _fund_topped_up(self, e: c.FundToppedUp, ref: EventRef) -> None:
        self._allocate(
            self.funds[e.fund_id], e.source_kind, e.source_reference, e.amount_cents, ref
        )

    @staticmethod
    def _allocate(fund: FundTally, kind: str, reference: str, amount: int, ref: EventRef) -> None:
        fund.allocated_cents += amount
        fund.sources.append(SourceLine(kind, reference, amount, ref))
        fund.allocated_trail.add(ref)

    def _fund_budget_assigned(self, e: c.FundBudgetAssigned, ref: EventRef) -> None:
        fund = self.funds[e.fund_id]
        fund.assigned_cents += e.amount_cents
        fund.assigned_trail.add(ref)
        fund.budgets[e.round_id] = (e.amount_cents, ref)
        if e.fund_id not in self.tainted and fund.assigned_cents > fund.allocated_cents:
            self._violate(
                "issued ≤ allocated",
                f"fund {e.fund_id}",
                f"budgets assigned to rounds reach {euro(fund.assigned_cents)}, more than the "
                f"{euro(fund.allocated_cents)} allocated",
                ref,
                fund.opened,
            )

    # --- rounds -------------------------------------------------------------------------------

    def _round_opened(self, e: c.RoundOpened, ref: EventRef) -> None:
        round_ = self.rounds[e.round_id]
        round_.fund_id = e.fund_id
        round_.title = e.title
        round_.budget_cents = e.budget_cents
        round_.excluded_categories = frozenset(e.excluded_categories)
        round_.opened = ref

    def _round_committed(self, e: c.RoundVouchersCommitted, ref: EventRef) -> None:
        round_ = self.rounds[e.round_id]
        if e.round_id not in self.tainted and e.amount_cents > round_.available_cents:
            self._violate(
                "issued ≤ allocated",
                f"round {e.round_id}",
                f"committed {euro(e.amount_cents)} to household {e.household_id} with only "
                f"{euro(round_.available_cents)} of the budget left",
                ref,
                round_.opened,
            )
        round_.issued_cents += e.amount_cents
        round_.issued_trail.add(ref)
        round_.commitments.append(
            Commitment(e.application_id, e.household_id, list(e.voucher_ids), e.amount_cents, ref)
        )
        household = self.households[e.household_id]
        household.round_id = e.round_id
        household.application_id = e.application_id
        household.status = ISSUED
        self._application_now(e.application_id, e.round_id, ISSUED)

    def _round_value_returned(self, e: c.RoundValueReturned, ref: EventRef) -> None:
        round_ = self.rounds[e.round_id]
        outstanding = round_.issued_cents - round_.returned_cents
        if e.round_id not in self.tainted:
            if e.amount_cents > outstanding:
                self._violate(
                    "redeemed ≤ issued",
                    f"round {e.round_id}",
                    f"{euro(e.amount_cents)} returned with only {euro(outstanding)} outstanding",
                    ref,
                )
            if e.voucher_id in round_.returns:
                self._violate(
                    "streams agree",
                    f"round {e.round_id}",
                    f"voucher {e.voucher_id}'s value was returned twice",
                    round_.returns[e.voucher_id][2],
                    ref,
                )
        round_.returned_cents += e.amount_cents
        round_.returned_trail.add(ref)
        round_.returns[e.voucher_id] = (e.amount_cents, e.reason, ref)

    def _round_closed(self, e: c.RoundClosed, ref: EventRef) -> None:
        self.rounds[e.round_id].closed = True

    # --- applications (not ledger events: counted, and they name the household) --------------

    def _application(self, e: Any, ref: EventRef) -> None:
        status = _APPLICATION_STATUS[type(e).__name__]
        status = self._application_now(e.application_id, e.round_id, status)
        household = self.households[e.household_id]
        household.round_id = e.round_id
        household.application_id = e.application_id
        household.status = status
        if isinstance(e, c.ApplicationApproved):
            self.approvals[e.application_id] = (e.entitlement_cents, ref)
        elif isinstance(e, c.ApplicationRejected):
            self.rejections[e.application_id] = ref

    def _application_now(self, application_id: str, round_id: str, status: str) -> str:
        """Move an application to ``status`` in its round's counts (counted once, in its latest
        status); returns the status it is in. Issued is final: a household served from the
        waitlist holds vouchers, whatever application event comes after."""
        before = self.application_status.get(application_id)
        if before is not None:
            before_round, before_status = before
            if before_status == ISSUED or (before_status == status and before_round == round_id):
                return before_status
            counts = self.rounds[before_round].applications
            left = counts[before_status] - 1
            if left:
                counts[before_status] = left
            else:
                del counts[before_status]
        self.application_status[application_id] = (round_id, status)
        counts = self.rounds[round_id].applications
        counts[status] = counts.get(status, 0) + 1
        return status

    # --- vouchers -----------------------------------------------------------------------------

    def _voucher_issued(self, e: c.VoucherIssued, ref: EventRef) -> None:
        f = e.__dict__  # the fields, read as a dict: see _merchant_credited
        voucher = self.vouchers[f["voucher_id"]]
        voucher.round_id = f["round_id"]
        voucher.application_id = f["application_id"]
        voucher.household_id = f["household_id"]
        voucher.value_cents = voucher.remaining_cents = f["value_cents"]
        voucher.status = "active"
        voucher.issued = ref
        voucher.expires_at = f["expires_at"]
        household = self.households[f["household_id"]]
        household.round_id = f["round_id"]
        household.vouchers += 1
        household.issued_cents += f["value_cents"]

    def _voucher_delegate(self, e: c.VoucherDelegateNamed, ref: EventRef) -> None:
        pass  # no money moves

    def _voucher_redeemed(self, e: c.VoucherRedeemed, ref: EventRef) -> None:
        f = e.__dict__  # the fields, read as a dict: see _merchant_credited
        voucher_id, amount, redemption_id = f["voucher_id"], f["amount_cents"], f["redemption_id"]
        voucher = self.vouchers[voucher_id]
        subject = f"voucher {voucher_id}"
        if voucher_id not in self.tainted:
            if voucher.status != "active":
                self._violate(
                    "redeemed ≤ issued",
                    subject,
                    f"spent {euro(amount)} while {voucher.status}",
                    ref,
                    voucher.issued,
                )
            elif amount > voucher.remaining_cents:
                self._violate(
                    "no voucher remaining < 0",
                    subject,
                    f"spent {euro(amount)} with {euro(voucher.remaining_cents)} left",
                    ref,
                    voucher.issued,
                )
            elif f["remaining_cents"] != voucher.remaining_cents - amount:
                self._violate(
                    "redeemed ≤ issued",
                    subject,
                    f"the redemption says {euro(f['remaining_cents'])} remain; the voucher's "
                    f"history leaves {euro(voucher.remaining_cents - amount)}",
                    ref,
                )
            redeemed_at = f["redeemed_at"]
            if voucher.expires_at is not None and redeemed_at >= voucher.expires_at:
                self._violate(
                    "redeemed ≤ issued",
                    subject,
                    f"spent {euro(amount)} on {redeemed_at:%Y-%m-%d %H:%M} UTC, after it "
                    f"expired on {voucher.expires_at:%Y-%m-%d %H:%M} UTC",
                    ref,
                    voucher.issued,
                )
            if redemption_id in voucher.redemptions:
                self._violate(
                    "redeemed ≤ issued",
                    subject,
                    f"redemption {redemption_id} was spent twice",
                    voucher.redemptions[redemption_id].event,
                    ref,
                )
        voucher.remaining_cents -= amount
        voucher.redemptions[redemption_id] = Redemption(
            f["merchant_id"], amount, f["goods_category"], ref
        )
        if voucher.household_id:
            self.households[voucher.household_id].redeemed_cents += amount

    def _voucher_voided(self, e: c.VoucherRedemptionVoided, ref: EventRef) -> None:
        voucher = self.vouchers[e.voucher_id]
        redemption = voucher.redemptions.get(e.redemption_id)
        if e.voucher_id not in self.tainted:
            problem = None
            if redemption is None:
                problem = f"voids redemption {e.redemption_id}, which it never had"
            elif redemption.voided is not None:
                problem = f"voids redemption {e.redemption_id} a second time"
            elif (redemption.merchant_id, redemption.amount_cents) != (
                e.merchant_id,
                e.amount_cents,
            ):
                problem = (
                    f"voids {euro(e.amount_cents)} at {e.merchant_id} for a redemption of "
                    f"{euro(redemption.amount_cents)} at {redemption.merchant_id}"
                )
            elif voucher.status != "active":
                problem = f"a redemption was voided while the voucher was {voucher.status}"
            if problem:
                self._violate(
                    "redeemed ≤ issued",
                    f"voucher {e.voucher_id}",
                    problem,
                    redemption.event if redemption else None,
                    ref,
                )
        voucher.remaining_cents += e.amount_cents
        if redemption is not None:
            redemption.voided = ref
        if voucher.household_id:
            self.households[voucher.household_id].redeemed_cents -= e.amount_cents

    def _voucher_ended(self, e: c.VoucherExpired | c.VoucherRevoked, ref: EventRef) -> None:
        voucher = self.vouchers[e.voucher_id]
        if e.voucher_id not in self.tainted:
            if voucher.status != "active":
                self._violate(
                    "redeemed ≤ issued",
                    f"voucher {e.voucher_id}",
                    f"ended again while already {voucher.status}",
                    voucher.ended[1] if voucher.ended else None,
                    ref,
                )
            elif e.amount_cents != voucher.remaining_cents:
                self._violate(
                    "redeemed ≤ issued",
                    f"voucher {e.voucher_id}",
                    f"returns {euro(e.amount_cents)} but had {euro(voucher.remaining_cents)} left",
                    ref,
                )
        voucher.status = "expired" if isinstance(e, c.VoucherExpired) else "revoked"
        voucher.remaining_cents = 0
        voucher.ended = (e.amount_cents, ref)
        if voucher.household_id:
            self.households[voucher.household_id].returned_cents += e.amount_cents

    # --- merchants ----------------------------------------------------------------------------

    def _merchant_affiliated(self, e: c.MerchantAffiliated, ref: EventRef) -> None:
        account = self.merchants[e.account_id]
        account.round_id = e.round_id
        account.merchant_id = e.merchant_id
        account.vat_number = e.vat_number
        account.affiliated = ref

    def _merchant_suspended(self, e: c.MerchantSuspended, ref: EventRef) -> None:
        self.merchants[e.account_id].suspended = ref

    def _merchant_reinstated(self, e: c.MerchantReinstated, ref: EventRef) -> None:
        self.merchants[e.account_id].suspended = None

    def _merchant_credited(self, e: c.MerchantCredited, ref: EventRef) -> None:
        # The hottest handlers read an event's fields from its __dict__, where pydantic keeps
        # them: BaseModel's __getattr__ keeps Python from specialising attribute reads on
        # models, and each e.field costs several dict lookups.
        f = e.__dict__
        account_id, redemption_id, amount = f["account_id"], f["redemption_id"], f["amount_cents"]
        account = self.merchants[account_id]
        if account_id not in self.tainted:
            if account.suspended is not None:
                self._violate(
                    "streams agree",
                    f"merchant {f['merchant_id']} in round {account.round_id}",
                    f"redemption {redemption_id} was credited while the shop was suspended",
                    account.suspended,
                    ref,
                )
            if redemption_id in account.credits:
                self._violate(
                    "redeemed ≤ issued",
                    f"merchant {f['merchant_id']} in round {account.round_id}",
                    f"redemption {redemption_id} was credited twice",
                    account.credits[redemption_id].event,
                    ref,
                )
        account.credits[redemption_id] = Credit(f["voucher_id"], amount, ref)
        account.redeemed_cents += amount
        account.redeemed_trail.add(ref)

    def _merchant_debited(self, e: c.MerchantDebited, ref: EventRef) -> None:
        account = self.merchants[e.account_id]
        credit = account.credits.get(e.redemption_id)
        if e.account_id not in self.tainted:
            problem = None
            if credit is None:
                problem = f"debits redemption {e.redemption_id}, never credited"
            elif credit.debited is not None:
                problem = f"debits redemption {e.redemption_id} a second time"
            elif credit.amount_cents != e.amount_cents:
                problem = (
                    f"debits {euro(e.amount_cents)} for a credit of {euro(credit.amount_cents)}"
                )
            elif credit.claim_id is not None:
                problem = f"debits redemption {e.redemption_id}, already claimed"
            if problem:
                self._violate(
                    "reimbursed ≤ redeemed",
                    f"merchant {e.merchant_id} in round {account.round_id}",
                    problem,
                    credit.event if credit else None,
                    ref,
                )
        if credit is not None:
            credit.debited = ref
        account.redeemed_cents -= e.amount_cents
        account.redeemed_trail.add(ref)

    def _claimed(self, e: c.ReimbursementClaimed, ref: EventRef) -> None:
        account = self.merchants[e.account_id]
        subject = f"merchant {e.merchant_id} in round {account.round_id}"
        if e.account_id not in self.tainted:
            total = 0
            for redemption_id in e.redemption_ids:
                credit = account.credits.get(redemption_id)
                problem = None
                if credit is None:
                    problem = "was never credited"
                elif credit.debited is not None:
                    problem = "was voided"
                elif credit.claim_id is not None:
                    problem = f"was already claimed in claim {credit.claim_id}"
                else:
                    total += credit.amount_cents
                if problem:
                    self._violate(
                        "reimbursed ≤ redeemed",
                        subject,
                        f"claim {e.claim_id} takes redemption {redemption_id}, which {problem}",
                        ref,
                        credit.event if credit else None,
                    )
            if total != e.amount_cents:
                self._violate(
                    "reimbursed ≤ redeemed",
                    subject,
                    f"claim {e.claim_id} asks {euro(e.amount_cents)} for redemptions worth "
                    f"{euro(total)}",
                    ref,
                )
        for redemption_id in e.redemption_ids:
            credit = account.credits.get(redemption_id)
            if credit is not None and credit.claim_id is None:
                credit.claim_id = e.claim_id
        account.claims[e.claim_id] = Claim(e.amount_cents, "claimed", list(e.redemption_ids), [ref])
        account.claimed_cents += e.amount_cents
        account.claimed_trail.add(ref)
        self._check_account_order(account, ref)

    def _claim_step(
        self,
        e: c.ReimbursementApproved | c.ReimbursementPaid,
        ref: EventRef,
        before: str,
        after: str,
    ) -> MerchantTally:
        account = self.merchants[e.account_id]
        claim = account.claims.get(e.claim_id)
        if e.account_id not in self.tainted:
            problem = None
            if claim is None:
                problem = f"claim {e.claim_id} was never submitted"
            elif claim.status != before:
                problem = f"claim {e.claim_id} is {claim.status}, not {before}"
            elif claim.amount_cents != e.amount_cents:
                problem = (
                    f"claim {e.claim_id} is {after} for {euro(e.amount_cents)}, but was for "
                    f"{euro(claim.amount_cents)}"
                )
            if problem:
                self._violate(
                    "reimbursed ≤ redeemed",
                    f"merchant {e.merchant_id} in round {account.round_id}",
                    problem,
                    *(claim.events if claim else []),
                    ref,
                )
        if claim is not None:
            claim.status = after
            claim.events.append(ref)
        return account

    def _claim_approved(self, e: c.ReimbursementApproved, ref: EventRef) -> None:
        account = self._claim_step(e, ref, "claimed", "approved")
        account.approved_cents += e.amount_cents
        account.approved_trail.add(ref)
        self._check_account_order(account, ref)

    def _claim_paid(self, e: c.ReimbursementPaid, ref: EventRef) -> None:
        account = self._claim_step(e, ref, "approved", "paid")
        account.reimbursed_cents += e.amount_cents
        account.reimbursed_trail.add(ref)
        self._check_account_order(account, ref)

    def _check_account_order(self, account: MerchantTally, ref: EventRef) -> None:
        if account.account_id in self.tainted:
            return
        figures = [
            ("reimbursed", account.reimbursed_cents),
            ("approved", account.approved_cents),
            ("claimed", account.claimed_cents),
            ("redeemed", account.redeemed_cents),
        ]
        for (lower, low), (upper, high) in itertools.pairwise(figures):
            if low > high:
                self._violate(
                    "reimbursed ≤ redeemed",
                    f"merchant {account.merchant_id} in round {account.round_id}",
                    f"{lower} {euro(low)} exceeds {upper} {euro(high)}",
                    ref,
                )
                return

    # --- the end: checks across streams ---------------------------------------------------------

    def finish(self) -> list[Violation]:
        """Run the checks that need every stream; returns every violation found."""
        if not self._finished:
            self._finished = True
            self._check_rounds_and_funds()
            self._check_commitments()
            spent = self._check_redemptions()
            self._check_returns()
            self._check_totals(spent)
        return self.violations

    def _check_rounds_and_funds(self) -> None:
        for round_ in self.rounds.values():
            if round_.opened is None:
                if round_.round_id not in self.tainted:
                    self._violate(
                        "streams agree",
                        f"round {round_.round_id}",
                        "has events but no RoundOpened",
                        *round_.issued_trail.last,
                    )
                continue
            fund = self.funds.get(round_.fund_id)
            budget = fund.budgets.get(round_.round_id) if fund else None
            if budget is None:
                self._violate(
                    "issued ≤ allocated",
                    f"round {round_.round_id}",
                    f"its budget of {euro(round_.budget_cents)} was never assigned by fund "
                    f"{round_.fund_id}",
                    round_.opened,
                )
            elif budget[0] != round_.budget_cents:
                self._violate(
                    "issued ≤ allocated",
                    f"round {round_.round_id}",
                    f"its budget is {euro(round_.budget_cents)}; the fund assigned "
                    f"{euro(budget[0])}",
                    round_.opened,
                    budget[1],
                )
        for fund in self.funds.values():
            for round_id, (amount, ref) in fund.budgets.items():
                assigned = self.rounds.get(round_id)
                if assigned is None or assigned.opened is None:
                    self._violate(
                        "issued ≤ allocated",
                        f"fund {fund.fund_id}",
                        f"assigned {euro(amount)} to round {round_id}, which never opened",
                        ref,
                    )

    def _check_commitment_of_application(
        self, round_id: str, commitment: Commitment, served: dict[str, EventRef]
    ) -> None:
        """A round's budget goes to an approved application, once, up to its entitlement."""
        if round_id in self.tainted:
            return
        subject = f"round {round_id}"
        application = commitment.application_id
        if application in served:
            self._violate(
                "issued ≤ allocated",
                subject,
                f"served application {application} (household {commitment.household_id}) twice",
                served[application],
                commitment.event,
            )
        served[application] = commitment.event
        approval = self.approvals.get(application)
        if application in self.rejections:
            self._violate(
                "issued ≤ allocated",
                subject,
                f"committed {euro(commitment.amount_cents)} to application {application}, "
                "which was rejected",
                self.rejections[application],
                commitment.event,
            )
        elif approval is None:
            self._violate(
                "issued ≤ allocated",
                subject,
                f"committed {euro(commitment.amount_cents)} to application {application}, "
                "which was never approved",
                commitment.event,
            )
        elif commitment.amount_cents > approval[0]:
            self._violate(
                "issued ≤ allocated",
                subject,
                f"committed {euro(commitment.amount_cents)} to application {application}, "
                f"approved for {euro(approval[0])}",
                approval[1],
                commitment.event,
            )

    def _check_commitments(self) -> None:
        committed: dict[str, EventRef] = {}
        served: dict[str, EventRef] = {}
        tainted, vouchers = self.tainted, self.vouchers
        for round_ in self.rounds.values():
            round_id = round_.round_id
            round_tainted = round_id in tainted
            for commitment in round_.commitments:
                self._check_commitment_of_application(round_id, commitment, served)
                total = 0
                for voucher_id in commitment.voucher_ids:
                    if voucher_id in committed and not round_tainted:
                        self._violate(
                            "issued ≤ allocated",
                            f"round {round_.round_id}",
                            f"committed voucher {voucher_id} a second time",
                            committed[voucher_id],
                            commitment.event,
                        )
                    committed[voucher_id] = commitment.event
                    voucher = vouchers.get(voucher_id)
                    if voucher is None or voucher.issued is None:
                        if voucher_id not in tainted:
                            self._violate(
                                "streams agree",
                                f"round {round_.round_id}",
                                f"committed voucher {voucher_id}, which was never issued",
                                commitment.event,
                            )
                        continue
                    total += voucher.value_cents
                    if voucher_id not in tainted and (
                        voucher.round_id != round_id
                        or voucher.household_id != commitment.household_id
                    ):
                        self._violate(
                            "streams agree",
                            f"round {round_.round_id}",
                            f"committed voucher {voucher_id} to household "
                            f"{commitment.household_id}; it was issued to household "
                            f"{voucher.household_id} in round {voucher.round_id}",
                            commitment.event,
                            voucher.issued,
                        )
                if total != commitment.amount_cents and self._checking(*commitment.voucher_ids):
                    self._violate(
                        "issued ≤ allocated",
                        f"round {round_.round_id}",
                        f"committed {euro(commitment.amount_cents)} to household "
                        f"{commitment.household_id}; its vouchers are worth {euro(total)}",
                        commitment.event,
                    )
        for voucher in self.vouchers.values():
            if voucher.issued is None:
                if voucher.voucher_id not in self.tainted:
                    first = next(iter(voucher.redemptions.values()), None)
                    self._violate(
                        "streams agree",
                        f"voucher {voucher.voucher_id}",
                        "has events but no VoucherIssued",
                        first.event if first else None,
                    )
            elif voucher.voucher_id not in committed and self._checking(
                voucher.voucher_id, voucher.round_id
            ):
                self._violate(
                    "issued ≤ allocated",
                    f"voucher {voucher.voucher_id}",
                    f"issued for {euro(voucher.value_cents)} without a commitment of round "
                    f"{voucher.round_id}'s budget",
                    voucher.issued,
                )

    def _accounts_by_merchant(self) -> dict[tuple[str, str], MerchantTally]:
        return {(a.round_id, a.merchant_id): a for a in self.merchants.values() if a.affiliated}

    def _check_redemptions(self) -> dict[str, int]:
        """Every redemption against its round's rules and its shop's credit, and every credit
        against a redemption. Returns what each round's vouchers spent, net of voids (summed
        on the way: one pass over a big ledger's vouchers is a good part of the end checks)."""
        shops: dict[str, dict[str, MerchantTally]] = {}  # round -> merchant -> account
        for (round_id, merchant_id), shop in self._accounts_by_merchant().items():
            shops.setdefault(round_id, {})[merchant_id] = shop
        no_shops: dict[str, MerchantTally] = {}
        tainted, rounds = self.tainted, self.rounds
        spent: dict[str, int] = {}
        matched = 0  # credits a redemption names
        for voucher in self.vouchers.values():
            redemptions = voucher.redemptions
            if not redemptions:
                continue
            voucher_id, round_id = voucher.voucher_id, voucher.round_id
            round_ = rounds.get(round_id)
            excluded = round_.excluded_categories if round_ is not None else frozenset()
            round_shops = shops.get(round_id, no_shops)
            voucher_tainted = voucher_id in tainted
            net = 0
            for redemption_id, redemption in redemptions.items():
                if redemption.voided is None:
                    net += redemption.amount_cents
                account = round_shops.get(redemption.merchant_id)
                if redemption.goods_category in excluded:
                    self._violate(
                        "redeemed ≤ issued",
                        f"voucher {voucher.voucher_id}",
                        f"spent on excluded goods ({redemption.goods_category})",
                        redemption.event,
                    )
                if account is None:
                    self._violate(
                        "streams agree",
                        f"voucher {voucher.voucher_id}",
                        f"spent at {redemption.merchant_id}, not affiliated to round "
                        f"{voucher.round_id}",
                        redemption.event,
                    )
                    continue
                credit = account.credits.get(redemption_id)
                if credit is not None and not credit.matched:
                    credit.matched = True
                    matched += 1
                if voucher_tainted or (tainted and account.account_id in tainted):
                    continue
                if (
                    credit is None
                    or credit.amount_cents != redemption.amount_cents
                    or credit.voucher_id != voucher_id
                    or (redemption.voided is None) != (credit.debited is None)
                ):
                    self._match_credit(voucher, redemption_id, redemption, account, credit)
            spent[round_id] = spent.get(round_id, 0) + net
        if matched < sum(len(account.credits) for account in self.merchants.values()):
            self._check_unmatched_credits()  # else every credit is named by a redemption
        return spent

    def _check_unmatched_credits(self) -> None:
        """A shop credited for a redemption no voucher records (after the redemptions pass
        has marked the credits it matched)."""
        for account in self.merchants.values():
            for redemption_id, credit in account.credits.items():
                if credit.matched:
                    continue
                if self._checking(account.account_id, credit.voucher_id):
                    self._violate(
                        "redeemed ≤ issued",
                        _shop(account),
                        f"credited {euro(credit.amount_cents)} for redemption {redemption_id}, "
                        f"which voucher {credit.voucher_id} does not record",
                        credit.event,
                    )

    def _match_credit(
        self,
        voucher: VoucherTally,
        redemption_id: str,
        redemption: Redemption,
        account: MerchantTally,
        credit: Credit | None,
    ) -> None:
        """What is wrong between a redemption and its shop's credit (the caller checks that
        something is)."""
        if credit is None:
            self._violate(
                "redeemed ≤ issued",
                _shop(account),
                f"redemption {redemption_id} of {euro(redemption.amount_cents)} was never "
                "credited to the shop",
                redemption.event,
            )
            return
        if (credit.amount_cents, credit.voucher_id) != (
            redemption.amount_cents,
            voucher.voucher_id,
        ):
            other = (
                ""
                if credit.voucher_id == voucher.voucher_id
                else f" for voucher {credit.voucher_id}"
            )
            self._violate(
                "redeemed ≤ issued",
                _shop(account),
                f"redemption {redemption_id}: voucher {voucher.voucher_id} spent "
                f"{euro(redemption.amount_cents)}, the shop was credited "
                f"{euro(credit.amount_cents)}{other}",
                redemption.event,
                credit.event,
            )
        if (redemption.voided is None) != (credit.debited is None):
            where = (
                "the voucher but not on the shop's account"
                if credit.debited is None
                else "the shop's account but not on the voucher"
            )
            self._violate(
                "redeemed ≤ issued",
                _shop(account),
                f"redemption {redemption_id} was voided on {where}",
                redemption.voided or redemption.event,
                credit.debited or credit.event,
            )

    def _check_returns(self) -> None:
        tainted, rounds = self.tainted, self.rounds
        for voucher in self.vouchers.values():
            round_ = rounds.get(voucher.round_id)
            if round_ is None:
                continue
            returned = round_.returns.get(voucher.voucher_id)
            ended = voucher.ended if voucher.ended and voucher.ended[0] > 0 else None
            if ended is None and returned is None:
                continue  # nothing to return: most vouchers
            if tainted and (voucher.voucher_id in tainted or voucher.round_id in tainted):
                continue
            if ended and not returned:
                self._violate(
                    "streams agree",
                    f"round {round_.round_id}",
                    f"voucher {voucher.voucher_id} ended with {euro(ended[0])} unspent that "
                    "never returned to the round",
                    ended[1],
                )
            elif returned and not ended:
                self._violate(
                    "streams agree",
                    f"round {round_.round_id}",
                    f"{euro(returned[0])} returned for voucher {voucher.voucher_id}, which "
                    "did not expire or get revoked with money left",
                    returned[2],
                )
            elif ended and returned and ended[0] != returned[0]:
                self._violate(
                    "streams agree",
                    f"round {round_.round_id}",
                    f"voucher {voucher.voucher_id} ended with {euro(ended[0])}; the round got "
                    f"{euro(returned[0])} back",
                    ended[1],
                    returned[2],
                )

    def _check_totals(self, spent: dict[str, int]) -> None:
        """The funds' and rounds' figures add up; ``spent``: what each round's vouchers spent,
        net of voids (from :meth:`_check_redemptions`)."""
        for fund_id, figures in self.fund_figures().items():
            fund = self.funds[fund_id]
            trails = self.fund_trails(fund_id)
            rules: list[tuple[str, bool, str, str]] = [
                (
                    "issued ≤ allocated",
                    figures["issued_cents"] - figures["returned_cents"]
                    > figures["allocated_cents"],
                    f"issued {euro(figures['issued_cents'])} less returned "
                    f"{euro(figures['returned_cents'])} exceeds the "
                    f"{euro(figures['allocated_cents'])} allocated",
                    "issued_cents",
                ),
                (
                    "redeemed ≤ issued",
                    figures["redeemed_cents"] + figures["returned_cents"] > figures["issued_cents"],
                    f"redeemed {euro(figures['redeemed_cents'])} and returned "
                    f"{euro(figures['returned_cents'])} exceed the "
                    f"{euro(figures['issued_cents'])} issued",
                    "redeemed_cents",
                ),
                (
                    "reimbursed ≤ redeemed",
                    figures["reimbursed_cents"] > figures["redeemed_cents"],
                    f"reimbursed {euro(figures['reimbursed_cents'])} exceeds the "
                    f"{euro(figures['redeemed_cents'])} redeemed",
                    "reimbursed_cents",
                ),
            ]
            for rule, broken, detail, figure in rules:
                if broken:
                    self._violate(
                        rule, f"fund {fund_id}", detail, fund.opened, *trails[figure].last
                    )
        for round_ in self.rounds.values():
            redeemed = spent.get(round_.round_id, 0)
            if redeemed + round_.returned_cents > round_.issued_cents:
                self._violate(
                    "redeemed ≤ issued",
                    f"round {round_.round_id}",
                    f"vouchers spent {euro(redeemed)} and returned "
                    f"{euro(round_.returned_cents)}, more than the "
                    f"{euro(round_.issued_cents)} issued",
                    round_.opened,
                    *round_.issued_trail.last,
                )

    # --- figures ------------------------------------------------------------------------------

    def rounds_of(self, fund_id: str) -> list[RoundTally]:
        return [r for r in self.rounds.values() if r.fund_id == fund_id]

    def merchants_of(self, fund_id: str) -> list[MerchantTally]:
        rounds = {r.round_id for r in self.rounds_of(fund_id)}
        return [m for m in self.merchants.values() if m.round_id in rounds]

    def fund_figures(self) -> dict[str, dict[str, int]]:
        """Per fund, the figures the service reports (``FUND_FIGURES``), from events only."""
        result: dict[str, dict[str, int]] = {}
        for fund_id, fund in self.funds.items():
            rounds = self.rounds_of(fund_id)
            merchants = self.merchants_of(fund_id)
            issued = sum(r.issued_cents for r in rounds)
            returned = sum(r.returned_cents for r in rounds)
            result[fund_id] = {
                "allocated_cents": fund.allocated_cents,
                "assigned_to_rounds_cents": fund.assigned_cents,
                "issued_cents": issued,
                "redeemed_cents": sum(m.redeemed_cents for m in merchants),
                "reimbursed_cents": sum(m.reimbursed_cents for m in merchants),
                "returned_cents": returned,
                "available_cents": fund.allocated_cents - issued + returned,
            }
        return result

    def fund_trails(self, fund_id: str) -> dict[str, Trail]:
        fund = self.funds[fund_id]
        rounds = self.rounds_of(fund_id)
        merchants = self.merchants_of(fund_id)
        issued = Trail.merged(r.issued_trail for r in rounds)
        returned = Trail.merged(r.returned_trail for r in rounds)
        return {
            "allocated_cents": fund.allocated_trail,
            "assigned_to_rounds_cents": fund.assigned_trail,
            "issued_cents": issued,
            "redeemed_cents": Trail.merged(m.redeemed_trail for m in merchants),
            "reimbursed_cents": Trail.merged(m.reimbursed_trail for m in merchants),
            "returned_cents": returned,
            "available_cents": Trail.merged([fund.allocated_trail, issued, returned]),
        }

    def merchant_figures(self) -> dict[tuple[str, str], dict[str, int]]:
        """Per (round, merchant), the figures the service reports (``MERCHANT_FIGURES``)."""
        return {
            (m.round_id, m.merchant_id): {
                "redeemed_cents": m.redeemed_cents,
                "claimed_cents": m.claimed_cents,
                "approved_cents": m.approved_cents,
                "reimbursed_cents": m.reimbursed_cents,
            }
            for m in self.merchants.values()
        }

    def merchant_trails(self, round_id: str, merchant_id: str) -> dict[str, Trail]:
        for m in self.merchants.values():
            if (m.round_id, m.merchant_id) == (round_id, merchant_id):
                return {
                    "redeemed_cents": m.redeemed_trail,
                    "claimed_cents": m.claimed_trail,
                    "approved_cents": m.approved_trail,
                    "reimbursed_cents": m.reimbursed_trail,
                }
        return {}


# --- The service's own figures and the comparison ----------------------------------------------


@dataclass(frozen=True)
class ServiceFigures:
    """The figures the service reports, per fund and per (round, merchant)."""

    against: str
    funds: dict[str, dict[str, int]]
    merchants: dict[tuple[str, str], dict[str, int]] | None = None


def figures_from_application(app: VouchersApplication, upto: int | None = None) -> ServiceFigures:
    """In-process: what ``VouchersApplication.fund_figures`` and ``merchant_figures`` say now
    or, given ``upto`` (the last notification id the replay read), what ``figures_upto``
    says: the figures at the point the replay reached, however far the service moved on."""
    from vouchers.figures import FundFigures

    funds: dict[str, dict[str, int]] = {}
    merchants: dict[tuple[str, str], dict[str, int]] = {}
    if upto is not None:
        fund_list, merchant_list = app.figures_upto(upto)
        for fund_figures in fund_list:
            funds[fund_figures.fund_id] = {n: getattr(fund_figures, n) for n in FUND_FIGURES}
        for m in merchant_list:
            merchants[(m.round_id, m.merchant_id)] = {n: getattr(m, n) for n in MERCHANT_FIGURES}
        return ServiceFigures(
            f"the service's application (in-process, up to notification {upto})", funds, merchants
        )
    for fund in app.funds():
        figures: FundFigures = app.fund_figures(fund.id)
        funds[figures.fund_id] = {name: getattr(figures, name) for name in FUND_FIGURES}
        for round_id in fund.round_ids:
            for account in app.merchant_accounts(round_id):
                merchant = app.merchant_figures(round_id, account.merchant_id)
                merchants[(str(round_id), account.merchant_id)] = {
                    name: getattr(merchant, name) for name in MERCHANT_FIGURES
                }
    return ServiceFigures("the service's application (in-process)", funds, merchants)


def figures_from_api(
    base_url: str,
    token: str,
    *,
    upto: int | None = None,
    client: httpx.Client | None = None,
    timeout: float = 120.0,
) -> ServiceFigures:
    """Over the service's HTTP API with an auditor token: given ``upto``, ``GET
    /audit/figures?upto=`` (the figures once the events up to that notification were
    stored); otherwise the live figures, ``GET /funds``, then ``GET /rounds/{id}/merchants``
    for every round of every fund. Raises ``httpx.HTTPError`` (``HTTPStatusError`` for a
    4xx/5xx answer: 409 when the store does not reach ``upto``)."""
    import httpx

    own = client is None
    http = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
    headers = {"Authorization": f"Bearer {token}"}
    funds: dict[str, dict[str, int]] = {}
    merchants: dict[tuple[str, str], dict[str, int]] = {}
    try:
        if upto is not None:
            response = http.get("/audit/figures", headers=headers, params={"upto": upto})
            response.raise_for_status()
            answer = response.json()
            for item in answer["funds"]:
                funds[str(item["fund_id"])] = {name: int(item[name]) for name in FUND_FIGURES}
            for item in answer["merchants"]:
                merchants[(str(item["round_id"]), str(item["merchant_id"]))] = {
                    name: int(item[name]) for name in MERCHANT_FIGURES
                }
            return ServiceFigures(
                f"the service's API at {base_url} (up to notification {upto})", funds, merchants
            )
        response = http.get("/funds", headers=headers)
        response.raise_for_status()
        for item in response.json():
            fund_id = str(item["fund_id"])
            funds[fund_id] = {name: int(item[name]) for name in FUND_FIGURES}
            for round_id in item.get("round_ids", []):
                answer = http.get(f"/rounds/{round_id}/merchants", headers=headers)
                answer.raise_for_status()
                for account in answer.json():
                    merchants[(str(round_id), str(account["merchant_id"]))] = {
                        name: int(account[name]) for name in MERCHANT_FIGURES
                    }
    finally:
        if own:
            http.close()
    return ServiceFigures(f"the service's API at {base_url}", funds, merchants)


@dataclass(frozen=True)
class Difference:
    """A figure on which the tally and the service disagree (None: one side lacks it)."""

    subject: str
    figure: str
    tally_cents: int | None
    service_cents: int | None
    events_counted: int
    events: tuple[EventRef, ...]

    def describe(self) -> str:
        tally = "none" if self.tally_cents is None else euro(self.tally_cents)
        service = "none" if self.service_cents is None else euro(self.service_cents)
        gap = ""
        if self.tally_cents is not None and self.service_cents is not None:
            gap = f" (difference {euro(self.tally_cents - self.service_cents)})"
        return (
            f"{self.subject} {self.figure}: events say {tally}, the service says {service}"
            f"{gap}; {self.events_counted} events counted"
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["events"] = [e.as_dict() for e in self.events]
        return data


@dataclass(frozen=True)
class Comparison:
    against: str
    funds: int
    merchants: int
    differences: list[Difference]

    def as_dict(self) -> dict[str, Any]:
        return {
            "against": self.against,
            "funds_compared": self.funds,
            "merchant_accounts_compared": self.merchants,
            "differences": [d.as_dict() for d in self.differences],
            "match": not self.differences,
        }


def compare(tally: VouchersTally, service: ServiceFigures) -> Comparison:
    """Every figure of every fund (and shop, when the service gave them), to the cent."""
    differences: list[Difference] = []
    ours = tally.fund_figures()
    for fund_id in sorted(ours.keys() | service.funds.keys()):
        trails = tally.fund_trails(fund_id) if fund_id in ours else {}
        differences.extend(
            _differences(f"fund {fund_id}", ours.get(fund_id), service.funds.get(fund_id), trails)
        )
    merchants = 0
    if service.merchants is not None:
        our_merchants = tally.merchant_figures()
        keys = sorted(our_merchants.keys() | service.merchants.keys())
        merchants = len(keys)
        for round_id, merchant_id in keys:
            differences.extend(
                _differences(
                    f"merchant {merchant_id} in round {round_id}",
                    our_merchants.get((round_id, merchant_id)),
                    service.merchants.get((round_id, merchant_id)),
                    tally.merchant_trails(round_id, merchant_id),
                )
            )
    return Comparison(
        service.against, len(ours.keys() | service.funds.keys()), merchants, differences
    )


def _differences(
    subject: str,
    ours: dict[str, int] | None,
    theirs: dict[str, int] | None,
    trails: dict[str, Trail],
) -> Iterator[Difference]:
    names = list((ours or theirs or {}).keys())
    for name in names:
        mine = None if ours is None else ours.get(name)
        service = None if theirs is None else theirs.get(name)
        if mine != service:
            trail = trails.get(name, Trail())
            yield Difference(subject, name, mine, service, trail.events, tuple(trail.last))


# --- The audit ---------------------------------------------------------------------------------


@dataclass
class VouchersAudit:
    replay: ReplayReport
    tally: VouchersTally
    violations: list[Violation]
    comparison: Comparison | None
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        """The chain is intact, every rule holds and every compared figure matches."""
        return (
            self.replay.intact
            and not self.violations
            and (self.comparison is None or not self.comparison.differences)
        )

    # --- JSON ---------------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        tally = self.tally
        figures = tally.fund_figures()
        funds = []
        for fund_id, fund in sorted(tally.funds.items()):
            funds.append(
                {
                    "fund_id": fund_id,
                    "municipality_istat": fund.municipality_istat,
                    **figures[fund_id],
                    "sources": [
                        {
                            "kind": s.kind,
                            "reference": s.reference,
                            "amount_cents": s.amount_cents,
                            "event": s.event.as_dict(),
                        }
                        for s in fund.sources
                    ],
                    "rounds": [self._round_dict(r) for r in tally.rounds_of(fund_id)],
                }
            )
        return {
            "audit": "vouchers",
            "generated_at": self.generated_at.isoformat(),
            "ok": self.ok,
            "chain": self.replay.as_dict(),
            "funds": funds,
            "merchants": [
                {
                    "account_id": m.account_id,
                    "round_id": m.round_id,
                    "merchant_id": m.merchant_id,
                    "vat_number": m.vat_number,
                    "redeemed_cents": m.redeemed_cents,
                    "claimed_cents": m.claimed_cents,
                    "approved_cents": m.approved_cents,
                    "reimbursed_cents": m.reimbursed_cents,
                    "outstanding_cents": m.outstanding_cents,
                    "redemptions": len(m.credits),
                    "voided": sum(1 for cr in m.credits.values() if cr.debited),
                    "claims": len(m.claims),
                }
                for m in sorted(tally.merchants.values(), key=lambda m: (m.round_id, m.merchant_id))
            ],
            "households": [
                asdict(h) for h in sorted(tally.households.values(), key=lambda h: h.household_id)
            ],
            "violations": [v.as_dict() for v in self.violations],
            "comparison": None if self.comparison is None else self.comparison.as_dict(),
        }

    def _round_dict(self, r: RoundTally) -> dict[str, Any]:
        merchants = [m for m in self.tally.merchants.values() if m.round_id == r.round_id]
        return {
            "round_id": r.round_id,
            "title": r.title,
            "budget_cents": r.budget_cents,
            "issued_cents": r.issued_cents,
            "redeemed_cents": sum(m.redeemed_cents for m in merchants),
            "reimbursed_cents": sum(m.reimbursed_cents for m in merchants),
            "returned_cents": r.returned_cents,
            "available_cents": r.available_cents,
            "households_served": len(r.commitments),
            "applications": dict(sorted(r.applications.items())),
            "closed": r.closed,
        }

    # --- CSV ----------------------------------------------------------------------------------

    CSV_COLUMNS: ClassVar[tuple[str, ...]] = (
        "level",
        "fund_id",
        "municipality_istat",
        "round_id",
        "merchant_id",
        "source_kind",
        "source_reference",
        "allocated_cents",
        "assigned_cents",
        "issued_cents",
        "redeemed_cents",
        "claimed_cents",
        "approved_cents",
        "reimbursed_cents",
        "returned_cents",
        "available_cents",
        "outstanding_cents",
    )

    def csv_rows(self) -> list[dict[str, Any]]:
        """One row per fund, per source of money of a fund, per round and per shop (merchant
        account in a round). Amounts in cents; a cell is empty where a figure does not apply
        (money is not earmarked by source once in a fund; a shop is owed, not allocated)."""
        tally = self.tally
        figures = tally.fund_figures()
        rows: list[dict[str, Any]] = []
        for fund_id, fund in sorted(tally.funds.items()):
            f = figures[fund_id]
            base = {"fund_id": fund_id, "municipality_istat": fund.municipality_istat}
            rows.append(
                {
                    "level": "fund",
                    **base,
                    "allocated_cents": f["allocated_cents"],
                    "assigned_cents": f["assigned_to_rounds_cents"],
                    "issued_cents": f["issued_cents"],
                    "redeemed_cents": f["redeemed_cents"],
                    "claimed_cents": sum(m.claimed_cents for m in tally.merchants_of(fund_id)),
                    "approved_cents": sum(m.approved_cents for m in tally.merchants_of(fund_id)),
                    "reimbursed_cents": f["reimbursed_cents"],
                    "returned_cents": f["returned_cents"],
                    "available_cents": f["available_cents"],
                    "outstanding_cents": f["redeemed_cents"] - f["reimbursed_cents"],
                }
            )
            for source in fund.sources:
                rows.append(
                    {
                        "level": "source",
                        **base,
                        "source_kind": source.kind,
                        "source_reference": source.reference,
                        "allocated_cents": source.amount_cents,
                    }
                )
            for r in tally.rounds_of(fund_id):
                merchants = [m for m in tally.merchants.values() if m.round_id == r.round_id]
                redeemed = sum(m.redeemed_cents for m in merchants)
                reimbursed = sum(m.reimbursed_cents for m in merchants)
                rows.append(
                    {
                        "level": "round",
                        **base,
                        "round_id": r.round_id,
                        "assigned_cents": r.budget_cents,
                        "issued_cents": r.issued_cents,
                        "redeemed_cents": redeemed,
                        "claimed_cents": sum(m.claimed_cents for m in merchants),
                        "approved_cents": sum(m.approved_cents for m in merchants),
                        "reimbursed_cents": reimbursed,
                        "returned_cents": r.returned_cents,
                        "available_cents": r.available_cents,
                        "outstanding_cents": redeemed - reimbursed,
                    }
                )
                for m in sorted(merchants, key=lambda m: m.merchant_id):
                    rows.append(
                        {
                            "level": "merchant",
                            **base,
                            "round_id": r.round_id,
                            "merchant_id": m.merchant_id,
                            "redeemed_cents": m.redeemed_cents,
                            "claimed_cents": m.claimed_cents,
                            "approved_cents": m.approved_cents,
                            "reimbursed_cents": m.reimbursed_cents,
                            "outstanding_cents": m.outstanding_cents,
                        }
                    )
        return [{column: row.get(column, "") for column in self.CSV_COLUMNS} for row in rows]

    # --- words --------------------------------------------------------------------------------

    def summary_lines(self) -> list[str]:
        r = self.replay
        lines = [
            f"Vouchers audit of {r.source}",
            f"  read {r.records} records in {r.seconds:.2f} s: {r.ledger_events} ledger events "
            f"in {r.streams} streams verified, {r.other_events} other events, "
            f"{r.duplicates} duplicates skipped, {r.private_events} private events",
        ]
        lines.extend(r.chain_lines())
        figures = self.tally.fund_figures()
        for fund_id, fund in sorted(self.tally.funds.items()):
            f = figures[fund_id]
            lines.append(
                f"  fund {fund_id} (municipality {fund.municipality_istat}): allocated "
                f"{euro(f['allocated_cents'])}, assigned {euro(f['assigned_to_rounds_cents'])}, "
                f"issued {euro(f['issued_cents'])}, redeemed {euro(f['redeemed_cents'])}, "
                f"reimbursed {euro(f['reimbursed_cents'])}, returned "
                f"{euro(f['returned_cents'])}, available {euro(f['available_cents'])}"
            )
            for source in fund.sources:  # where the money came from: the State, a donor
                lines.append(
                    f"    source {source.kind} {source.reference}: {euro(source.amount_cents)}"
                )
        for m in sorted(self.tally.merchants.values(), key=lambda m: (m.round_id, m.merchant_id)):
            lines.append(
                f"  shop {m.merchant_id} in round {m.round_id}: redeemed "
                f"{euro(m.redeemed_cents)}, claimed {euro(m.claimed_cents)}, approved "
                f"{euro(m.approved_cents)}, reimbursed {euro(m.reimbursed_cents)}"
            )
        lines.append(
            f"  {len(self.tally.rounds)} rounds, {len(self.tally.merchants)} shop accounts, "
            f"{len(self.tally.households)} households, {len(self.tally.vouchers)} vouchers"
        )
        if self.violations:
            lines.append(f"  money rules: {len(self.violations)} VIOLATION(S)")
            for v in self.violations:
                lines.append(f"    {v.describe()}")
                lines.extend(f"      - {e.describe()}" for e in v.events)
        else:
            lines.append(
                "  money rules: all hold (issued ≤ allocated, redeemed ≤ issued, "
                "reimbursed ≤ redeemed, no voucher below zero, streams agree)"
            )
        if self.comparison is None:
            lines.append("  comparison with the service: not made")
        elif not self.comparison.differences:
            lines.append(
                f"  comparison with {self.comparison.against}: {self.comparison.funds} fund(s), "
                f"{self.comparison.merchants} shop account(s), every figure matches to the cent"
            )
        else:
            lines.append(
                f"  comparison with {self.comparison.against}: "
                f"{len(self.comparison.differences)} DIFFERENCE(S)"
            )
            for d in self.comparison.differences:
                lines.append(f"    {d.describe()}")
                lines.extend(f"      - {e.describe()}" for e in d.events)
        lines.append("RESULT: " + ("OK" if self.ok else "FAILED"))
        return lines


def audit_vouchers(
    items: Iterable[AuditItem],
    *,
    source: str,
    problems: Iterable[ReadProblem] = (),
    figures: ServiceFigures | Callable[[int], ServiceFigures | None] | None = None,
    since: LedgerSeal | None = None,
) -> VouchersAudit:
    """Replay the events into a fresh tally, check the rules and compare with the service's
    figures: given, or fetched by the callable *after* the replay, which is handed the last
    notification id the replay read, to ask the service for its figures at that point.
    ``since``: an earlier audit's seal, every head of which must still be in the ledger."""
    tally = VouchersTally()
    report, violations = replay_and_check(
        items, tally, source=source, problems=problems, since=since
    )
    service = figures(report.last_position) if callable(figures) else figures
    comparison = None if service is None else compare(tally, service)
    return VouchersAudit(report, tally, violations, comparison)
