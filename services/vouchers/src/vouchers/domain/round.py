"""A round: a call for applications with its rules, its denominations and a budget from a fund.

The round is where the budget is spent: vouchers are committed against it (never beyond what is
left) and the unspent value of expired or revoked vouchers comes back to it, so waitlisted
households can be served.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import event
from servicekit.chain import ChainedAggregate

from vouchers.domain.errors import (
    InsufficientFunds,
    InvalidAmount,
    InvalidDate,
    InvalidRules,
    RoundNotOpen,
)
from vouchers.domain.money import MAX_VOUCHERS_PER_HOUSEHOLD, check_amount, check_denominations
from vouchers.domain.rules import EntitlementRules

ReturnReason = Literal["expired", "revoked"]
RoundKind = Literal["food", "services"]
# The catalog's welfare categories a services round may cover (a food round covers none).
SERVICE_CATEGORIES = (
    "services_no_cap",
    "education_childcare",
    "elderly_care",
    "transport",
    "fringe_purchase",
)

# Plausible dates for a round. An operator may record a round that opened a little while ago
# (the call was published before it was typed in), but not one of years past (2019, 2020: a
# mistyped year); nor one that opens, closes or whose vouchers expire years ahead (9999).
MAX_OPENED_AGO = timedelta(days=31)
MAX_OPENS_AHEAD = timedelta(days=730)
MAX_ROUND_LENGTH = timedelta(days=730)
MAX_VALIDITY_DAYS = 730


class Round(ChainedAggregate):
    # Class-level defaults: rounds recorded before service vouchers read as food rounds.
    kind: RoundKind = "food"
    service_categories: tuple[str, ...] = ()

    # 2: counts of the households served and vouchers issued instead of the lists of their ids
    # (the read model knows a round's vouchers); older snapshots are upcast (upcast_v1_v2).
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["households_served"] = len(state.pop("served_applications", []))
        state["vouchers_issued"] = len(state.pop("voucher_ids", []))

    class Opened(ChainedAggregate.Created):
        fund_id: UUID
        municipality_istat: str
        title: str
        opens_at: datetime
        closes_at: datetime
        budget_cents: int
        rules: dict[str, Any]
        denominations_cents: list[int]
        validity_days: int
        excluded_categories: list[str]

    class VouchersCommitted(ChainedAggregate.Event):
        application_id: UUID
        household_id: UUID
        voucher_ids: list[str]
        amount_cents: int

    class ValueReturned(ChainedAggregate.Event):
        voucher_id: UUID
        amount_cents: int
        reason: ReturnReason

    class Closed(ChainedAggregate.Event):
        pass

    class ServicesCovered(ChainedAggregate.Event):
        """The round issues service vouchers for these catalog categories."""

        service_categories: list[str]

    @event(Opened)
    def __init__(
        self,
        fund_id: UUID,
        municipality_istat: str,
        title: str,
        opens_at: datetime,
        closes_at: datetime,
        budget_cents: int,
        rules: dict[str, Any],
        denominations_cents: list[int],
        validity_days: int,
        excluded_categories: list[str],
    ) -> None:
        self.fund_id = fund_id
        self.municipality_istat = municipality_istat
        self.title = title
        self.opens_at = opens_at
        self.closes_at = closes_at
        self.budget_cents = budget_cents
        self.rules = rules
        self.denominations_cents = denominations_cents
        self.validity_days = validity_days
        self.excluded_categories = excluded_categories
        self.issued_cents = 0
        self.returned_cents = 0
        self.closed = False
        self.households_served = 0
        self.vouchers_issued = 0

    @classmethod
    def open(
        cls,
        *,
        fund_id: UUID,
        municipality_istat: str,
        title: str,
        opens_at: datetime,
        closes_at: datetime,
        budget_cents: int,
        rules: EntitlementRules,
        denominations_cents: list[int],
        validity_days: int,
        excluded_categories: list[str],
        now: datetime,
        service_categories: list[str] | None = None,
    ) -> Round:
        """A food round, or a services round when ``service_categories`` names the catalog
        categories its vouchers pay for."""
        check_amount(budget_cents)
        cls.check_dates(opens_at, closes_at, validity_days, now)
        check_denominations(denominations_cents)
        cls.check_rules(rules, denominations_cents)
        if service_categories is not None:
            cls.check_service_categories(service_categories)
        round_ = cls(
            fund_id,
            municipality_istat,
            title,
            opens_at,
            closes_at,
            budget_cents,
            rules.to_dict(),
            sorted(set(denominations_cents)),
            validity_days,
            sorted(set(excluded_categories)),
        )
        if service_categories is not None:
            round_._cover_services(sorted(set(service_categories)))
        return round_

    @staticmethod
    def check_service_categories(categories: list[str]) -> None:
        if not categories:
            raise InvalidRules("a services round covers at least one category of the catalog")
        unknown = sorted(set(categories) - set(SERVICE_CATEGORIES))
        if unknown:
            raise InvalidRules(
                f"unknown service categories: {', '.join(unknown)} "
                f"(the catalog's are {', '.join(SERVICE_CATEGORIES)})",
                unknown=unknown,
            )

    def covers(self, category: str) -> bool:
        """Whether the round's service vouchers pay for offerings of this category."""
        return self.kind == "services" and category in self.service_categories

    @staticmethod
    def check_dates(
        opens_at: datetime, closes_at: datetime, validity_days: int, now: datetime
    ) -> None:
        """A round's dates are plausible: it opens no more than a month ago and no more than
        two years ahead, closes after it opens and within two years, and its vouchers are valid
        from one day to two years."""
        if closes_at <= opens_at:
            raise InvalidDate(
                f"a round must close after it opens (closes_at {closes_at:%Y-%m-%d %H:%M} UTC "
                f"is not after opens_at {opens_at:%Y-%m-%d %H:%M} UTC)"
            )
        if opens_at < now - MAX_OPENED_AGO:
            raise InvalidDate(
                f"opens_at {opens_at:%Y-%m-%d} is more than {MAX_OPENED_AGO.days} days in the "
                f"past (today is {now:%Y-%m-%d}): check the year",
                earliest_opens_at=(now - MAX_OPENED_AGO).isoformat(),
            )
        if opens_at > now + MAX_OPENS_AHEAD:
            raise InvalidDate(
                f"opens_at {opens_at:%Y-%m-%d} is more than {MAX_OPENS_AHEAD.days} days "
                f"ahead (today is {now:%Y-%m-%d}): check the year",
                latest_opens_at=(now + MAX_OPENS_AHEAD).isoformat(),
            )
        if closes_at - opens_at > MAX_ROUND_LENGTH:
            raise InvalidDate(
                f"a round may take applications for at most {MAX_ROUND_LENGTH.days} days; "
                f"{opens_at:%Y-%m-%d} to {closes_at:%Y-%m-%d} is longer: check the year",
                latest_closes_at=(opens_at + MAX_ROUND_LENGTH).isoformat(),
            )
        if not 1 <= validity_days <= MAX_VALIDITY_DAYS:
            raise InvalidDate(
                f"vouchers must be valid from 1 to {MAX_VALIDITY_DAYS} days, not {validity_days}",
                max_validity_days=MAX_VALIDITY_DAYS,
            )

    @staticmethod
    def check_rules(rules: EntitlementRules, denominations: list[int]) -> None:
        """The rules' amounts are sane: each a plausible amount, the cap not below the base
        amount (every eligible household is entitled to the base), and the cap a household can
        get a reasonable number of vouchers. (The cap may exceed the budget: it bounds an
        entitlement, and most households get less.)"""
        for amount in (rules.base_cents, rules.per_extra_member_cents, rules.per_minor_cents):
            check_amount(amount, allow_zero=True)
        if rules.isee_threshold_cents is not None:
            check_amount(rules.isee_threshold_cents, allow_zero=True)
        check_amount(rules.cap_cents)
        if rules.cap_cents < rules.base_cents:
            raise InvalidRules(
                f"the cap of {rules.cap_cents} cents is below the base amount of "
                f"{rules.base_cents} cents: no household could get its base entitlement",
                cap_cents=rules.cap_cents,
                base_cents=rules.base_cents,
            )
        pieces = rules.cap_cents // min(denominations)
        if pieces > MAX_VOUCHERS_PER_HOUSEHOLD:
            raise InvalidAmount(
                f"a cap of {rules.cap_cents} cents in vouchers of {min(denominations)} cents "
                f"would be up to {pieces} vouchers per household (at most "
                f"{MAX_VOUCHERS_PER_HOUSEHOLD}): check cents vs euros"
            )

    @property
    def entitlement_rules(self) -> EntitlementRules:
        return EntitlementRules.from_dict(self.rules)

    @property
    def available_cents(self) -> int:
        return self.budget_cents - self.issued_cents + self.returned_cents

    def check_accepts_applications(self, now: datetime) -> None:
        if self.closed or not self.opens_at <= now < self.closes_at:
            raise RoundNotOpen(
                f"round '{self.title}' takes applications from {self.opens_at:%Y-%m-%d %H:%M} "
                f"to {self.closes_at:%Y-%m-%d %H:%M} UTC"
                + (" and is closed" if self.closed else "")
            )

    def check_can_commit(self, amount_cents: int) -> None:
        if amount_cents > self.available_cents:
            raise InsufficientFunds(
                f"the round has {self.available_cents} cents left; {amount_cents} were asked"
            )

    def commit_vouchers(
        self, application_id: UUID, household_id: UUID, voucher_ids: list[str], amount_cents: int
    ) -> None:
        check_amount(amount_cents)
        self.check_can_commit(amount_cents)
        self._commit(application_id, household_id, voucher_ids, amount_cents)

    def take_back(self, voucher_id: UUID, amount_cents: int, reason: ReturnReason) -> None:
        check_amount(amount_cents)
        if amount_cents > self.issued_cents - self.returned_cents:
            raise InvalidAmount("more value returned than the round has outstanding")
        self._take_back(voucher_id, amount_cents, reason)

    def close(self) -> None:
        if not self.closed:
            self._close()

    @event(VouchersCommitted)
    def _commit(
        self, application_id: UUID, household_id: UUID, voucher_ids: list[str], amount_cents: int
    ) -> None:
        self.issued_cents += amount_cents
        self.households_served += 1
        self.vouchers_issued += len(voucher_ids)

    @event(ValueReturned)
    def _take_back(self, voucher_id: UUID, amount_cents: int, reason: ReturnReason) -> None:
        self.returned_cents += amount_cents

    @event(Closed)
    def _close(self) -> None:
        self.closed = True

    @event(ServicesCovered)
    def _cover_services(self, service_categories: list[str]) -> None:
        self.kind = "services"
        self.service_categories = tuple(service_categories)
