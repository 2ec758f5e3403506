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


# --- service vouchers held by bookings: each code is also the reason a refusal names ---------


class NotAServiceVoucher(DomainError):
    """A food voucher named by a booking: only a services round's vouchers are held."""

    code = "not_a_service_voucher"


class ServiceVoucherAtTill(DomainError):
    """A service voucher at a shop's till: it is spent through a booking."""

    code = "service_voucher_at_till"


class NotTheHolder(DomainError):
    """The booking is not for the voucher's holder."""

    code = "not_the_holder"


class CategoryNotCovered(DomainError):
    code = "category_not_covered"


class ProviderNotAccredited(DomainError):
    """The provider has no account in the voucher's round (not accredited there)."""

    code = "provider_not_accredited"


class NoSuchHold(DomainError):
    code = "no_such_hold"


class HoldClosed(DomainError):
    """The hold was already captured, released or lapsed."""

    code = "hold_closed"


class CaptureOverHold(DomainError):
    code = "capture_over_hold"


class NotTheProvider(DomainError):
    code = "not_the_provider"


class VoucherHeld(Conflict):
    """The voucher holds money for a booking: it cannot be revoked until the holds end."""

    code = "voucher_held"
