"""Texts of the notices, in Italian and English. Amounts arrive in cents and are shown in euros,
dates as ISO dates and shown as each language writes them."""

from __future__ import annotations

from datetime import date

TEMPLATES: dict[str, dict[str, str]] = {
    "fund_allocated": {
        "it": "Nuovo fondo di {amount} assegnato al comune {municipality} ({source}).",
        "en": "New fund of {amount} allocated to municipality {municipality} ({source}).",
    },
    "fund_topped_up": {
        "it": "Il fondo {fund} è stato integrato di {amount} ({source}).",
        "en": "Fund {fund} was topped up by {amount} ({source}).",
    },
    "credit_expiring": {
        "it": "Il tuo credito welfare di {amount} scade il {expires_on} (entro "
        "{threshold_days} giorni): usalo entro quella data, altrimenti torna al datore di lavoro.",
        "en": "Your welfare credit of {amount} expires on {expires_on} (within "
        "{threshold_days} days): use it by then, or it goes back to your employer.",
    },
}

ENGLISH_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def format_date(iso: str, language: str) -> str:
    day = date.fromisoformat(iso)
    if language == "it":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    return f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"


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
    if "expires_on" in values:
        values["expires_on"] = format_date(values["expires_on"], language)
    return text.format(**values)
