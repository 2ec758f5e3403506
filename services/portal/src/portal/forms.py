"""What people type into forms, read the way they write it: euro amounts in Italian or English
form (``12,50``, ``1.200,00``, ``1200``, ``12.50``). Each reader answers a value or raises
``FieldError`` with a message for the person (marked for translation)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from portal.labels import N_

MAX_CENTS = 100_000_000  # one million euro: beyond any amount typed on these pages


class FieldError(ValueError):
    """A field's value the portal cannot use; ``message`` is translatable text for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_GROUPED_COMMA = re.compile(r"^\d{1,3}(\.\d{3})+(,\d{1,2})?$")  # 1.200 / 1.200,50
_GROUPED_DOT = re.compile(r"^\d{1,3}(,\d{3})+(\.\d{1,2})?$")  # 1,200 / 1,200.50
_PLAIN = re.compile(r"^\d+([.,]\d{1,2})?$")  # 1200 / 12,5 / 12.50


def euro_cents(text: str | None, *, required: bool = True) -> int | None:
    """Cents of a euro amount typed by a person, or None when empty and not ``required``.

    A lone separator followed by exactly three digits (``1.200``) is read as thousands only
    when it cannot be decimals (decimals have at most two digits)."""
    value = (text or "").strip().replace("€", "").replace("\u00a0", "").replace(" ", "")
    if not value:
        if required:
            raise FieldError(N_("Enter an amount in euro, for example 12,50."))
        return None
    if _GROUPED_COMMA.match(value):
        normal = value.replace(".", "").replace(",", ".")
    elif _GROUPED_DOT.match(value):
        normal = value.replace(",", "")
    elif _PLAIN.match(value):
        normal = value.replace(",", ".")
    else:
        raise FieldError(N_("This is not an amount in euro: write it like 12,50."))
    try:
        cents = int((Decimal(normal) * 100).to_integral_exact())
    except InvalidOperation:
        raise FieldError(N_("This is not an amount in euro: write it like 12,50.")) from None
    if cents <= 0:
        raise FieldError(N_("The amount must be more than zero."))
    if cents > MAX_CENTS:
        raise FieldError(N_("The amount is too large."))
    return cents
