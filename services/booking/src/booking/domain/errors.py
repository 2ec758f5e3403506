"""Refusals of the booking domain, with messages a family, a provider or an operator can act
on. Each has a kind (invalid, conflict, forbidden, not found) and a stable code; the kit maps
the kind to an HTTP status."""

from __future__ import annotations

from servicekit.domain import Conflict, Forbidden, Invalid


class InvalidSplit(Invalid):
    """The funding split does not pay the price exactly, or names a source twice."""

    code = "invalid_split"


class InvalidBooking(Invalid):
    """The booking's content is not acceptable (no component, a slot in the past...)."""

    code = "invalid_booking"


class InvalidAmount(Invalid):
    code = "invalid_amount"


class InvalidTransition(Conflict):
    """The booking (or one of its components) is not in a state that allows the command."""

    code = "invalid_transition"


class RequestReused(Conflict):
    """A request id already named a different command on this booking."""

    code = "request_id_reused"


class NotAParty(Forbidden):
    """The caller is not a party of this booking (nor acts for one)."""

    code = "not_a_party"


class ConsentMissing(Invalid):
    """A social worker books on a beneficiary's behalf only with the consent's reference."""

    code = "consent_missing"
