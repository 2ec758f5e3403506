"""Refusals of the catalog domain, with messages a provider or an operator can act on."""

from servicekit.domain import Conflict, DomainError, Forbidden, Gone


class InvalidProvider(DomainError):
    code = "invalid_provider"


class InvalidContact(DomainError):
    """An e-mail, phone number, website, address or contact person that is not valid."""

    code = "invalid_contact"


class InvalidOffering(DomainError):
    code = "invalid_offering"


class InvalidPrice(DomainError):
    code = "invalid_price"


class InvalidSlot(DomainError):
    code = "invalid_slot"


class InvalidPackage(DomainError):
    code = "invalid_package"


class UnknownMunicipality(DomainError):
    code = "unknown_municipality"


class NotBookable(DomainError):
    """The provider is not accredited (applied or suspended) or the offering not published."""

    code = "not_bookable"


class OfferingWithdrawn(Gone):
    """The offering left the marketplace for good: nothing of it can be booked any more."""

    code = "offering_withdrawn"
    title = "The offering was withdrawn"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class AlreadyRegistered(Conflict):
    code = "already_registered"


class SlotFull(Conflict):
    code = "slot_full"


class HoldNotFound(Conflict):
    code = "hold_not_found"


class HoldNotActive(Conflict):
    """The hold expired, was released or refused: it cannot be confirmed."""

    code = "hold_not_active"


class RequestMismatch(Conflict):
    """A request id was reused with different parameters."""

    code = "request_mismatch"


class BookingHoldNotYours(Forbidden):
    """A booking's hold is the booking saga's: it is confirmed and released by the booking's
    events only (a provider declines or cancels through the booking service)."""

    code = "booking_hold"


class InvalidBookingRequest(DomainError):
    """A booking's request the catalog cannot read as one (its request id does not name its
    booking): the consumer sends it to the dead-letter topic."""

    code = "invalid_booking_request"
