"""Refusals of the vouchers domain, with messages a social worker or a shop can act on."""

from servicekit.domain import Conflict, DomainError


class InvalidAmount(DomainError):
    code = "invalid_amount"


class InvalidDate(DomainError):
    code = "invalid_date"


class InvalidPeriod(DomainError):
    """A period that ends before it starts."""

    code = "invalid_period"


class InvalidRules(DomainError):
    """A round's entitlement rules contradict each other (a cap below the base amount)."""

    code = "invalid_rules"


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
    """The voucher cannot be spent at all (expired, revoked)."""

    code = "voucher_not_spendable"


class InsufficientBalance(DomainError):
    """The voucher is spendable, but has less left than the sale asks (no change is given);
    ``remaining_cents`` and ``requested_cents`` are in the answer."""

    code = "insufficient_balance"


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
