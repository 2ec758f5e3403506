"""Languages: Italian and English from Babel catalogues, one ``.po`` file per area of the portal
(``locale/<lang>/LC_MESSAGES/<area>.po``: ``messages.po`` for the common pages, ``wallet.po``,
``booking.po``, ...), merged into one catalogue per language and compiled in memory on first use
(a few milliseconds; no ``.mo`` to keep in step).

Which language a page speaks: the user's choice (the ``bc_lang`` cookie, set by the language
switch), then the browser's ``Accept-Language``, then the territory's default — always one the
territory offers and the portal has a catalogue for.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from servicekit.territory import Territory

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
SUPPORTED = ("it", "en")
LANGUAGE_COOKIE = "bc_lang"
LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}


def catalogue_path(language: str, area: str = DOMAIN) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{area}.po"


def catalogue_paths(language: str) -> list[Path]:
    """Every area's catalogue of ``language``, the common one first."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    return sorted(folder.glob("*.po"), key=lambda path: (path.stem != DOMAIN, path.stem))


@cache
def translations(language: str) -> Translations:
    """The catalogue of ``language`` (a supported one): every area's ``.po`` merged."""
    if language not in SUPPORTED:
        raise ValueError(f"no catalogue for language {language!r}")
    merged: Translations | None = None
    for path in catalogue_paths(language):
        with path.open("rb") as file:
            catalog = read_po(file, locale=language, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        compiled = Translations(buffer, domain=DOMAIN)
        merged = compiled if merged is None else merged.merge(compiled)
    if merged is None:
        raise ValueError(f"no catalogue file for language {language!r} in {LOCALE_DIR}")
    return merged


def offered(territory: Territory) -> list[str]:
    """The languages this territory offers that the portal speaks, its default first."""
    languages = [lang for lang in territory.languages if lang in SUPPORTED]
    return languages or [SUPPORTED[0]]


def parse_accept_language(header: str | None) -> list[str]:
    """The primary language tags of an ``Accept-Language`` header, most wanted first."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and primary != "*" and quality > 0:
            weighted.append((-quality, position, primary))
    return [primary for _, _, primary in sorted(weighted)]


def choose_language(territory: Territory, cookie: str | None, accept_language: str | None) -> str:
    available = offered(territory)
    if cookie in available:
        return str(cookie)
    for wanted in parse_accept_language(accept_language):
        if wanted in available:
            return wanted
    return available[0]
