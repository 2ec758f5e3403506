"""Texts the domain records, checked with the same types as the contract events that will carry
them (:mod:`benecomune_contracts.catalog`, :mod:`benecomune_contracts.text`): whatever the
domain accepts, the relay can publish. The HTTP models use the same types, so a request is
normally refused at the edge already; these checks keep the domain safe when called directly."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from benecomune_contracts.text import MULTI_LINE
from pydantic import StringConstraints, TypeAdapter, ValidationError
from servicekit.domain import DomainError


@cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def checked_text(kind: Any, value: str, label: str, error: type[DomainError]) -> str:
    """``value`` validated (and normalised: trimmed) as ``kind``, or ``error`` saying why not."""
    try:
        return str(_adapter(kind).validate_python(value))
    except ValidationError as invalid:
        reason = "; ".join(e["msg"].removeprefix("Value error, ") for e in invalid.errors())
        raise error(f"{label}: {reason}") from None


Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), MULTI_LINE]
"""Why an operator suspends a provider or a provider withdraws an offering (may be empty)."""
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000), MULTI_LINE]
"""An offering's or a package's description: several lines, up to 4000 characters."""
