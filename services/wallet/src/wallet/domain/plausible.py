"""Plausible years, periods and times: a typo (1990 for 2025, a hold expiring last week or in
2090) is refused with the window it must fall in, instead of being stored.

* A plan's year is within the current year - 1 .. + 1 (a late plan for last year, next year's
  prepared in advance); its period lasts at most two years (731 days) and contains the year.
* A hold expires strictly after now, within a year (366 days) and no later than the end of the
  last day of its plan (UTC) — plus a grace for a booking's hold (``settlement.py``).
* A report (the payroll) is asked for a year from 2020 to the current year + 1.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from wallet.domain.errors import (
    HoldOutlivesPlan,
    InvalidHoldExpiry,
    InvalidPlanPeriod,
    ReportYearOutOfRange,
)

PLAN_YEARS_BACK = 1
PLAN_YEARS_AHEAD = 1
MAX_PLAN_DAYS = 731
MAX_HOLD_DAYS = 366
FIRST_REPORT_YEAR = 2020


def check_plan_period(year: int, starts_on: date, ends_on: date, today: date) -> None:
    earliest, latest = today.year - PLAN_YEARS_BACK, today.year + PLAN_YEARS_AHEAD
    if not earliest <= year <= latest:
        raise InvalidPlanPeriod(
            f"a plan's year must be from {earliest} to {latest}, not {year}",
            earliest_year=earliest,
            latest_year=latest,
        )
    if ends_on < starts_on:
        raise InvalidPlanPeriod("a plan cannot end before it starts")
    days = (ends_on - starts_on).days + 1
    if days > MAX_PLAN_DAYS:
        raise InvalidPlanPeriod(
            f"a plan runs at most {MAX_PLAN_DAYS} days; {starts_on} to {ends_on} is {days}",
            max_days=MAX_PLAN_DAYS,
        )
    if not starts_on.year <= year <= ends_on.year:
        raise InvalidPlanPeriod(f"the plan year {year} is outside its dates")


def end_of(day: date) -> datetime:
    """The first instant after ``day`` (UTC): a plan's credit is usable until then."""
    return datetime.combine(day + timedelta(days=1), time.min, UTC)


def check_hold_expiry(
    expires_at: datetime, now: datetime, plan_ends_on: date, grace: timedelta = timedelta(0)
) -> None:
    """``grace``: how long past its plan's end the hold may run (none but for a booking's)."""
    if expires_at.tzinfo is None:
        raise InvalidHoldExpiry("a hold's expiry must give its time zone")
    if expires_at <= now:
        raise InvalidHoldExpiry(
            f"a hold must expire in the future: {expires_at.isoformat()} is not after "
            f"{now.isoformat()}",
            now=now.isoformat(),
        )
    by_plan = end_of(plan_ends_on) + grace
    latest = min(now + timedelta(days=MAX_HOLD_DAYS), by_plan)
    if expires_at > latest:
        # a booking's hold (with a grace) past it: the service would fall after the plan
        error = HoldOutlivesPlan if grace and latest == by_plan else InvalidHoldExpiry
        within = f"{grace.days} days after its plan ends" if grace else "before its plan ends"
        raise error(
            f"a hold must expire by {latest.isoformat()} (within {MAX_HOLD_DAYS} days and "
            f"{within} on {plan_ends_on}), not {expires_at.isoformat()}",
            latest_expires_at=latest.isoformat(),
        )


def check_report_year(year: int, today: date) -> None:
    latest = today.year + 1
    if not FIRST_REPORT_YEAR <= year <= latest:
        raise ReportYearOutOfRange(
            f"reports are kept for the years {FIRST_REPORT_YEAR} to {latest}, not {year}",
            earliest_year=FIRST_REPORT_YEAR,
            latest_year=latest,
        )
