"""Refusals of the wallet domain, with messages an employer or an employee can act on."""

from servicekit.domain import Conflict, DomainError, Forbidden, Invalid, NotFound


class InvalidAmount(DomainError):
    code = "invalid_amount"


class InsufficientFunds(DomainError):
    code = "insufficient_funds"


class NotEligible(DomainError):
    code = "not_eligible"


class CategoryNotAllowed(DomainError):
    code = "category_not_allowed"


class PlanNotActive(DomainError):
    code = "plan_not_active"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class RequestMismatch(Conflict):
    """A request id was used again with different contents."""

    code = "request_id_reused"


class FringeCapExceeded(Conflict):
    """A fringe-benefit spend would cross the yearly cap: the employee must confirm that the
    whole year's fringe amount becomes taxable (``confirm_taxable``)."""

    code = "fringe_cap_warning"


class NoFringeCap(DomainError):
    code = "no_fringe_cap"


class NotDelegate(Forbidden):
    """Someone other than the employee or the employee's current delegate tried to spend."""

    code = "not_delegate"


class BonusConversionNotAllowed(DomainError):
    code = "bonus_conversion_not_allowed"


class BonusLimitExceeded(DomainError):
    """A productivity-bonus conversion would cross the employee's yearly tax-free limit."""

    code = "bonus_limit_exceeded"


# --- distinct causes that used to share a code ------------------------------------------------


class InvalidPlanPeriod(Invalid, InvalidTransition):
    """A plan's year or dates are not plausible (outside the window, too long, reversed)."""

    code = "invalid_plan_period"


class ReportYearOutOfRange(DomainError):
    code = "year_out_of_range"


class InvalidHoldExpiry(DomainError):
    """A hold must expire in the future, within the plan and within a year."""

    code = "invalid_hold_expiry"


class HoldNotFound(NotFound, InvalidTransition):
    code = "hold_not_found"


class HoldNotOpen(InvalidTransition):
    """The hold was already captured, released or expired (or not captured, for a refund)."""

    code = "hold_not_open"


class CaptureExceedsHold(InsufficientFunds):
    code = "capture_exceeds_hold"


class RefundExceedsCapture(InsufficientFunds):
    code = "refund_exceeds_capture"


class CreditExpired(PlanNotActive):
    """The plan's end date has passed (the plan itself may not be closed yet)."""

    code = "credit_expired"


class FiscalCodeInUse(Conflict):
    """One person (one fiscal code) under two employee ids of a plan would get two caps."""

    code = "fiscal_code_in_use"


class FiscalCodeMismatch(Conflict):
    """An employee enrolled with one fiscal code was given another."""

    code = "fiscal_code_mismatch"


class LoadIdReused(Conflict):
    """A client's load id names an earlier load of a different file."""

    code = "load_id_reused"


# --- requests by event (the booking saga) -----------------------------------------------------


class WalletNotFound(NotFound):
    code = "wallet_not_found"


class HoldOutlivesPlan(InvalidHoldExpiry):
    """A hold would outlive what its plan allows (its end, plus the settlement grace for a
    booking's hold)."""

    code = "hold_outlives_plan"


class HoldMismatch(Conflict):
    """A capture or release named a hold id that is not the hold of the request it named."""

    code = "hold_mismatch"


class ProviderMismatch(Conflict):
    """A capture would pay a provider other than the one the hold was made for."""

    code = "provider_mismatch"


class NotWalletHolder(Forbidden):
    """A booking's beneficiary is not the employee whose wallet it names."""

    code = "not_wallet_holder"


class HoldsAwaitSettlement(InvalidTransition):
    """A plan cannot close while bookings' holds are open in its settlement grace."""

    code = "holds_await_settlement"
