"""Bulk loading of a plan's employees and their credit from a CSV file (HR's spreadsheet).

Columns (header row required, order free): ``employee_id`` (the pseudonymous id the employee
logs in with), ``fiscal_code`` (checked, never stored in the ledger), ``dependent_children``
(yes/no, sì/no, true/false, 1/0; optional), ``amount_eur`` (e.g. ``500`` or ``500,00``;
optional: the plan's credit per employee) and ``category`` (optional: ``general``).
Every row is judged on its own: a bad row rejects nothing else and the report explains it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from servicekit.italian_ids import validate_fiscal_code

from wallet.domain.ledger import GENERAL, SPENDING_CATEGORIES

MAX_ROWS = 20_000
_EMPLOYEE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_YES = {"yes", "y", "si", "sì", "true", "1", "x"}
_NO = {"no", "n", "false", "0", ""}


class CsvError(ValueError):
    """The file itself cannot be read (no header, missing columns, too many rows)."""


@dataclass(frozen=True)
class Row:
    line: int
    employee_id: str
    dependent_children: bool
    amount_cents: int | None
    category: str


@dataclass(frozen=True)
class RowError:
    line: int
    employee_id: str | None
    reason: str


def parse_amount(text: str) -> int:
    """Euros as typed in Italy or elsewhere (``1.234,56``, ``1234.56``, ``500``) to cents."""
    value = text.strip().replace("€", "").replace(" ", "")
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    try:
        euros = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"amount {text!r} is not a number of euros") from None
    cents = euros * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"amount {text!r} has fractions of a cent")
    if cents <= 0:
        raise ValueError(f"amount {text!r} must be positive")
    return int(cents)


def parse(text: str) -> tuple[list[Row], list[RowError]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=_delimiter(text))
    if not reader.fieldnames:
        raise CsvError("the file is empty: a header row is needed")
    columns = {name.strip().lower() for name in reader.fieldnames if name}
    missing = {"employee_id", "fiscal_code"} - columns
    if missing:
        raise CsvError(f"missing column(s): {', '.join(sorted(missing))}")
    rows: list[Row] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(reader):
        if index >= MAX_ROWS:
            raise CsvError(f"at most {MAX_ROWS} rows per file")
        line = reader.line_num
        record = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        employee_id = record.get("employee_id") or None
        try:
            row = _row(line, record)
            if row.employee_id in seen:
                raise ValueError(
                    f"employee {row.employee_id} already appears on line {seen[row.employee_id]}"
                )
            seen[row.employee_id] = line
            rows.append(row)
        except ValueError as error:
            errors.append(RowError(line, employee_id, str(error)))
    return rows, errors


def _row(line: int, record: dict[str, str]) -> Row:
    employee_id = record.get("employee_id", "")
    if not _EMPLOYEE_ID.match(employee_id):
        raise ValueError(f"employee_id {employee_id!r} is not a valid id (letters, digits, _ . -)")
    validate_fiscal_code(record.get("fiscal_code", ""))
    children = record.get("dependent_children", "").lower()
    if children not in _YES | _NO:
        raise ValueError(f"dependent_children {children!r} must be yes or no")
    amount = record.get("amount_eur", "")
    category = record.get("category", "") or GENERAL
    if category != GENERAL and category not in SPENDING_CATEGORIES:
        raise ValueError(f"category {category!r} is not one of {', '.join(SPENDING_CATEGORIES)}")
    return Row(
        line=line,
        employee_id=employee_id,
        dependent_children=children in _YES,
        amount_cents=parse_amount(amount) if amount else None,
        category=category,
    )


def _delimiter(text: str) -> str:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","
