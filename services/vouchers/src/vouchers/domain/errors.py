"""Refusals of the vouchers domain, with messages a social worker or a shop can act on."""

from servicekit.domain import DomainError


class InvalidAmount(DomainError):
    code = "invalid_amount"


class UnknownMunicipality(DomainError):
    code = "unknown_municipality"
