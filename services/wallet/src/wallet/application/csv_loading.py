"""Bulk loading of a plan's employees and their credit from a CSV file (HR's spreadsheet).

Columns (header row required, order free): ``employee_id`` (the pseudonymous id the employee
logs in with), ``fiscal_code`` (checked, never stored in the ledger), ``dependent_children``
(yes/no, sì/no, true/false, 1/0; optional), ``amount_eur`` (e.g. ``500``, ``1.200,50`` or
``1200.50``, see :func:`parse_amount`; optional: the plan's credit per employee) and
``category`` (optional: ``general``). UTF-8 or Windows-1252 (:func:`decode`).
Every row is judged on its own: a bad row rejects nothing else and the report explains it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from servicekit.italian_ids import validate_fiscal_code

from wallet.domain.accounts import GENERAL, SPENDING_CATEGORIES

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
    fiscal_code: str  # normalised; held in memory only, never stored
    dependent_children: bool
    amount_cents: int | None
    category: str


@dataclass(frozen=True)
class RowError:
    line: int
    employee_id: str | None
    reason: str


_SPACES = str.maketrans("", "", " \u00a0\u202f€")


def parse_amount(text: str) -> int:
    """Euros as typed in Italy or elsewhere to cents, never guessing.

    Accepted: ``500``, ``1200,50``, ``1200.50``, ``1.200,50``, ``1,200.50``, ``1.200.000``,
    ``1 200,50``. With both ``.`` and ``,`` the last one is the decimal separator and the other
    groups thousands; a separator that appears more than once groups thousands; a lone
    separator followed by one or two digits is the decimal separator. A lone separator followed
    by exactly three digits (``1.200``, ``1,200``) could be either and is refused: write
    ``1200`` or ``1.200,00``.
    """
    value = text.strip().translate(_SPACES)
    if not re.fullmatch(r"[0-9][0-9.,]*", value) or value[-1] in ".,":
        if value.startswith("-"):
            raise ValueError(f"amount {text!r} must be positive")
        raise ValueError(f"amount {text!r} is not a number of euros (e.g. 1200 or 1.200,50)")
    separators = [c for c in value if c in ".,"]
    decimal = ""
    if len(set(separators)) == 2:
        decimal = separators[-1]
    elif len(separators) == 1:
        digits_after = len(value) - value.index(separators[0]) - 1
        if digits_after == 3:
            whole_euros = int(value.replace(separators[0], ""))
            grouped = f"{whole_euros:,}".replace(",", ".")
            raise ValueError(
                f"amount {text!r} is ambiguous: is {separators[0]!r} a thousands or a decimal "
                f"separator? Write {whole_euros} or {grouped},00 for {whole_euros} euros, or "
                "two decimals (e.g. 1,20) for euros and cents"
            )
        decimal = separators[0]
    whole, _, cents_text = value.rpartition(decimal) if decimal else (value, "", "")
    grouping = "".join(set(separators) - {decimal})
    if grouping and not re.fullmatch(rf"[0-9]{{1,3}}(\{grouping}[0-9]{{3}})+", whole):
        raise ValueError(f"amount {text!r} has misplaced thousands separators")
    if decimal and (len(cents_text) > 2 or decimal in whole):
        raise ValueError(f"amount {text!r} has fractions of a cent or misplaced separators")
    cents = int(whole.replace(grouping, "") if grouping else whole) * 100
    cents += int(cents_text.ljust(2, "0")) if cents_text else 0
    if cents <= 0:
        raise ValueError(f"amount {text!r} must be positive")
    return cents


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and its encoding: UTF-8 (with or without a byte-order mark), else
    Windows-1252 (what Excel usually saves as "CSV" in Italy); anything else is refused."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise CsvError(
            "the file is neither UTF-8 nor Windows-1252 text: save it as "
            '"CSV UTF-8 (delimitato da virgole)"'
        ) from None


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
    codes: dict[str, tuple[int, str]] = {}  # fiscal code -> (line, employee id)
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
            first = codes.get(row.fiscal_code)
            if first is not None:
                raise ValueError(
                    f"this fiscal code is already given to employee {first[1]} on line "
                    f"{first[0]}: one person is enrolled once"
                )
            seen[row.employee_id] = line
            codes[row.fiscal_code] = (line, row.employee_id)
            rows.append(row)
        except ValueError as error:
            errors.append(RowError(line, employee_id, str(error)))
    return rows, errors


def _row(line: int, record: dict[str, str]) -> Row:
    employee_id = record.get("employee_id", "")
    if not _EMPLOYEE_ID.match(employee_id):
        raise ValueError(f"employee_id {employee_id!r} is not a valid id (letters, digits, _ . -)")
    fiscal_code = validate_fiscal_code(record.get("fiscal_code", ""))
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
        fiscal_code=fiscal_code,
        dependent_children=children in _YES,
        amount_cents=parse_amount(amount) if amount else None,
        category=category,
    )


def _delimiter(text: str) -> str:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","
