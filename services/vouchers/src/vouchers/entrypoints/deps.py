"""What every router of the vouchers API shares: the application, the roles that read, and
the translation of refusals that are not domain errors into clear 4xx answers."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from fastapi import HTTPException, Request, status
from servicekit.auth import Principal
from servicekit.domain import Conflict, DomainError
from servicekit.http import application_of
from servicekit.vault import SubjectErased, VaultError

from vouchers.application.app import VouchersApplication
from vouchers.domain.codes import InvalidVoucherCode, normalize_code

# The roles that read the territory's figures; the auditor reads everything, changes nothing.
READERS = ("operator", "social_worker", "auditor")


def vouchers_app(request: Request) -> VouchersApplication:
    return application_of(request, VouchersApplication)


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"


class InvalidCode(DomainError):
    status_code = 422
    code = "invalid_voucher_code"


class PersonalDataUnavailable(Conflict):
    code = "personal_data_unavailable"


def clear_errors() -> Iterator[None]:
    """A router dependency: a mistyped voucher code or a household's sealed data that cannot be
    used is answered 422/409 with a sentence, as the domain's own refusals are, never 500."""
    try:
        yield
    except InvalidVoucherCode as error:
        raise InvalidCode(str(error)) from None
    except SubjectErased:
        raise PersonalDataUnavailable(
            "a household's personal data was erased: nothing more can be issued to it "
            "(reject its pending application first)"
        ) from None
    except VaultError as error:
        raise PersonalDataUnavailable(
            f"the household's personal data cannot be read: {error}"
        ) from None


def parse_id(value: str, field: str) -> UUID:
    """An id given in a request body; 422 naming the field when it is not one."""
    try:
        return UUID(value)
    except ValueError:
        raise InvalidInput(f"{field} must be an id (a UUID), got {value!r}") from None


def code_of(value: str) -> str:
    """The voucher code as printed (normalised); 422 explaining a mistyped code."""
    try:
        return normalize_code(value)
    except InvalidVoucherCode as error:
        raise InvalidCode(str(error)) from None


def forbidden(message: str) -> HTTPException:
    """A 403 in the kit's auth shape, for a caller reading or acting for another party."""
    return HTTPException(
        status_code=status.HTTP_403_FORBIDDEN,
        detail={"code": "forbidden_subject", "message": message},
    )


def party_id(principal: Principal) -> str:
    """The id of the party a merchant or beneficiary token acts for (``m-001`` for
    ``merchant:m-001``): what the service records as applicant, holder, delegate, merchant."""
    if principal.subject_id is None:
        raise forbidden(f"a {principal.role} token acts for no party")
    return principal.subject_id
