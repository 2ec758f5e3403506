"""Italian and English catalogues: complete (no untranslated string), in step with the code
(extraction finds no message missing from them), and the language chosen as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from portal import i18n
from servicekit.settings import ServiceSettings
from servicekit.territory import load_territory

PORTAL_ROOT = Path(i18n.__file__).parents[2]
METHOD_MAP = [("src/portal/**.py", "python"), ("src/portal/templates/**.html", "jinja2")]
OPTIONS_MAP = {
    "src/portal/templates/**.html": {
        "extensions": "jinja2.ext.i18n",
        "trim_blocks": "true",
        "lstrip_blocks": "true",
    }
}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
BIELLA = load_territory("biella", ServiceSettings().territories_dir)


def catalogue(language: str) -> dict[object, object]:
    """Every area's messages of ``language``, merged as the portal merges them."""
    merged: dict[object, object] = {}
    for path in i18n.catalogue_paths(language):
        with path.open("rb") as file:
            merged.update({m.id: m.string for m in read_po(file, locale=language) if m.id})
    return merged


def extracted() -> set[object]:
    found: set[object] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PORTAL_ROOT), METHOD_MAP, OPTIONS_MAP, keywords=KEYWORDS
    ):
        found.add(message)
    return found


@pytest.mark.parametrize("language", i18n.SUPPORTED)
def test_every_message_has_a_translation(language: str) -> None:
    untranslated = [
        msgid
        for msgid, msgstr in catalogue(language).items()
        if not msgstr or (isinstance(msgstr, tuple) and not all(msgstr))
    ]
    assert untranslated == [], f"untranslated in {language}: {untranslated}"


@pytest.mark.parametrize("language", i18n.SUPPORTED)
def test_extraction_finds_no_message_missing_from_the_catalogue(language: str) -> None:
    messages = extracted()
    assert len(messages) > 40
    missing = sorted(str(m) for m in messages - set(catalogue(language)))
    assert missing == [], (
        f"not in {language}'s catalogue (run pybabel extract/update in services/portal): {missing}"
    )


def test_italian_really_is_italian() -> None:
    assert i18n.translations("it").gettext("Log in") == "Accedi"
    assert i18n.translations("en").gettext("Log in") == "Log in"
    assert (
        i18n.translations("it").ngettext("%(count)s service found", "%(count)s services found", 2)
        == "%(count)s servizi trovati"
    )


@pytest.mark.parametrize(
    ("cookie", "accept", "chosen"),
    [
        ("en", "it-IT,it;q=0.9", "en"),  # the user's choice first
        (None, "en-GB,en;q=0.9,it;q=0.5", "en"),  # then the browser
        (None, "de-DE,de;q=0.9,en;q=0.3", "en"),  # the first language the territory offers
        (None, "it;q=0.2,en;q=0.8", "en"),  # by quality, not by position
        (None, "de,fr", "it"),  # then the territory's default
        (None, None, "it"),
        ("fr", None, "it"),  # a cookie the territory does not offer is ignored
        (None, "en;q=0", "it"),  # q=0 means "not this one"
    ],
)
def test_the_language_is_the_users_then_the_browsers_then_the_territorys(
    cookie: str | None, accept: str | None, chosen: str
) -> None:
    assert i18n.choose_language(BIELLA, cookie, accept) == chosen
