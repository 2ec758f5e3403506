"""Refusals of the wallet domain, with messages an employer or an employee can act on."""

from servicekit.domain import Conflict, DomainError


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


class NotDelegate(DomainError):
    """Someone other than the employee or the employee's current delegate tried to spend."""

    status_code = 403
    code = "not_delegate"


class BonusConversionNotAllowed(DomainError):
    code = "bonus_conversion_not_allowed"


class BonusLimitExceeded(DomainError):
    """A productivity-bonus conversion would cross the employee's yearly tax-free limit."""

    code = "bonus_limit_exceeded"
