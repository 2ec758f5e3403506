"""How a provider is reached: the organisation's own contacts (e-mail, phone, website, the
address of its seat) and the person to talk to.

The organisation's contacts are business data, shown to anyone looking at an accredited
provider. The contact person is personal data (a name, a mobile number): it is sealed with a key
of its own in the service's personal-data vault before it reaches an event, shown only to the
territory's operator and the provider itself, and never leaves the service.

Every check returns the normalised value or raises :class:`InvalidContact` with a sentence a
provider can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benecomune_contracts.text import check_plain_text

from catalog.domain.errors import InvalidContact

MAX_EMAIL = 254
MAX_WEBSITE = 200
MAX_STREET = 200
MAX_NAME = 120
MAX_ROLE = 80

_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_HOST_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_PHONE_SEPARATORS = re.compile(r"[\s./()-]")
_CAP = re.compile(r"^\d{5}$")
# The lowest and highest Italian postcodes (CAP): 00010 (Rome's province) to 98168 (Messina).
CAP_RANGE = (10, 98168)
_LETTER = re.compile(r"[^\W\d_]")


def plain(value: str, label: str) -> str:
    """``value`` if it holds no control or bidirectional character (see
    :mod:`benecomune_contracts.text`), else :class:`InvalidContact` naming it."""
    try:
        return check_plain_text(value)
    except ValueError as error:
        raise InvalidContact(f"{label}: {error}") from None


def check_email(value: str) -> str:
    """An e-mail address; the domain is lower-cased."""
    email = value.strip()
    if len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email):
        raise InvalidContact(f"{value!r} is not an e-mail address (e.g. info@cooperativa.it)")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def check_phone(value: str) -> str:
    """An Italian phone number in international form, ``+39`` and the digits.

    Accepted: landlines (they start with 0, 6 to 11 digits, the 0 kept: ``015 252 3456``),
    mobiles (3 and 9 or 10 digits: ``333 123 4567``) and toll-free or shared-cost numbers (80x,
    84x); spaces, dots, dashes, slashes and brackets are ignored, and a ``+39`` or ``0039``
    prefix is optional. Premium-rate (89x) and foreign numbers are refused.
    """
    raw = value.strip()
    digits = _PHONE_SEPARATORS.sub("", raw)
    if digits.startswith("+39"):
        digits = digits[3:]
    elif digits.startswith("0039"):
        digits = digits[4:]
    elif digits.startswith(("+", "00")):
        raise InvalidContact(f"{value!r}: only Italian phone numbers (+39) are accepted")
    if not digits.isdigit() or not digits.isascii():
        raise InvalidContact(
            f"{value!r} is not a phone number: digits only, optionally spaced "
            "(e.g. 015 252 3456 or +39 333 123 4567)"
        )
    if digits.startswith("0"):
        if not 6 <= len(digits) <= 11:
            raise InvalidContact(
                f"{value!r}: an Italian landline number has 6 to 11 digits with its area code "
                "(e.g. 015 252 3456)"
            )
    elif digits.startswith("3"):
        if not 9 <= len(digits) <= 10:
            raise InvalidContact(
                f"{value!r}: an Italian mobile number has 9 or 10 digits (e.g. 333 123 4567)"
            )
    elif digits.startswith("89"):
        raise InvalidContact(f"{value!r}: premium-rate numbers (89x) are not accepted")
    elif digits.startswith(("80", "84")):
        if not 6 <= len(digits) <= 10:
            raise InvalidContact(
                f"{value!r}: a toll-free or shared-cost number has 6 to 10 digits "
                "(e.g. 800 123 456)"
            )
    else:
        raise InvalidContact(
            f"{value!r} is not an Italian phone number: a landline starts with 0 (with its area "
            "code), a mobile with 3, a toll-free number with 80"
        )
    return f"+39{digits}"


def check_postcode(value: str) -> str:
    """An Italian postcode (CAP): five digits, from 00010 to 98168."""
    cap = value.strip()
    if not _CAP.fullmatch(cap):
        raise InvalidContact(f"the postcode (CAP) must be 5 digits, e.g. 13900; got {value!r}")
    if not CAP_RANGE[0] <= int(cap) <= CAP_RANGE[1]:
        raise InvalidContact(
            f"{cap} is not an Italian postcode (CAP): they run from 00010 to 98168"
        )
    return cap


def check_website(value: str) -> str:
    """A website address: http or https (https is assumed when no scheme is given), a host
    name with a domain, no user name or password; the host is lower-cased."""
    text = plain(value.strip(), "the website")
    if not text or len(text) > MAX_WEBSITE or any(c.isspace() for c in text):
        raise InvalidContact(
            f"{value!r} is not a website address (e.g. https://www.cooperativa.it)"
        )
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidContact(f"{value!r} is not a website address") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidContact(f"{value!r}: a website address starts with https:// or http://")
    if parts.username is not None or parts.password is not None:
        raise InvalidContact(f"{value!r}: a website address must not carry a user name")
    host = (parts.hostname or "").rstrip(".")
    labels = host.split(".")
    if (
        len(labels) < 2
        or not all(_HOST_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidContact(f"{value!r}: the website needs a domain name, e.g. cooperativa.it")
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class Address:
    """The address of a provider's seat (sede): street and number, municipality (ISTAT code,
    checked against the territory by the application) and postcode."""

    street: str
    municipality_istat: str
    postcode: str

    def as_dict(self) -> dict[str, str]:
        return {
            "street": self.street,
            "municipality_istat": self.municipality_istat,
            "postcode": self.postcode,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Address:
        return cls(str(data["street"]), str(data["municipality_istat"]), str(data["postcode"]))


def check_address(street: str, municipality_istat: str, postcode: str) -> Address:
    line = plain(" ".join(street.split()), "the street")
    if not line:
        raise InvalidContact("the address needs a street and number, e.g. Via Italia 12")
    if len(line) > MAX_STREET:
        raise InvalidContact(f"the street is longer than {MAX_STREET} characters")
    if not re.fullmatch(r"\d{6}", municipality_istat):
        raise InvalidContact(
            f"the municipality of the address is its 6-digit ISTAT code, got {municipality_istat!r}"
        )
    return Address(line, municipality_istat, check_postcode(postcode))


@dataclass(frozen=True)
class ContactPerson:
    """The person a provider names as its contact: personal data, sealed before it is stored."""

    name: str
    role: str | None = None
    phone: str | None = None
    email: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "role": self.role, "phone": self.phone, "email": self.email}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContactPerson:
        return cls(
            name=str(data["name"]),
            role=data.get("role"),
            phone=data.get("phone"),
            email=data.get("email"),
        )


def check_contact_person(
    name: str, role: str | None = None, phone: str | None = None, email: str | None = None
) -> ContactPerson:
    full_name = plain(" ".join(name.split()), "the contact person's name")
    if not full_name or not _LETTER.search(full_name):
        raise InvalidContact("the contact person needs a name, e.g. Maria Rossi")
    if len(full_name) > MAX_NAME:
        raise InvalidContact(f"the contact person's name is longer than {MAX_NAME} characters")
    title = plain(" ".join(role.split()), "the contact person's role") if role else None
    if title and len(title) > MAX_ROLE:
        raise InvalidContact(f"the contact person's role is longer than {MAX_ROLE} characters")
    if not phone and not email:
        raise InvalidContact("the contact person needs a phone number or an e-mail address")
    return ContactPerson(
        name=full_name,
        role=title or None,
        phone=check_phone(phone) if phone else None,
        email=check_email(email) if email else None,
    )
