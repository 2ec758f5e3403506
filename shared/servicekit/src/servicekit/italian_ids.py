"""Validation of Italian identifiers: the codice fiscale and the partita IVA.

Two kinds of fiscal code are accepted by :func:`validate_fiscal_code`:

* the 16-character code of a natural person (``RSSMRA85T10A562S``): surname and name letters, the
  year, month letter and day of birth (day + 40 for women), the Belfiore code of the place of birth
  and a check letter computed with the official odd/even position tables. Codes issued for
  *omocodia* (two people who would otherwise share a code) have one or more digits replaced by the
  letters ``L M N P Q R S T U V`` (standing for 0-9); they are valid and keep their letters. The
  Revenue Agency replaces digits from the right, but any mix of replaced positions is accepted;
* the 11-digit numeric code of a legal entity, checked with the same check digit as the partita
  IVA. Its digits 8-10 are not required to be an office code: that rule is only applied to VAT
  numbers.

:func:`validate_vat_number` checks a partita IVA (an ``IT`` prefix is accepted and removed).

Every validator returns the normalised identifier or raises a subclass of
:class:`InvalidItalianId`, itself a :class:`ValueError`, so the validators can be used directly in
pydantic models through :data:`FiscalCode` and :data:`VatNumber`::

    class Beneficiary(BaseModel):
        fiscal_code: FiscalCode          # "rssmra85t10a562s " -> "RSSMRA85T10A562S"
        employer_vat: VatNumber | None   # "IT06363391001" -> "06363391001"
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator

__all__ = [
    "FiscalCode",
    "InvalidFiscalCode",
    "InvalidItalianId",
    "InvalidVatNumber",
    "VatNumber",
    "fiscal_code_birth_date_and_sex",
    "fiscal_code_check_character",
    "normalize_fiscal_code",
    "normalize_vat_number",
    "validate_fiscal_code",
    "validate_vat_number",
    "vat_number_check_digit",
]


class InvalidItalianId(ValueError):
    """An Italian identifier (fiscal code, VAT number) that is not well formed."""


class InvalidFiscalCode(InvalidItalianId):
    """A codice fiscale that is not well formed or whose check character is wrong."""


class InvalidVatNumber(InvalidItalianId):
    """A partita IVA that is not well formed or whose check digit is wrong."""


_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")

# Omocodia: the letter that replaces each digit, and back.
_OMOCODIA_LETTERS = "LMNPQRSTUV"
_OMOCODIA_DIGIT = {letter: str(digit) for digit, letter in enumerate(_OMOCODIA_LETTERS)}

# Position (0-based) of every character class in a personal code.
_LETTER_POSITIONS = (0, 1, 2, 3, 4, 5, 8, 11)
_NUMERIC_POSITIONS = (6, 7, 9, 10, 12, 13, 14)
_MONTH_POSITION = 8
_CHECK_POSITION = 15

_MONTH_LETTERS = "ABCDEHLMPRST"  # January .. December

# Value of each character in the odd positions (1st, 3rd, ..., 15th: even 0-based indexes).
# A digit counts as the letter of the same rank (0 as A, 1 as B, ...).
_ODD_VALUES_BY_LETTER = {
    "A": 1,
    "B": 0,
    "C": 5,
    "D": 7,
    "E": 9,
    "F": 13,
    "G": 15,
    "H": 17,
    "I": 19,
    "J": 21,
    "K": 2,
    "L": 4,
    "M": 18,
    "N": 20,
    "O": 11,
    "P": 3,
    "Q": 6,
    "R": 8,
    "S": 12,
    "T": 14,
    "U": 16,
    "V": 10,
    "W": 22,
    "X": 25,
    "Y": 24,
    "Z": 23,
}
_ODD_VALUES = {
    **_ODD_VALUES_BY_LETTER,
    **{str(digit): _ODD_VALUES_BY_LETTER[chr(ord("A") + digit)] for digit in range(10)},
}
# Value in the even positions (2nd, 4th, ..., 14th): a digit is itself, a letter its rank (A=0).
_EVEN_VALUES = {
    **{chr(ord("A") + rank): rank for rank in range(26)},
    **{str(digit): digit for digit in range(10)},
}

_PERSONAL_LENGTH = 16
_NUMERIC_LENGTH = 11

_VAT_PREFIX = "IT"
_VAT_SPECIAL_OFFICES = frozenset({120, 121, 888, 999})


# -- Fiscal code ----------------------------------------------------------------------------------


def normalize_fiscal_code(value: str) -> str:
    """Remove every whitespace character and upper-case the rest: ``" rss mra85t10a562s"``
    becomes ``"RSSMRA85T10A562S"``. Nothing is validated."""
    return "".join(value.split()).upper()


def fiscal_code_check_character(body: str) -> str:
    """The check character of a personal fiscal code given its first 15 characters (letters
    and digits, omocodic letters included, upper case)."""
    if len(body) != _PERSONAL_LENGTH - 1:
        raise InvalidFiscalCode(
            f"the check character is computed on the first 15 characters of a fiscal code, "
            f"got {len(body)}"
        )
    total = 0
    for index, char in enumerate(body):
        # The official tables number positions from 1: index 0 is the first, "odd", position.
        table = _ODD_VALUES if index % 2 == 0 else _EVEN_VALUES
        try:
            total += table[char]
        except KeyError:
            raise InvalidFiscalCode(
                f"fiscal code character {index + 1} must be a letter or a digit, got {char!r}"
            ) from None
    return chr(ord("A") + total % 26)


def _decode_omocodia(code: str) -> str:
    """The code with every omocodic letter in a numeric position turned back into its digit."""
    chars = list(code)
    for index in _NUMERIC_POSITIONS:
        chars[index] = _OMOCODIA_DIGIT.get(chars[index], chars[index])
    return "".join(chars)


def _validate_personal_fiscal_code(code: str) -> None:
    for index in (*_LETTER_POSITIONS, _CHECK_POSITION):
        if code[index] not in _LETTERS:
            raise InvalidFiscalCode(
                f"fiscal code character {index + 1} must be a letter, got {code[index]!r}"
            )
    for index in _NUMERIC_POSITIONS:
        char = code[index]
        if char not in _DIGITS and char not in _OMOCODIA_DIGIT:
            raise InvalidFiscalCode(
                f"fiscal code character {index + 1} must be a digit or one of the omocodia "
                f"letters {' '.join(_OMOCODIA_LETTERS)}, got {char!r}"
            )
    month = code[_MONTH_POSITION]
    if month not in _MONTH_LETTERS:
        raise InvalidFiscalCode(
            f"fiscal code character 9 is the month of birth and must be one of "
            f"{' '.join(_MONTH_LETTERS)}, got {month!r}"
        )
    day = int(_decode_omocodia(code)[9:11])
    if not (1 <= day <= 31 or 41 <= day <= 71):
        raise InvalidFiscalCode(
            f"fiscal code characters 10-11 are the day of birth and must be 01-31 (men) "
            f"or 41-71 (women), got {day:02d}"
        )
    expected = fiscal_code_check_character(code[:_CHECK_POSITION])
    if code[_CHECK_POSITION] != expected:
        raise InvalidFiscalCode(
            f"fiscal code check character mismatch: expected {expected!r}, "
            f"got {code[_CHECK_POSITION]!r}"
        )


def _validate_numeric_fiscal_code(code: str) -> None:
    if not all(char in _DIGITS for char in code):
        raise InvalidFiscalCode(
            "an 11-character fiscal code (of a legal entity) must be made of digits only"
        )
    if code == "0" * _NUMERIC_LENGTH:
        raise InvalidFiscalCode("a fiscal code cannot be all zeros")
    expected = vat_number_check_digit(code[:-1])
    if code[-1] != expected:
        raise InvalidFiscalCode(
            f"fiscal code check digit mismatch: expected {expected!r}, got {code[-1]!r}"
        )


def validate_fiscal_code(value: str) -> str:
    """Return the normalised fiscal code (see :func:`normalize_fiscal_code`) if it is a valid
    16-character personal code or 11-digit code of a legal entity; raise
    :class:`InvalidFiscalCode` saying what is wrong otherwise."""
    code = normalize_fiscal_code(value)
    if len(code) == _PERSONAL_LENGTH:
        _validate_personal_fiscal_code(code)
    elif len(code) == _NUMERIC_LENGTH:
        _validate_numeric_fiscal_code(code)
    else:
        raise InvalidFiscalCode(
            f"a fiscal code has 16 characters (a person) or 11 digits (a legal entity), "
            f"got {len(code)} characters"
        )
    return code


def fiscal_code_birth_date_and_sex(
    code: str, *, today: date | None = None
) -> tuple[date | None, Literal["M", "F"]]:
    """The date of birth and sex written in a personal fiscal code.

    The code gives only the last two digits of the year: the date returned is the latest one that
    exists and is not after ``today`` (the current date by default), looking back up to two
    centuries. It is ``None`` when no such date exists (for instance 30 February, which the
    structure check alone does not refuse). Raise :class:`InvalidFiscalCode` if the code is not a
    valid personal fiscal code (11-digit codes of legal entities have no date of birth).
    """
    normalised = validate_fiscal_code(code)
    if len(normalised) != _PERSONAL_LENGTH:
        raise InvalidFiscalCode("only a 16-character personal fiscal code has a date of birth")
    decoded = _decode_omocodia(normalised)
    day = int(decoded[9:11])
    sex: Literal["M", "F"] = "M"
    if day > 40:
        day -= 40
        sex = "F"
    month = _MONTH_LETTERS.index(decoded[_MONTH_POSITION]) + 1
    two_digit_year = int(decoded[6:8])
    reference = today if today is not None else date.today()
    century = reference.year - reference.year % 100
    for candidate_century in (century, century - 100, century - 200):
        try:
            birth = date(candidate_century + two_digit_year, month, day)
        except ValueError:
            continue
        if birth <= reference:
            return birth, sex
    return None, sex


# -- VAT number -----------------------------------------------------------------------------------


def normalize_vat_number(value: str) -> str:
    """Remove every whitespace character, upper-case and drop a leading ``IT`` country prefix:
    ``"it 0636 3391 001"`` becomes ``"06363391001"``. Nothing is validated."""
    number = "".join(value.split()).upper()
    return number.removeprefix(_VAT_PREFIX)


def vat_number_check_digit(body: str) -> str:
    """The check digit of a partita IVA (or numeric fiscal code) given its first 10 digits.

    Digits in odd positions (1st, 3rd, ...) count as they are; digits in even positions are
    doubled, subtracting 9 when the double exceeds 9; the check digit brings the sum to a multiple
    of 10 (the Luhn algorithm)."""
    if len(body) != _NUMERIC_LENGTH - 1 or not all(char in _DIGITS for char in body):
        raise InvalidVatNumber(f"the check digit is computed on 10 digits, got {body!r}")
    total = 0
    for index, char in enumerate(body):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def validate_vat_number(value: str) -> str:
    """Return the normalised partita IVA (11 digits, see :func:`normalize_vat_number`) if it is
    valid; raise :class:`InvalidVatNumber` saying what is wrong otherwise."""
    number = normalize_vat_number(value)
    if len(number) != _NUMERIC_LENGTH:
        raise InvalidVatNumber(
            f"a VAT number (partita IVA) has 11 digits, got {len(number)} characters"
        )
    for index, char in enumerate(number):
        if char not in _DIGITS:
            raise InvalidVatNumber(
                f"a VAT number is made of digits only: character {index + 1} is {char!r}"
            )
    if number == "0" * _NUMERIC_LENGTH:
        raise InvalidVatNumber("a VAT number cannot be all zeros")
    office = int(number[7:10])
    if not (1 <= office <= 100 or office in _VAT_SPECIAL_OFFICES):
        raise InvalidVatNumber(
            f"VAT number digits 8-10 are the office code and must be 001-100, 120, 121, 888 "
            f"or 999, got {number[7:10]}"
        )
    expected = vat_number_check_digit(number[:-1])
    if number[-1] != expected:
        raise InvalidVatNumber(
            f"VAT number check digit mismatch: expected {expected!r}, got {number[-1]!r}"
        )
    return number


# -- Pydantic types -------------------------------------------------------------------------------

FiscalCode = Annotated[str, AfterValidator(validate_fiscal_code)]
"""A ``str`` field holding a valid, normalised fiscal code (personal or of a legal entity)."""

VatNumber = Annotated[str, AfterValidator(validate_vat_number)]
"""A ``str`` field holding a valid partita IVA: 11 digits, without the ``IT`` prefix."""
