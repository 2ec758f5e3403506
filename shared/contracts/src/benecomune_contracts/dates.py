"""Dates and times as people and programs write them in a request: ISO 8601 text.

Pydantic reads a bare number as a date or time too (seconds since 1970: ``0`` is 1 January
1970), which no user means: a request body that gives a number where a date is expected is
refused with a message that says how to write it. The JSON Schema is the usual ``format: date``
/ ``date-time``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator

__all__ = ["IsoDate", "IsoMoment", "not_a_number"]


def not_a_number(value: Any) -> Any:
    if isinstance(value, int | float):  # bool too: True is not a date either
        raise ValueError("write a date as text: YYYY-MM-DD, or a time as YYYY-MM-DDTHH:MM:SS+01:00")
    return value


IsoDate = Annotated[date, BeforeValidator(not_a_number)]
"""A calendar date written ``YYYY-MM-DD`` (a date object in Python)."""

IsoMoment = Annotated[AwareDatetime, BeforeValidator(not_a_number)]
"""A timezone-aware moment written in ISO 8601 with its offset (a datetime in Python)."""
