"""Languages: Italian and English from Babel catalogues (``locale/<lang>/LC_MESSAGES/
messages.po``, compiled to ``.mo`` by ``make install``; a missing or stale ``.mo`` is compiled
in memory from its ``.po``).

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


def catalogue_path(language: str, suffix: str = ".po") -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@cache
def translations(language: str) -> Translations:
    """The compiled catalogue of ``language`` (a supported one)."""
    if language not in SUPPORTED:
        raise ValueError(f"no catalogue for language {language!r}")
    po, mo = catalogue_path(language), catalogue_path(language, ".mo")
    if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as file:
            return Translations(file, domain=DOMAIN)
    with po.open("rb") as file:
        catalog = read_po(file, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


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
