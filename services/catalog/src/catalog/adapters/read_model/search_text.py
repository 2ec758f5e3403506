"""What the search index holds and what a query looks for: words, folded and stemmed.

Both read-model databases index the same tokens, made here in Python: every word of a text
(lower-cased, accents folded: "attività" → "attivita") followed by its Italian and its English
Snowball stem (``snowballstemmer``: "anziani" → "anzian", "fratture" → "frattur", "homes" →
"home"). A query word then matches

- as a prefix of an indexed word ("fisio" finds "fisioterapia"), or
- by its stems: its English stem whole ("homes" finds "home", not "homework"), its Italian
  stem as a prefix of an indexed stem, because the Italian Snowball stemmer cuts a singular
  shorter than its plural ("anziano" → "anzi", "anziani" → "anzian"; "pasto" finds "pasti").
  Italian stems shorter than four letters match only whole, or "fisio" (stem "fis") would
  find "fiscale".

An offering's category is searchable by its names in both languages ("elderly" finds every
offering in ``elderly_care``).

Titles sort by :func:`sort_key`: case and accents ignored, the same on every database.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]

MAX_TERMS = 8
MIN_STEM_PREFIX = 4
_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_ITALIAN = snowballstemmer.stemmer("italian")
_ENGLISH = snowballstemmer.stemmer("english")

CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "services_no_cap": ("Servizi alla persona", "Personal services"),
    "education_childcare": ("Istruzione e infanzia", "Education and childcare"),
    "elderly_care": ("Assistenza anziani e non autosufficienti", "Elderly and dependent care"),
    "transport": ("Trasporto", "Transport"),
    "fringe_purchase": ("Beni e acquisti", "Goods and purchases"),
}
"""The wallet's credit categories as people name them, Italian and English."""


def fold_accents(text_value: str) -> str:
    """The text without diacritics ("attività" → "attivita"), as FTS5's ``remove_diacritics``."""
    decomposed = unicodedata.normalize("NFKD", text_value)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_terms(text_query: str) -> list[str]:
    """The words of a free-text query (punctuation and FTS syntax dropped), at most eight."""
    return [w.lower() for w in _WORD.findall(text_query)][:MAX_TERMS]


def tokens(text_value: str) -> list[str]:
    """The words of a text as the index knows them: lower-cased, accents folded."""
    return _TOKEN.findall(fold_accents(text_value).lower())


@lru_cache(maxsize=65_536)
def stems(word: str) -> tuple[str, ...]:
    """The word's Italian and English stems that differ from it (at most two)."""
    found: list[str] = []
    for stemmer in (_ITALIAN, _ENGLISH):
        stem = stemmer.stemWord(word)
        if stem and stem != word and stem not in found:
            found.append(stem)
    return tuple(found)


def index_text(text_value: str) -> str:
    """What the index stores for a text: each word followed by its stems."""
    out: list[str] = []
    for word in tokens(text_value):
        out.append(word)
        out.extend(stems(word))
    return " ".join(out)


def category_text(category: str) -> str:
    """The category's names in both languages, as indexed."""
    names = CATEGORY_NAMES.get(category, (category.replace("_", " "), ""))
    return index_text(" ".join(names))


def query_words(terms: list[str]) -> list[list[tuple[str, bool]]]:
    """For each word of the query, its alternatives: ``(token, prefix)`` pairs, any of which
    may match; every word is required."""
    words = [w for term in terms for w in tokens(term)][:MAX_TERMS]
    alternatives: list[list[tuple[str, bool]]] = []
    for word in words:
        options = [(word, True)]
        italian, english = _ITALIAN.stemWord(word), _ENGLISH.stemWord(word)
        if italian and italian != word:
            options.append((italian, len(italian) >= MIN_STEM_PREFIX))
        if english and english not in (word, italian):
            options.append((english, False))
        alternatives.append(options)
    return alternatives


def fts5_match(terms: list[str]) -> str | None:
    """The FTS5 ``MATCH`` expression of the query (each token quoted: no FTS syntax from
    the user survives), or None when the query has no words."""
    words = query_words(terms)
    if not words:
        return None
    groups = [
        "(" + " OR ".join(f'"{token}"' + ("*" if prefix else "") for token, prefix in options) + ")"
        for options in words
    ]
    return " AND ".join(groups)


def sort_key(title: str) -> str:
    """A title as it sorts: case and accents ignored, spaces collapsed."""
    return " ".join(fold_accents(title).casefold().split())
