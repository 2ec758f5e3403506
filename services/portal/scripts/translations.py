"""Keep the portal's catalogues in step with its code (run from services/portal):

    python scripts/translations.py missing            # messages in the code, in no catalogue
    python scripts/translations.py add AREA FILE.json # add {"msgid": {"it": "...", "en": "..."}}
                                                      # to locale/<lang>/LC_MESSAGES/AREA.po

A plural message is added with a list of two msgids as key ("one|||many") and lists of two
strings as values.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "src" / "portal" / "locale"
METHOD_MAP = [("src/portal/**.py", "python"), ("src/portal/templates/**.html", "jinja2")]
OPTIONS_MAP = {
    "src/portal/templates/**.html": {
        "extensions": "jinja2.ext.i18n",
        "trim_blocks": "true",
        "lstrip_blocks": "true",
    }
}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
LANGUAGES = ("it", "en")


def known(language: str) -> set[object]:
    found: set[object] = set()
    for path in (LOCALE / language / "LC_MESSAGES").glob("*.po"):
        with path.open("rb") as file:
            found |= {m.id for m in read_po(file, locale=language) if m.id}
    return found


def missing() -> list[object]:
    extracted = {
        message
        for _f, _l, message, _c, _x in extract_from_dir(
            str(ROOT), METHOD_MAP, OPTIONS_MAP, keywords=KEYWORDS
        )
    }
    absent = (m for m in extracted if any(m not in known(lang) for lang in LANGUAGES))
    return sorted(absent, key=str)


def add(area: str, pairs: dict[str, dict[str, object]]) -> None:
    for language in LANGUAGES:
        path = LOCALE / language / "LC_MESSAGES" / f"{area}.po"
        if path.exists():
            with path.open("rb") as file:
                catalog = read_po(file, locale=language)
        else:
            catalog = Catalog(locale=language, project="benecomune-portal", domain="messages")
        for msgid, strings in pairs.items():
            key: object = tuple(msgid.split("|||")) if "|||" in msgid else msgid
            catalog.add(key, strings[language])  # type: ignore[arg-type]
        with path.open("wb") as file:
            write_po(file, catalog, width=100, omit_header=False, sort_output=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["missing"]:
        for message in missing():
            print(json.dumps(message, ensure_ascii=False))
    elif sys.argv[1:2] == ["add"] and len(sys.argv) == 4:
        add(sys.argv[2], json.loads(Path(sys.argv[3]).read_text()))
    else:
        print(__doc__)
        sys.exit(2)
