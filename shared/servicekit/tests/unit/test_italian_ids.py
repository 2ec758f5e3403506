"""Italian identifiers: codice fiscale (personal and numeric) and partita IVA."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from servicekit.italian_ids import (
    FiscalCode,
    InvalidFiscalCode,
    InvalidItalianId,
    InvalidVatNumber,
    VatNumber,
    fiscal_code_birth_date_and_sex,
    fiscal_code_check_character,
    normalize_fiscal_code,
    normalize_vat_number,
    validate_fiscal_code,
    validate_vat_number,
    vat_number_check_digit,
)

# -- An independent reference for the check characters, written from the published tables --------

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Odd-position values for 0-9 then A-Z, as printed in the Revenue Agency's specification.
ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21]
ODD += [
    1,
    0,
    5,
    7,
    9,
    13,
    15,
    17,
    19,
    21,
    2,
    4,
    18,
    20,
    11,
    3,
    6,
    8,
    12,
    14,
    16,
    10,
    22,
    25,
    24,
    23,
]
EVEN = list(range(10)) + list(range(26))


def reference_check_character(body: str) -> str:
    total = sum(
        (ODD if position % 2 == 1 else EVEN)[ALPHABET.index(char)]
        for position, char in enumerate(body, start=1)
    )
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[total % 26]


def reference_vat_check_digit(body: str) -> str:
    odd = sum(int(char) for char in body[0::2])
    even = sum(sum(divmod(int(char) * 2, 10)) for char in body[1::2])
    return str(-(odd + even) % 10)


OMOCODIA = "LMNPQRSTUV"
NUMERIC_POSITIONS = (6, 7, 9, 10, 12, 13, 14)
MONTHS = "ABCDEHLMPRST"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
NUMBER = "[0-9LMNPQRSTUV]"
WELL_FORMED_BODY = re.compile(f"[A-Z]{{6}}{NUMBER}{{2}}[A-Z]{NUMBER}{{2}}[A-Z]{NUMBER}{{3}}")


# -- Published examples ---------------------------------------------------------------------------


def test_the_widely_published_mario_rossi_sample_is_valid() -> None:
    assert fiscal_code_check_character("RSSMRA85T10A562") == "S"
    assert reference_check_character("RSSMRA85T10A562") == "S"
    assert validate_fiscal_code("RSSMRA85T10A562S") == "RSSMRA85T10A562S"


def test_the_wikipedia_sample_of_matteo_moretti_born_in_milan_is_valid() -> None:
    assert validate_fiscal_code("MRTMTT25D09F205Z") == "MRTMTT25D09F205Z"


def test_the_vat_number_of_the_agenzia_delle_entrate_is_valid() -> None:
    assert vat_number_check_digit("0636339100") == "1"
    assert validate_vat_number("06363391001") == "06363391001"


def test_the_numeric_fiscal_codes_of_public_bodies_are_valid_fiscal_codes() -> None:
    assert validate_fiscal_code("06363391001") == "06363391001"  # Agenzia delle Entrate
    assert validate_fiscal_code("80078750587") == "80078750587"  # INPS


# -- Personal fiscal code -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "BNCLRA92M45L219D",  # a woman: day 05 + 40
        "ZZZZZZ00B29Z000N",  # born abroad (Z...) on 29 February
        "VRDGPP13R10B293P",
    ],
)
def test_codes_computed_with_the_algorithm_are_valid(code: str) -> None:
    assert reference_check_character(code[:15]) == code[15]
    assert validate_fiscal_code(code) == code


@pytest.mark.parametrize(
    "code",
    [
        "RSSMRA85T10A56NH",  # the last digit (2) replaced by N
        "RSSMRA85T10A5SNT",  # the last two digits replaced
        "RSSMRAURTMLARSNL",  # every digit replaced
        "BNCLRA92M45L21VS",  # 9 replaced by V
    ],
)
def test_omocodic_codes_with_their_recomputed_check_character_are_valid(code: str) -> None:
    assert reference_check_character(code[:15]) == code[15]
    assert validate_fiscal_code(code) == code


def test_an_omocodic_code_keeping_the_original_check_character_is_refused() -> None:
    with pytest.raises(InvalidFiscalCode, match="expected 'H', got 'S'"):
        validate_fiscal_code("RSSMRA85T10A56NS")


def test_lowercase_input_is_normalised_to_upper_case() -> None:
    assert validate_fiscal_code("rssmra85t10a562s") == "RSSMRA85T10A562S"


def test_spaces_and_other_whitespace_are_stripped() -> None:
    assert validate_fiscal_code("  RSS MRA 85T10 A562S\t\n") == "RSSMRA85T10A562S"
    assert normalize_fiscal_code(" rss mra85t10a562s") == "RSSMRA85T10A562S"


def test_a_wrong_check_character_is_refused_naming_the_expected_one() -> None:
    with pytest.raises(InvalidFiscalCode, match="check character mismatch: expected 'S', got 'T'"):
        validate_fiscal_code("RSSMRA85T10A562T")


def test_a_check_character_that_is_a_digit_is_refused() -> None:
    with pytest.raises(InvalidFiscalCode, match="character 16 must be a letter, got '1'"):
        validate_fiscal_code("RSSMRA85T10A5621")


@pytest.mark.parametrize(
    "value",
    ["", "RSSMRA85T10A562", "RSSMRA85T10A562SS", "RSSMRA", "0636339100", "063633910011"],
)
def test_wrong_lengths_are_refused_saying_how_long_the_input_was(value: str) -> None:
    with pytest.raises(InvalidFiscalCode, match=f"got {len(value)} characters"):
        validate_fiscal_code(value)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("R5SMRA85T10A562S", "character 2 must be a letter, got '5'"),
        ("RSSMRA85T10A562-", "character 16 must be a letter, got '-'"),
        ("RSSMRA8AT10A562S", "character 8 must be a digit or one of the omocodia letters"),
        ("RSSMRA85T10A5#2S", "character 14 must be a digit or one of the omocodia letters"),
        ("RSSMRA85T10A562È", "character 16 must be a letter, got 'È'"),
        ("RSSMRA8579105620", "character 9 must be a letter, got '7'"),
        ("RSSMRA85T1012562", "character 12 must be a letter, got '1'"),
    ],
)
def test_characters_of_the_wrong_kind_are_refused_naming_their_position(
    code: str, message: str
) -> None:
    with pytest.raises(InvalidFiscalCode, match=message):
        validate_fiscal_code(code)


@pytest.mark.parametrize("month", sorted(set(UPPER) - set(MONTHS)))
def test_a_month_letter_outside_abcdehlmprst_is_refused(month: str) -> None:
    body = f"RSSMRA85{month}10A562"
    code = body + reference_check_character(body)
    with pytest.raises(InvalidFiscalCode, match=f"month of birth .* got '{month}'"):
        validate_fiscal_code(code)


@pytest.mark.parametrize("day", ["00", "32", "40", "72", "99", "QL"])
def test_a_day_outside_1_31_and_41_71_is_refused(day: str) -> None:
    body = f"RSSMRA85T{day}A562"
    code = body + reference_check_character(body)
    decoded = day.translate(str.maketrans(OMOCODIA, "0123456789"))
    with pytest.raises(InvalidFiscalCode, match=f"day of birth .* got {decoded}"):
        validate_fiscal_code(code)


@pytest.mark.parametrize("day", ["01", "31", "41", "71", "LM", "QM"])
def test_days_at_the_edges_of_both_ranges_are_accepted(day: str) -> None:
    body = f"RSSMRA85T{day}A562"
    validate_fiscal_code(body + reference_check_character(body))


# -- Numeric fiscal code --------------------------------------------------------------------------


def test_a_numeric_fiscal_code_with_a_wrong_check_digit_is_refused() -> None:
    with pytest.raises(InvalidFiscalCode, match="check digit mismatch: expected '7', got '8'"):
        validate_fiscal_code("80078750588")


def test_a_numeric_fiscal_code_with_letters_is_refused() -> None:
    with pytest.raises(InvalidFiscalCode, match="digits only"):
        validate_fiscal_code("8007875058A")


def test_an_all_zero_numeric_fiscal_code_is_refused() -> None:
    with pytest.raises(InvalidFiscalCode, match="all zeros"):
        validate_fiscal_code("00000000000")


def test_a_numeric_fiscal_code_is_not_held_to_the_vat_office_codes() -> None:
    code = "0636339150" + reference_vat_check_digit("0636339150")  # office 515
    assert validate_fiscal_code(code) == code
    with pytest.raises(InvalidVatNumber, match="office code"):
        validate_vat_number(code)


# -- Date of birth and sex ------------------------------------------------------------------------

TODAY = date(2025, 3, 1)


def test_the_birth_date_and_sex_of_mario_rossi_are_read_from_his_code() -> None:
    assert fiscal_code_birth_date_and_sex("RSSMRA85T10A562S", today=TODAY) == (
        date(1985, 12, 10),
        "M",
    )


def test_a_woman_has_40_added_to_her_day_of_birth() -> None:
    assert fiscal_code_birth_date_and_sex("BNCLRA92M45L219D", today=TODAY) == (
        date(1992, 8, 5),
        "F",
    )


def test_an_omocodic_code_gives_the_same_birth_date_as_the_original() -> None:
    assert fiscal_code_birth_date_and_sex("RSSMRAURTMLARSNL", today=TODAY) == (
        date(1985, 12, 10),
        "M",
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ZZZZZZ20A01Z000V", date(2020, 1, 1)),  # this century: already past
        ("ZZZZZZ30A01Z000X", date(1930, 1, 1)),  # 2030 would be in the future
        ("ZZZZZZ25H02Z000V", date(1925, 6, 2)),  # 2 June 2025 is after TODAY
        ("ZZZZZZ00B29Z000N", date(2000, 2, 29)),  # 2000 was a leap year
    ],
)
def test_the_century_is_the_latest_one_not_in_the_future(code: str, expected: date) -> None:
    assert fiscal_code_birth_date_and_sex(code, today=TODAY) == (expected, "M")


def test_a_day_that_does_not_exist_in_the_month_gives_no_birth_date() -> None:
    assert fiscal_code_birth_date_and_sex("ZZZZZZ00B30Z000U", today=TODAY) == (None, "M")


def test_today_defaults_to_the_current_date() -> None:
    birth, sex = fiscal_code_birth_date_and_sex("rssmra85t10a562s")
    assert (birth, sex) == (date(1985, 12, 10), "M")


def test_a_numeric_fiscal_code_has_no_birth_date() -> None:
    with pytest.raises(InvalidFiscalCode, match="only a 16-character personal fiscal code"):
        fiscal_code_birth_date_and_sex("80078750587")


def test_an_invalid_code_has_no_birth_date() -> None:
    with pytest.raises(InvalidFiscalCode, match="check character mismatch"):
        fiscal_code_birth_date_and_sex("RSSMRA85T10A562T")


# -- VAT number -----------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["06363391001", "01636120634", "01463240745"])
def test_published_vat_numbers_match_the_reference_check_digit(number: str) -> None:
    assert reference_vat_check_digit(number[:10]) == number[10]
    assert validate_vat_number(number) == number


@pytest.mark.parametrize("value", ["IT06363391001", "it06363391001", " IT 063 633 910 01 "])
def test_an_it_prefix_and_spaces_are_stripped_from_a_vat_number(value: str) -> None:
    assert validate_vat_number(value) == "06363391001"
    assert normalize_vat_number(value) == "06363391001"


def test_a_wrong_vat_check_digit_is_refused_naming_the_expected_one() -> None:
    with pytest.raises(InvalidVatNumber, match="check digit mismatch: expected '1', got '2'"):
        validate_vat_number("06363391002")


@pytest.mark.parametrize(
    "value", ["", "0636339100", "063633910011", "IT0636339100", "DE06363391001"]
)
def test_vat_numbers_of_the_wrong_length_are_refused(value: str) -> None:
    with pytest.raises(InvalidVatNumber, match="has 11 digits, got"):
        validate_vat_number(value)


def test_a_vat_number_with_a_letter_is_refused_naming_its_position() -> None:
    with pytest.raises(InvalidVatNumber, match="character 4 is 'O'"):
        validate_vat_number("063O3391001")


def test_an_all_zero_vat_number_is_refused() -> None:
    with pytest.raises(InvalidVatNumber, match="all zeros"):
        validate_vat_number("00000000000")


@pytest.mark.parametrize("office", ["000", "101", "119", "122", "500", "887", "998"])
def test_a_vat_number_with_an_unknown_office_code_is_refused(office: str) -> None:
    body = f"1234567{office}"
    with pytest.raises(InvalidVatNumber, match=f"office code .* got {office}"):
        validate_vat_number(body + reference_vat_check_digit(body))


@pytest.mark.parametrize("office", ["001", "058", "100", "120", "121", "888", "999"])
def test_a_vat_number_with_a_known_office_code_is_accepted(office: str) -> None:
    body = f"1234567{office}"
    number = body + reference_vat_check_digit(body)
    assert validate_vat_number(number) == number


# -- Error hierarchy and pydantic ------------------------------------------------------------------


def test_both_errors_are_italian_id_errors_and_value_errors() -> None:
    assert issubclass(InvalidFiscalCode, InvalidItalianId)
    assert issubclass(InvalidVatNumber, InvalidItalianId)
    assert issubclass(InvalidItalianId, ValueError)


class Beneficiary(BaseModel):
    fiscal_code: FiscalCode
    employer_vat: VatNumber | None = None


def test_pydantic_models_normalise_valid_identifiers() -> None:
    beneficiary = Beneficiary(fiscal_code=" rssmra85t10a562s", employer_vat="IT06363391001")
    assert beneficiary.fiscal_code == "RSSMRA85T10A562S"
    assert beneficiary.employer_vat == "06363391001"


def test_pydantic_models_report_what_is_wrong_with_an_invalid_identifier() -> None:
    with pytest.raises(ValidationError) as caught:
        Beneficiary(fiscal_code="RSSMRA85T10A562T", employer_vat="06363391002")
    errors = {error["loc"][0]: error["msg"] for error in caught.value.errors()}
    assert "expected 'S', got 'T'" in str(errors["fiscal_code"])
    assert "expected '1', got '2'" in str(errors["employer_vat"])


# -- Properties -----------------------------------------------------------------------------------

letters = st.sampled_from(UPPER)
digits = st.integers(min_value=0, max_value=9)


@st.composite
def fiscal_code_bodies(draw: st.DrawFn) -> str:
    """The first 15 characters of a structurally valid personal code, omocodia included."""
    day = draw(st.one_of(st.integers(1, 31), st.integers(41, 71)))
    numbers = [
        *f"{draw(st.integers(0, 99)):02d}",
        *f"{day:02d}",
        *f"{draw(st.integers(0, 999)):03d}",
    ]
    chars = [draw(letters) for _ in range(6)]
    chars += [*numbers[:2], draw(st.sampled_from(MONTHS)), *numbers[2:4], draw(letters)]
    chars += numbers[4:]
    for position in NUMERIC_POSITIONS:
        if draw(st.booleans()):
            chars[position] = OMOCODIA[int(chars[position])]
    return "".join(chars)


@st.composite
def valid_fiscal_codes(draw: st.DrawFn) -> str:
    body = draw(fiscal_code_bodies())
    return body + reference_check_character(body)


@given(valid_fiscal_codes())
def test_every_generated_code_is_valid_and_already_normalised(code: str) -> None:
    assert validate_fiscal_code(code) == code
    assert validate_fiscal_code(f" {code.lower()} ") == code


@given(valid_fiscal_codes(), st.integers(0, 15), st.sampled_from(ALPHABET))
def test_changing_any_one_character_of_a_valid_code_makes_it_invalid(
    code: str, position: int, replacement: str
) -> None:
    if code[position] == replacement:
        return
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(InvalidFiscalCode):
        validate_fiscal_code(changed)
    if position < 15 and WELL_FORMED_BODY.fullmatch(changed[:15]):
        # Whenever the changed body is still well formed, its check character differs. (It may
        # not where only the structure check catches the change: a digit weighs as much as the
        # letter of the same rank, 0 as A, but letter and digit positions are fixed.)
        assert fiscal_code_check_character(changed[:15]) != code[15]


@given(valid_fiscal_codes(), st.sampled_from(NUMERIC_POSITIONS))
def test_replacing_a_digit_by_its_omocodia_letter_keeps_the_code_valid_and_dated(
    code: str, position: int
) -> None:
    if code[position] not in "0123456789":
        return
    body = code[:position] + OMOCODIA[int(code[position])] + code[position + 1 : 15]
    omocodic = body + fiscal_code_check_character(body)
    assert omocodic[15] != code[15]
    assert validate_fiscal_code(omocodic) == omocodic
    assert fiscal_code_birth_date_and_sex(omocodic, today=TODAY) == fiscal_code_birth_date_and_sex(
        code, today=TODAY
    )


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_the_vat_check_digit_matches_the_reference(body: str) -> None:
    assert vat_number_check_digit(body) == reference_vat_check_digit(body)


@given(
    st.text(alphabet="0123456789", min_size=7, max_size=7),
    st.integers(1, 100),
    st.integers(0, 10),
    st.sampled_from("0123456789"),
)
def test_changing_any_one_digit_of_a_valid_vat_number_makes_it_invalid(
    matricola: str, office: int, position: int, replacement: str
) -> None:
    body = f"{matricola}{office:03d}"
    number = body + reference_vat_check_digit(body)
    assert validate_vat_number(number) == number
    if number[position] == replacement:
        return
    with pytest.raises(InvalidVatNumber):
        validate_vat_number(number[:position] + replacement + number[position + 1 :])
