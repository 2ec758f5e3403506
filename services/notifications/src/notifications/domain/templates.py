"""Texts of the notices, in Italian and English. Amounts arrive in cents and are shown in euros
with the Italian or English conventions."""

from __future__ import annotations

TEMPLATES: dict[str, dict[str, str]] = {
    "fund_allocated": {
        "it": "Nuovo fondo di {amount} assegnato al comune {municipality} ({source}).",
        "en": "New fund of {amount} allocated to municipality {municipality} ({source}).",
    },
    "fund_topped_up": {
        "it": "Il fondo {fund} è stato integrato di {amount} ({source}).",
        "en": "Fund {fund} was topped up by {amount} ({source}).",
    },
}


def format_euros(cents: int, language: str) -> str:
    euros, rest = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    if language == "it":
        grouped = f"{euros:,}".replace(",", ".")
        return f"{sign}{grouped},{rest:02d} €"
    return f"{sign}€{euros:,}.{rest:02d}"


def render(template: str, params: dict[str, str], language: str) -> str:
    texts = TEMPLATES[template]
    text = texts.get(language) or texts["it"]
    values = dict(params)
    if "amount_cents" in values:
        values["amount"] = format_euros(int(values["amount_cents"]), language)
    return text.format(**values)
