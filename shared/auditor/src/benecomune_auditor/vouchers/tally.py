"""The auditor's independent tally of the vouchers ledger: every event dispatched to its rule
(:meth:`VouchersTally.add`, the hot function), and the rules of funds, rounds and applications.
The rules of vouchers are in :mod:`.voucher_rules`, of shops in :mod:`.shop_rules`; the checks
across streams, once every event is in, in :mod:`.end_checks`."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from benecomune_contracts import vouchers as c
from benecomune_contracts.base import ContractEvent
from benecomune_contracts.chain import LedgerEvent

from benecomune_auditor.records import AuditRecord
from benecomune_auditor.vouchers.end_checks import EndChecks
from benecomune_auditor.vouchers.entities import Commitment, FundTally, SourceLine
from benecomune_auditor.vouchers.naming import EventRef, Violation, euro, short_type
from benecomune_auditor.vouchers.service_rules import ServiceRules
from benecomune_auditor.vouchers.shop_rules import ShopRules
from benecomune_auditor.vouchers.state import ISSUED, Fields
from benecomune_auditor.vouchers.voucher_rules import VoucherRules

__all__ = ["VouchersTally"]

_Handler = Callable[[Fields, EventRef], None]


class VouchersTally(VoucherRules, ShopRules, ServiceRules, EndChecks):
    """Feed it the sound events of the vouchers topic (see
    :func:`benecomune_auditor.replay.replay`); :meth:`finish` runs the checks across streams."""

    def __init__(self) -> None:
        super().__init__()
        handlers: dict[type[ContractEvent], _Handler] = {
            c.FundAllocated: self._fund_allocated,
            c.FundToppedUp: self._fund_topped_up,
            c.FundBudgetAssigned: self._fund_budget_assigned,
            c.RoundOpened: self._round_opened,
            c.RoundVouchersCommitted: self._round_committed,
            c.RoundValueReturned: self._round_value_returned,
            c.RoundClosed: self._round_closed,
            c.ApplicationSubmitted: partial(self._application, "submitted"),
            c.ApplicationApproved: partial(self._application, "approved"),
            c.ApplicationRejected: partial(self._application, "rejected"),
            c.ApplicationWaitlisted: partial(self._application, "waitlisted"),
            c.VoucherIssued: self._voucher_issued,
            c.VoucherDelegateNamed: self._voucher_delegate,
            c.VoucherRedeemed: self._voucher_redeemed,
            c.VoucherRedemptionVoided: self._voucher_voided,
            c.VoucherExpired: partial(self._voucher_ended, "expired"),
            c.VoucherRevoked: partial(self._voucher_ended, "revoked"),
            c.MerchantAffiliated: self._merchant_affiliated,
            c.MerchantSuspended: self._merchant_suspended,
            c.MerchantReinstated: self._merchant_reinstated,
            c.MerchantCredited: self._merchant_credited,
            c.MerchantDebited: self._merchant_debited,
            c.ReimbursementClaimed: self._claimed,
            c.ReimbursementApproved: self._claim_approved,
            c.ReimbursementPaid: self._claim_paid,
            # service vouchers (buoni servizio): .service_rules
            c.RoundServicesCovered: self._round_services_covered,
            c.ProviderAccountOpened: self._provider_account_opened,
            c.ServiceVoucherHeld: self._voucher_held,
            c.ServiceVoucherCaptured: self._voucher_captured,
            c.ServiceVoucherReleased: self._voucher_released,
        }
        # Per type: its handler, the short type name its refs carry, and whether it is a
        # ledger event (named by its stream and sequence) or an application's (by its id).
        self._handling: dict[type[ContractEvent], tuple[_Handler, str, bool]] = {
            t: (handler, short_type(t.type_name), issubclass(t, LedgerEvent))
            for t, handler in handlers.items()
        }

    # --- the Tally protocol -----------------------------------------------------------------

    def add(self, record: AuditRecord) -> None:
        """The hot function: called once for every sound event of the ledger.

        Every handler is given the event's fields as the dict pydantic keeps them in (the
        model's ``__dict__``), read here once, instead of the model: pydantic's
        ``BaseModel.__getattr__`` keeps Python from specialising attribute reads on models,
        so each ``event.field`` costs several dict lookups, and ``f["field"]`` one. The
        fields are the contract's (validated), so the handlers read them by name."""
        event = record.event
        handling = self._handling.get(type(event))
        if handling is None:
            return  # another service's event on a shared copy: not part of this ledger
        handler, short, ledger = handling
        f: Fields = event.__dict__
        if ledger:  # named by its stream and sequence
            ref = EventRef(record.position, f["stream_id"], f["sequence"], short, record.origin)
        else:  # an application's event: named by its application
            ref = EventRef(
                record.position, f.get("application_id") or "", None, short, record.origin
            )
        handler(f, ref)

    def finish(self) -> list[Violation]:
        if not self._finished:
            self._check_service_vouchers()
        return super().finish()

    def broken(self, record: AuditRecord) -> None:
        if isinstance(record.event, LedgerEvent):
            self.tainted.add(record.event.stream_id)

    # --- funds --------------------------------------------------------------------------------

    def _fund_allocated(self, f: Fields, ref: EventRef) -> None:
        fund = self.funds[f["fund_id"]]
        fund.municipality_istat = f["municipality_istat"]
        fund.opened = ref
        self._allocate(fund, f["source_kind"], f["source_reference"], f["amount_cents"], ref)

    def _fund_topped_up(self, f: Fields, ref: EventRef) -> None:
        self._allocate(
            self.funds[f["fund_id"]],
            f["source_kind"],
            f["source_reference"],
            f["amount_cents"],
            ref,
        )

    @staticmethod
    def _allocate(fund: FundTally, kind: str, reference: str, amount: int, ref: EventRef) -> None:
        fund.allocated_cents += amount
        fund.sources.append(SourceLine(kind, reference, amount, ref))
        fund.allocated_trail.add(ref)

    def _fund_budget_assigned(self, f: Fields, ref: EventRef) -> None:
        fund = self.funds[f["fund_id"]]
        fund.assigned_cents += f["amount_cents"]
        fund.assigned_trail.add(ref)
        fund.budgets[f["round_id"]] = (f["amount_cents"], ref)
        if f["fund_id"] not in self.tainted and fund.assigned_cents > fund.allocated_cents:
            self._violate(
                "issued ≤ allocated",
                f"fund {f['fund_id']}",
                f"budgets assigned to rounds reach {euro(fund.assigned_cents)}, more than the "
                f"{euro(fund.allocated_cents)} allocated",
                ref,
                fund.opened,
            )

    # --- rounds -------------------------------------------------------------------------------

    def _round_opened(self, f: Fields, ref: EventRef) -> None:
        round_ = self.rounds[f["round_id"]]
        round_.fund_id = f["fund_id"]
        round_.title = f["title"]
        round_.budget_cents = f["budget_cents"]
        round_.excluded_categories = frozenset(f["excluded_categories"])
        round_.opened = ref

    def _round_committed(self, f: Fields, ref: EventRef) -> None:
        round_ = self.rounds[f["round_id"]]
        if f["round_id"] not in self.tainted and f["amount_cents"] > round_.available_cents:
            self._violate(
                "issued ≤ allocated",
                f"round {f['round_id']}",
                f"committed {euro(f['amount_cents'])} to household {f['household_id']} with only "
                f"{euro(round_.available_cents)} of the budget left",
                ref,
                round_.opened,
            )
        round_.issued_cents += f["amount_cents"]
        round_.issued_trail.add(ref)
        round_.commitments.append(
            Commitment(
                f["application_id"],
                f["household_id"],
                list(f["voucher_ids"]),
                f["amount_cents"],
                ref,
            )
        )
        household = self.households[f["household_id"]]
        household.round_id = f["round_id"]
        household.application_id = f["application_id"]
        household.status = ISSUED
        self._application_now(f["application_id"], f["round_id"], ISSUED)

    def _round_value_returned(self, f: Fields, ref: EventRef) -> None:
        round_ = self.rounds[f["round_id"]]
        outstanding = round_.issued_cents - round_.returned_cents
        if f["round_id"] not in self.tainted:
            if f["amount_cents"] > outstanding:
                self._violate(
                    "redeemed ≤ issued",
                    f"round {f['round_id']}",
                    f"{euro(f['amount_cents'])} returned with only {euro(outstanding)} outstanding",
                    ref,
                )
            if f["voucher_id"] in round_.returns:
                self._violate(
                    "streams agree",
                    f"round {f['round_id']}",
                    f"voucher {f['voucher_id']}'s value was returned twice",
                    round_.returns[f["voucher_id"]][2],
                    ref,
                )
        round_.returned_cents += f["amount_cents"]
        round_.returned_trail.add(ref)
        round_.returns[f["voucher_id"]] = (f["amount_cents"], f["reason"], ref)

    def _round_closed(self, f: Fields, ref: EventRef) -> None:
        self.rounds[f["round_id"]].closed = True

    # --- applications (not ledger events: counted, and they name the household) --------------

    def _application(self, status: str, f: Fields, ref: EventRef) -> None:
        status = self._application_now(f["application_id"], f["round_id"], status)
        household = self.households[f["household_id"]]
        household.round_id = f["round_id"]
        household.application_id = f["application_id"]
        household.status = status
        if status == "approved":
            self.approvals[f["application_id"]] = (f["entitlement_cents"], ref)
        elif status == "rejected":
            self.rejections[f["application_id"]] = ref

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
