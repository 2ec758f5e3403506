"""Refusals of the vouchers domain, with messages a social worker or a shop can act on."""

from servicekit.domain import Conflict, DomainError


class InvalidAmount(DomainError):
    code = "invalid_amount"


class InvalidDate(DomainError):
    code = "invalid_date"


class UnknownMunicipality(DomainError):
    code = "unknown_municipality"


class InsufficientFunds(DomainError):
    code = "insufficient_funds"


class RoundNotOpen(DomainError):
    code = "round_not_open"


class AlreadyApplied(Conflict):
    code = "already_applied"


class RequestReused(Conflict):
    """A till's request id already named a different sale on this voucher."""

    code = "request_id_reused"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class NotEligible(DomainError):
    code = "not_eligible"


class VoucherNotSpendable(DomainError):
    code = "voucher_not_spendable"


class ExcludedGoods(DomainError):
    code = "excluded_goods"


class NotAffiliated(DomainError):
    code = "not_affiliated"


class NothingToClaim(DomainError):
    code = "nothing_to_claim"


class VoidRefused(DomainError):
    code = "void_refused"


class MerchantSuspended(DomainError):
    code = "merchant_suspended"
