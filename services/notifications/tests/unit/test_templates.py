import pytest
from notifications.domain.templates import format_euros, render


@pytest.mark.parametrize(
    ("cents", "language", "text"),
    [
        (123_456_78, "it", "123.456,78 €"),
        (5, "it", "0,05 €"),
        (123_456_78, "en", "€123,456.78"),
        (-250, "en", "-€2.50"),
    ],
)
def test_amounts_are_shown_in_euros_with_each_languages_conventions(
    cents: int, language: str, text: str
) -> None:
    assert format_euros(cents, language) == text


def test_a_notice_renders_in_italian_and_english() -> None:
    params = {"amount_cents": "50000", "municipality": "096004", "source": "OCDPC 658/2020"}
    assert render("fund_allocated", params, "it") == (
        "Nuovo fondo di 500,00 € assegnato al comune 096004 (OCDPC 658/2020)."
    )
    assert render("fund_allocated", params, "en").startswith("New fund of €500.00")
