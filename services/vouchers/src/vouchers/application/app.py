"""The vouchers application: get → change → save on the event-sourced aggregates.

Every command either saves all the aggregates it changed in one transaction or changes nothing;
concurrent commands on the same aggregates are retried on fresh state (``retrying``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

import structlog
from benecomune_contracts import catalog
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import IntegrityError
from servicekit.batching import UnitOfWork
from servicekit.domain import NotFound
from servicekit.messages import Processing
from servicekit.projection import ReadModelStore, read_model_url
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication
from servicekit.vault import PersonalDataVault

from vouchers import contract_mapping  # noqa: F401  (registers the ledger hash chain mapping)
from vouchers.adapters.read_model import VouchersProjection
from vouchers.application import commands as cmd
from vouchers.application import views
from vouchers.application.views import ApplicationRow, VoucherRow
from vouchers.domain.application import Application, HouseholdIndexEntry
from vouchers.domain.codes import new_code, voucher_id_for
from vouchers.domain.errors import (
    AlreadyApplied,
    InvalidTransition,
    NotAffiliated,
    UnknownMunicipality,
    VoidRefused,
)
from vouchers.domain.fund import Fund
from vouchers.domain.merchant import Ledger, MerchantAccount
from vouchers.domain.programme_shop import ProgrammeShop
from vouchers.domain.round import Round
from vouchers.domain.rules import EntitlementRules
from vouchers.domain.voucher import Voucher
from vouchers.figures import FundFigures, MerchantFigures

log = structlog.get_logger(__name__)

REDEMPTION_NAMESPACE = uuid.UUID("9d5e3a71-2b8c-4f6e-a0d4-7c1b5e8f2a36")


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RedemptionReceipt:
    """What the till prints: the redemption, and what is left on the voucher after it."""

    redemption_id: str
    voucher_id: UUID
    remaining_cents: int


class VouchersApplication(ServiceApplication):
    snapshotting_intervals = {MerchantAccount: 50, Round: 50}
    vault: PersonalDataVault
    _pepper: bytes

    def __init__(
        self,
        settings: ServiceSettings,
        env: dict[str, Any] | None = None,
        *,
        personal_data: bool = True,
    ) -> None:
        """``personal_data=False`` opens the ledger alone, for the auditor: no vault and no
        index pepper are opened, so nothing is created beside the store being audited."""
        super().__init__(
            settings,
            {
                "IS_SNAPSHOTTING_ENABLED": "y",
                **(env or {}),
            },
        )
        # The auditor's ledger-only application creates no read model either: the few
        # lookups it makes read the log (``funds``, ``merchant_accounts``).
        self.ledger_only = not personal_data
        self._read_model: ReadModelStore | None = None
        self._read_model_lock = threading.Lock()
        if personal_data:
            self.vault = PersonalDataVault.from_settings(settings)
            self._pepper = self._load_pepper()

    def close(self) -> None:
        if self._read_model is not None:
            self._read_model.close()
        super().close()

    # --- read model (adapters/read_model.py; queries in application/views.py) -----------------

    @property
    def read_model(self) -> ReadModelStore:
        if self.ledger_only:
            raise RuntimeError("the ledger-only application has no read model")
        if self._read_model is None:
            with self._read_model_lock:
                if self._read_model is None:
                    url, schema = read_model_url(self.settings, "vouchers-read.sqlite")
                    projection = VouchersProjection(self.territory.zoneinfo)
                    self._read_model = ReadModelStore(projection, url, schema)
        return self._read_model

    def read_model_stores(self) -> list[ReadModelStore]:
        return [] if self.ledger_only else [self.read_model]

    def fresh_read_model(self) -> ReadModelStore:
        """The read model, caught up with every event stored so far (by this process or any
        other): what each query reads, so that it sees the writes made before it."""
        self.catch_up_read_models()
        return self.read_model

    # --- funds --------------------------------------------------------------------------------

    def allocate_fund(self, command: cmd.AllocateFund) -> UUID:
        self.check_municipality(command.municipality_istat)
        fund = Fund.allocate(
            command.municipality_istat,
            command.source_kind,
            command.source_reference,
            command.amount_cents,
        )
        self.save(fund)
        return fund.id

    def top_up_fund(self, fund_id: UUID, command: cmd.TopUpFund) -> None:
        def change() -> None:
            fund = self.get_fund(fund_id)
            fund.top_up(command.source_kind, command.source_reference, command.amount_cents)
            self.save(fund)

        self.retrying(change)

    def get_fund(self, fund_id: UUID) -> Fund:
        return self.get_aggregate(fund_id, Fund, "fund")

    def check_municipality(self, istat_code: str) -> None:
        if not self.territory.covers(istat_code):
            raise UnknownMunicipality(
                f"municipality {istat_code} is not part of territory {self.territory.id}"
            )

    # --- rounds -------------------------------------------------------------------------------

    def open_round(self, command: cmd.OpenRound, now: datetime | None = None) -> UUID:
        at = now or now_utc()
        voucher_rules = self.territory.rules.vouchers
        rules = EntitlementRules(**command.rules.model_dump())

        def change() -> UUID:
            fund = self.get_fund(UUID(command.fund_id))
            round_ = Round.open(
                fund_id=fund.id,
                municipality_istat=fund.municipality_istat,
                title=command.title,
                opens_at=command.opens_at.astimezone(UTC),
                closes_at=command.closes_at.astimezone(UTC),
                budget_cents=command.budget_cents,
                rules=rules,
                denominations_cents=command.denominations_cents
                or list(voucher_rules.denominations_cents),
                validity_days=command.validity_days or voucher_rules.validity_days,
                excluded_categories=command.excluded_categories,
                now=at,
            )
            fund.assign_budget(round_.id, command.budget_cents)
            # The catalogue's shops of the municipality join the new round with it.
            shops = [s for s in self.programme_shops() if s.serves(round_.municipality_istat)]
            self.save(fund, round_, *(self._affiliation(shop, round_) for shop in shops))
            return round_.id

        return self.retrying(change)

    def get_round(self, round_id: UUID) -> Round:
        return self.get_aggregate(round_id, Round, "round")

    def close_round(self, round_id: UUID) -> None:
        def change() -> None:
            round_ = self.get_round(round_id)
            round_.close()
            self.save(round_)

        self.retrying(change)

    # --- applications -------------------------------------------------------------------------

    def submit_application(
        self, command: cmd.SubmitApplication, applicant: str, now: datetime | None = None
    ) -> UUID:
        round_ = self.get_round(UUID(command.round_id))
        round_.check_accepts_applications(now or now_utc())
        household_id = uuid.uuid4()
        members = [command.applicant, *command.other_members]
        sealed = self.vault.seal(
            str(household_id),
            {
                "members": [m.model_dump() for m in members],
                "address": command.address,
            },
        )
        application = Application(
            round_id=round_.id,
            household_id=household_id,
            applicant=applicant,
            members=len(members),
            minors=sum(1 for m in members if m.minor),
            isee_cents=command.isee_cents,
            other_support=command.other_public_support,
            sealed_personal_data=sealed,
        )
        # One entry per member: a second application naming any of them collides in the store.
        # And one for the applicant's account, whose fiscal codes are only typed in: without it
        # one account could apply again naming other people (a neighbour's codes, even).
        keys = [self._index_key(round_.id, m.fiscal_code) for m in members]
        keys.append(self._index_key(round_.id, f"account:{applicant}"))
        entries = [HouseholdIndexEntry(key, application.id) for key in keys]
        try:
            self.save(application, *entries)
        except IntegrityError:
            self.vault.erase(str(household_id))
            raise AlreadyApplied(
                "this household, or this account, has already applied in this round"
            ) from None
        return application.id

    def get_application(self, application_id: UUID) -> Application:
        return self.get_aggregate(application_id, Application, "application")

    def approve_application(self, application_id: UUID, reviewer: str) -> None:
        def change() -> None:
            application = self.get_application(application_id)
            round_ = self.get_round(application.round_id)
            denominations = tuple(round_.denominations_cents)
            application.approve(round_.entitlement_rules, denominations, reviewer)
            self.save(application)

        self.retrying(change)

    def reject_application(
        self, application_id: UUID, command: cmd.RejectApplication, reviewer: str
    ) -> None:
        def change() -> None:
            application = self.get_application(application_id)
            application.check_can_reject()  # before sealing: an erased household has no key
            sealed = self.vault.seal(str(application.household_id), {"reason": command.reason})
            application.reject(command.reason_code, sealed, reviewer)
            self.save(application)

        self.retrying(change)

    def applications_in_round(self, round_id: UUID) -> list[Application]:
        """Every application of the round, in submission order (the HTTP list pages through
        ``views.applications_in_round`` instead)."""
        rows = views.applications_in_round(self.fresh_read_model(), round_id)
        return [self.get_application(r.id) for r in rows]

    def applications_of(self, applicant: str) -> list[Application]:
        """The applications a beneficiary submitted, oldest first."""
        rows = views.applications_of(self.fresh_read_model(), applicant)
        return [self.get_application(r.id) for r in rows]

    def ranking(self, round_id: UUID) -> list[ApplicationRow]:
        """Approved and waitlisted applications in the order they are served: priority, then
        need (lower ISEE first), then submission time. Read from the read model, ordered by
        its index: only the round's candidates are read, however many applications the
        territory holds."""
        return views.ranking(self.fresh_read_model(), round_id)

    def issue_vouchers(self, round_id: UUID, now: datetime | None = None) -> dict[str, int]:
        """Serve the ranking while the round's budget lasts; waitlist the rest in rank order.
        Run again when money returns (expiry, revocation) to serve the waitlist."""
        issued_at = now or now_utc()
        served = waitlisted = 0
        blocked = False
        # The ranking's rows give the order; each change is made on the aggregate got by id.
        for application in self.ranking(round_id):
            if not blocked and self.retrying(partial(self._serve, application.id, issued_at)):
                served += 1
                continue
            blocked = True  # strict ranking: nobody further down jumps the queue
            waitlisted += 1
            rank = waitlisted

            def mark(a: ApplicationRow = application, rank: int = rank) -> None:
                fresh = self.get_application(a.id)
                fresh.waitlist(rank)
                self.save(fresh)

            self.retrying(mark)
        return {"served": served, "waitlisted": waitlisted}

    def _serve(self, application_id: UUID, now: datetime) -> bool:
        application = self.get_application(application_id)
        if application.status == "served":
            # Served meanwhile by a concurrent issue (an operator's, or the clock job's in
            # another process): a retry finds it done, not an error.
            return True
        round_ = self.get_round(application.round_id)
        if application.entitlement_cents > round_.available_cents:
            return False
        expires_at = now + timedelta(days=round_.validity_days)
        vouchers: list[Voucher] = []
        codes: list[str] = []
        for value in application.voucher_values:
            code = new_code()
            codes.append(code)
            vouchers.append(
                Voucher.issue(
                    voucher_id_for(code),
                    round_id=round_.id,
                    application_id=application.id,
                    household_id=application.household_id,
                    holder=application.applicant,
                    value_cents=value,
                    expires_at=expires_at,
                )
            )
        voucher_ids = [str(v.id) for v in vouchers]
        round_.commit_vouchers(
            application.id, application.household_id, voucher_ids, application.entitlement_cents
        )
        # The codes are the household's to read; they are sealed like its personal data.
        application.serve(
            voucher_ids,
            self.vault.seal(str(application.household_id), {"codes": codes}),
            expires_at,
        )
        self.save(round_, application, *vouchers)
        return True

    def revoke_application(
        self, application_id: UUID, command: cmd.Revoke, now: datetime | None = None
    ) -> int:
        """Revoke every voucher of a household (e.g. a false declaration); their unspent value
        returns to the round, and serves its waitlist. Returns the cents returned."""
        application = self.get_application(application_id)
        returned = 0
        for voucher_id in application.voucher_ids:

            def change(voucher_id: str = voucher_id) -> int:
                voucher = self.get_voucher(UUID(voucher_id))
                if voucher.status != "active":
                    return 0
                round_ = self.get_round(voucher.round_id)
                amount = voucher.revoke(command.reason_code)
                if amount:
                    round_.take_back(voucher.id, amount, "revoked")
                self.save(voucher, round_)
                return amount

            returned += self.retrying(change)
        if returned:
            self.serve_waitlist(application.round_id, now or now_utc())
        return returned

    def serve_waitlist(self, round_id: UUID, now: datetime) -> dict[str, int] | None:
        """Money came back to the round: if households wait for it, serve the ranking again
        (as ``issue_vouchers``: strictly in rank order, while the money lasts). Nothing happens
        in a round where nobody was waitlisted: issuing there is the operator's decision."""
        if not views.has_waitlisted(self.fresh_read_model(), round_id):
            return None
        outcome = self.issue_vouchers(round_id, now)
        log.info("waitlist_served", round_id=str(round_id), **outcome)
        return outcome

    def erase_household(self, household_id: UUID) -> bool:
        """Erase a household's personal data (its key): the ledger stays intact. Refused while
        one of its applications is still pending: serving it needs the household's key (its
        voucher codes are sealed with it), so reject it first or erase after it is served."""
        for application_id in views.application_ids_of_household(
            self.fresh_read_model(), household_id
        ):
            application = self.get_application(application_id)
            if application.status in ("submitted", "approved", "waitlisted"):
                raise InvalidTransition(
                    f"application {application.id} is still {application.status}: reject "
                    "it first, or erase the household's data once it is served"
                )
        return self.vault.erase(str(household_id))

    def personal_data(self, application: Application | ApplicationRow) -> dict[str, Any] | None:
        return self.vault.open(str(application.household_id), application.sealed_personal_data)

    def rejection_reason(self, application: Application | ApplicationRow) -> str | None:
        """The social worker's words, unless the household was erased since."""
        if application.sealed_reason is None:
            return application.reason  # recorded in clear, before reasons were sealed
        opened = self.vault.open(str(application.household_id), application.sealed_reason)
        return None if opened is None else str(opened["reason"])

    # --- vouchers -----------------------------------------------------------------------------

    def get_voucher(self, voucher_id: UUID) -> Voucher:
        return self.get_aggregate(voucher_id, Voucher, "voucher")

    def voucher_by_code(self, code: str) -> Voucher:
        return self.get_voucher(voucher_id_for(code))

    def codes_of(self, application: Application | ApplicationRow) -> list[str]:
        """The voucher codes of a served household (sealed with its key), for its holder."""
        if not application.sealed_codes:
            return []
        opened = self.vault.open(str(application.household_id), application.sealed_codes)
        return list(opened["codes"]) if opened else []

    def vouchers_delegated_to(self, delegate_id: str) -> list[VoucherRow]:
        """The vouchers whose current delegate is this beneficiary."""
        return views.vouchers_delegated_to(self.fresh_read_model(), delegate_id)

    def name_delegate(self, voucher_id: UUID, holder: str, command: cmd.NameDelegate) -> None:
        def change() -> None:
            voucher = self.get_voucher(voucher_id)
            if voucher.holder != holder:
                raise NotAffiliated("only the voucher's holder can name a delegate")
            voucher.name_delegate(command.delegate_id)
            self.save(voucher)

        self.retrying(change)

    def redeem(self, merchant_id: str, command: cmd.Redeem, now: datetime | None = None) -> str:
        """Spend part of a voucher at an affiliated merchant; returns the redemption id. The
        same request id always gives the same redemption, spent once."""
        receipt = self.group_commit(self._redemption(merchant_id, command, now or now_utc()))
        return receipt.redemption_id

    async def redeem_async(
        self, merchant_id: str, command: cmd.Redeem, now: datetime | None = None
    ) -> RedemptionReceipt:
        """As ``redeem``, for the HTTP API: awaited, so a till waiting for its batch to be
        stored holds no thread; the receipt tells what is left on the voucher."""
        change = self._redemption(merchant_id, command, now or now_utc())
        return await self.group_commit_async(change)

    def _redemption(
        self, merchant_id: str, command: cmd.Redeem, at: datetime
    ) -> Callable[[UnitOfWork], RedemptionReceipt]:
        voucher_id = voucher_id_for(command.code)
        redemption_id = uuid.uuid5(
            REDEMPTION_NAMESPACE, f"{voucher_id}/{merchant_id}/{command.request_id}"
        )

        def change(uow: UnitOfWork) -> RedemptionReceipt:
            voucher = uow.get(voucher_id, Voucher, "voucher")
            try:
                account = uow.get(
                    MerchantAccount.id_for(voucher.round_id, merchant_id),
                    MerchantAccount,
                    "merchant account",
                )
            except NotFound:
                raise NotAffiliated(
                    f"merchant {merchant_id} is not affiliated to the voucher's round"
                ) from None
            account.check_active()
            account.check_goods(command.goods_category)
            if voucher.redeem(
                redemption_id, merchant_id, command.amount_cents, command.goods_category, at
            ):
                account.credit(redemption_id, voucher.id, command.amount_cents, at)
                remaining = voucher.remaining_cents
            else:
                # A till's retry: nothing is saved, so nothing would reveal a warm copy older
                # than the store (a void saved since): what is left is read from the store.
                remaining = self.get_voucher(voucher_id).remaining_cents
            return RedemptionReceipt(str(redemption_id), voucher.id, remaining)

        # Tills redeem all day long, many at once: their commands are group-committed.
        return change

    def void_redemption(
        self, merchant_id: str, command: cmd.VoidRedemption, now: datetime | None = None
    ) -> None:
        at = now or now_utc()
        redemption_id = UUID(command.redemption_id)

        def change() -> None:
            voucher = self.voucher_by_code(command.code)
            account = self.merchant_account(voucher.round_id, merchant_id)
            history = self.merchant_ledger(account.id)
            credit = history.credits.get(str(redemption_id))
            if credit is None or str(redemption_id) in history.voided:
                raise VoidRefused("no such redemption at this shop")
            account.check_can_void(credit[1], str(redemption_id) in history.claimed, at)
            amount = voucher.void(redemption_id, merchant_id)
            account.debit(redemption_id, amount)
            self.save(voucher, account)

        self.retrying(change)

    def expire_vouchers(self, round_id: UUID, now: datetime | None = None) -> int:
        """Expire the round's vouchers past their date; their unspent value returns to the
        round, and serves its waitlist. Returns the cents returned."""
        at = now or now_utc()
        returned = 0
        for voucher_id in self.get_round(round_id).voucher_ids:

            def change(voucher_id: str = voucher_id) -> int:
                voucher = self.get_voucher(UUID(voucher_id))
                if voucher.status != "active" or at < voucher.expires_at:
                    return 0
                round_ = self.get_round(round_id)
                amount = voucher.expire(at)
                if amount:
                    round_.take_back(voucher.id, amount, "expired")
                    self.save(voucher, round_)
                else:
                    self.save(voucher)
                return amount

            returned += self.retrying(change)
        if returned:
            self.serve_waitlist(round_id, at)
        return returned

    def expire_due_vouchers(self, now: datetime | None = None) -> int:
        """Expire every round's vouchers past their date (the service's clock job); returns
        the cents that went back to the rounds."""
        round_ids = views.round_ids(self.fresh_read_model())
        return sum(self.expire_vouchers(round_id, now) for round_id in round_ids)

    # --- merchants and reimbursements ---------------------------------------------------------

    def affiliate_merchant(self, round_id: UUID, command: cmd.AffiliateMerchant) -> UUID:
        round_ = self.get_round(round_id)
        account = MerchantAccount(
            round_id=round_.id,
            merchant_id=command.merchant_id,
            vat_number=command.vat_number,
            goods_categories=sorted(set(command.goods_categories)),
            excluded_categories=round_.excluded_categories,
        )
        try:
            self.save(account)
        except IntegrityError:
            raise AlreadyApplied(
                f"merchant {command.merchant_id} is already affiliated to this round"
            ) from None
        return account.id

    @staticmethod
    def _affiliation(shop: ProgrammeShop, round_: Round) -> MerchantAccount:
        """A catalogue shop's account in a round, as the operator's affiliation would make it."""
        assert shop.vat_number is not None  # ProgrammeShop.serves() asks for one
        return MerchantAccount(
            round_id=round_.id,
            merchant_id=shop.merchant_id,
            vat_number=shop.vat_number,
            goods_categories=shop.goods_categories,
            excluded_categories=round_.excluded_categories,
        )

    # --- shops from the catalogue -------------------------------------------------------------

    @singledispatchmethod
    def policy(self, message: Any, processing: Any) -> None:
        """Catalogue events the vouchers service does not act on are tracked and ignored."""

    @policy.register
    def _(self, message: catalog.MerchantAffiliated, processing: Processing) -> None:
        """A shop the catalogue admitted to the voucher programme (or changed) is recorded, and
        joins every round still open in the municipalities it serves that it has not joined;
        a shop without a VAT number is recorded but joins no round (an affiliation needs one)."""
        categories = sorted(set(message.goods_categories))
        municipalities = sorted(set(message.municipalities))
        try:
            shop = self.get_aggregate(
                ProgrammeShop.id_for(message.merchant_id), ProgrammeShop, "programme shop"
            )
            shop.change(message.vat_number, categories, municipalities)
        except NotFound:
            shop = ProgrammeShop(
                message.merchant_id, message.vat_number, categories, municipalities
            )
        if shop.vat_number is None:
            log.warning("programme_shop_without_vat_number", merchant_id=shop.merchant_id)
        joined = [
            self._affiliation(shop, round_)
            for round_ in self.open_rounds()
            if shop.serves(round_.municipality_istat)
            and not self.is_affiliated(round_.id, shop.merchant_id)
        ]
        processing.collect_events(shop, *joined)

    @policy.register
    def _(self, message: catalog.ProviderSuspended, processing: Processing) -> None:
        """A shop the catalogue suspends takes no vouchers in any round it joined until it is
        reinstated; what it is owed stays owed."""
        for account in self.accounts_of(message.provider_id):
            account.suspend(message.reason_code)
            processing.collect_events(account)

    @policy.register
    def _(self, message: catalog.ProviderReinstated, processing: Processing) -> None:
        for account in self.accounts_of(message.provider_id):
            account.reinstate()
            processing.collect_events(account)

    def accounts_of(self, merchant_id: str) -> list[MerchantAccount]:
        """A shop's accounts, one per round it joined (none for a provider that is no shop)."""
        ids = views.merchant_account_ids(self.fresh_read_model(), merchant_id=merchant_id)
        return [self.get_aggregate(i, MerchantAccount, "merchant account") for i in ids]

    def programme_shops(self) -> list[ProgrammeShop]:
        ids = views.programme_shop_ids(self.fresh_read_model())
        return [self.get_aggregate(i, ProgrammeShop, "programme shop") for i in ids]

    def open_rounds(self) -> list[Round]:
        """Rounds not closed (a closed round takes no new shops)."""
        rounds = (self.get_round(i) for i in views.round_ids(self.fresh_read_model()))
        return [r for r in rounds if not r.closed]

    def is_affiliated(self, round_id: UUID, merchant_id: str) -> bool:
        try:
            self.merchant_account(round_id, merchant_id)
        except NotAffiliated:
            return False
        return True

    def merchant_account(self, round_id: UUID, merchant_id: str) -> MerchantAccount:
        account_id = MerchantAccount.id_for(round_id, merchant_id)
        try:
            return self.get_aggregate(account_id, MerchantAccount, "merchant account")
        except NotFound:
            raise NotAffiliated(
                f"merchant {merchant_id} is not affiliated to the voucher's round"
            ) from None

    def merchant_ledger(self, account_id: UUID) -> Ledger:
        """The account's credits, voids and claims, read from its event history."""
        return Ledger(list(self.events.get(account_id)), self.territory.zoneinfo)

    def merchant_accounts(self, round_id: UUID) -> list[MerchantAccount]:
        """The round's shop accounts, in the order they joined."""
        if self.ledger_only:  # an audit reads the log (see __init__)
            ids = [
                e.originator_id
                for e in self.events_of(MerchantAccount.Affiliated)
                if e.round_id == round_id
            ]
        else:
            ids = views.merchant_account_ids(self.fresh_read_model(), round_id=round_id)
        return [self.get_aggregate(i, MerchantAccount, "merchant account") for i in ids]

    def claim_reimbursement(
        self, round_id: UUID, merchant_id: str, command: cmd.ClaimReimbursement
    ) -> tuple[UUID, int]:
        claim_id = uuid.uuid4()

        def change() -> int:
            account = self.merchant_account(round_id, merchant_id)
            history = self.merchant_ledger(account.id)
            amount = account.claim(claim_id, command.period_from, command.period_to, history)
            self.save(account)
            return amount

        return claim_id, self.retrying(change)

    def approve_claim(
        self,
        round_id: UUID,
        merchant_id: str,
        claim_id: UUID,
        payment_due_on: date,
        now: datetime | None = None,
    ) -> None:
        today = (now or now_utc()).astimezone(self.territory.zoneinfo).date()

        def change() -> None:
            account = self.merchant_account(round_id, merchant_id)
            account.approve_claim(claim_id, payment_due_on, today)
            self.save(account)

        self.retrying(change)

    def pay_claim(
        self, round_id: UUID, merchant_id: str, claim_id: UUID, payment_reference: str
    ) -> None:
        def change() -> None:
            account = self.merchant_account(round_id, merchant_id)
            account.pay_claim(claim_id, payment_reference)
            self.save(account)

        self.retrying(change)

    # --- figures ------------------------------------------------------------------------------

    def fund_figures(self, fund_id: UUID) -> FundFigures:
        fund = self.get_fund(fund_id)
        rounds = [self.get_round(r) for r in fund.round_ids]
        merchants = [m for r in rounds for m in self.merchant_accounts(r.id)]
        return FundFigures.of(fund, rounds, merchants)

    def merchant_figures(self, round_id: UUID, merchant_id: str) -> MerchantFigures:
        return MerchantFigures.of(self.merchant_account(round_id, merchant_id))

    def figures_upto(self, notification_id: int) -> tuple[list[FundFigures], list[MerchantFigures]]:
        """Every fund's and shop account's figures as they were once the events up to
        ``notification_id`` were stored: the point an auditor's replay reached (the topic's
        messages and the store's notifications carry the same ids). A live service keeps
        changing while the replay runs; compared at the same point, only a real difference
        remains — an event the replay lacks, up to that point, still shows. Raises
        ``LedgerBehind`` (the kit's) when the store does not reach ``notification_id``."""
        self.check_reaches(notification_id)
        versions = self.versions_upto(notification_id, Fund, Round, MerchantAccount)
        accounts_of: dict[UUID, list[UUID]] = {}
        for e in self.events_of(MerchantAccount.Affiliated):
            if e.originator_id in versions:
                accounts_of.setdefault(e.round_id, []).append(e.originator_id)
        funds: list[FundFigures] = []
        merchants: list[MerchantFigures] = []
        for e in self.events_of(Fund.Allocated):
            if e.originator_id not in versions:
                continue
            fund = self.get_as_of(e.originator_id, versions, Fund, "fund")
            rounds = [
                self.get_as_of(r, versions, Round, "round") for r in fund.round_ids if r in versions
            ]
            accounts = [
                self.get_as_of(a, versions, MerchantAccount, "merchant account")
                for r in rounds
                for a in accounts_of.get(r.id, ())
            ]
            funds.append(FundFigures.of(fund, rounds, accounts))
            merchants.extend(MerchantFigures.of(a) for a in accounts)
        return funds, merchants

    def funds(self, municipality_istat: str | None = None) -> list[Fund]:
        """Funds in the order they were allocated (of one municipality, if given)."""
        if self.ledger_only:  # an audit reads the log (see __init__)
            return [
                fund
                for fund in (self.get_fund(e.originator_id) for e in self.events_of(Fund.Allocated))
                if municipality_istat in (None, fund.municipality_istat)
            ]
        ids = views.fund_ids(self.fresh_read_model(), municipality_istat)
        return [self.get_fund(i) for i in ids]

    def spending(self, municipality_istat: str) -> dict[str, dict[str, int]]:
        """Redeemed cents (net of voids) by day (the municipality's calendar day) and by
        merchant, for one municipality."""
        return views.spending(self.fresh_read_model(), municipality_istat)

    # --- helpers ------------------------------------------------------------------------------

    def _index_key(self, round_id: UUID, fiscal_code: str) -> str:
        digest = hmac.new(self._pepper, fiscal_code.encode(), hashlib.sha256).hexdigest()
        return f"{round_id}/{digest}"

    def _load_pepper(self) -> bytes:
        """A secret that keeps the one-application index from revealing fiscal codes (a plain
        hash of a fiscal code can be reversed by trying them all). Created once, atomically."""
        path = self.settings.data_dir / f"{self.settings.service_name}-index.pepper"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            candidate = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
            candidate.write_bytes(secrets.token_bytes(32))
            candidate.chmod(0o600)
            with contextlib.suppress(FileExistsError):
                os.link(candidate, path)  # the first process to link wins
            candidate.unlink(missing_ok=True)
        return path.read_bytes()
