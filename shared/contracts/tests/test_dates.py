"""Dates in requests are ISO text: a bare number (seconds since 1970) is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from benecomune_contracts.dates import IsoDate, IsoMoment
from pydantic import BaseModel, ValidationError


class Period(BaseModel):
    day: IsoDate
    at: IsoMoment


def test_iso_text_and_python_values_are_read() -> None:
    read = Period.model_validate_json('{"day": "2027-03-01", "at": "2027-03-01T09:00:00+01:00"}')
    assert read.day == date(2027, 3, 1)
    assert read.at == datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    assert Period(day=date(2027, 3, 1), at=datetime(2027, 3, 1, tzinfo=UTC)).day.year == 2027


@pytest.mark.parametrize("number", [0, 1_893_456_000, 1.5, True])
def test_a_number_is_not_a_date(number: object) -> None:
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        Period.model_validate({"day": number, "at": "2027-03-01T09:00:00+01:00"})
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        Period.model_validate({"day": "2027-03-01", "at": number})
