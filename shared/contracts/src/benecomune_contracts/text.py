"""Text that people type, checked once for the API and the contract alike.

A name, a title, a reference or a note reaches other parties' screens, CSV reports and PDFs.
NUL and other control characters break stores and files; bidirectional overrides
(U+202A-U+202E, U+2066-U+2069) make a text display differently from what it says (a shop name
that reads as another). Such characters are refused with a message that names them, and
surrounding whitespace is trimmed. A service declares its API fields with these types and its
contract events use the same ones, so what the API accepts the relay can always publish.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

__all__ = [
    "MULTI_LINE",
    "SINGLE_LINE",
    "NoteText",
    "PlainText",
    "ShortText",
    "check_plain_text",
]

_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_MULTILINE_ALLOWED = frozenset("\n\r\t")


def check_plain_text(value: str, *, multiline: bool = False) -> str:
    """``value`` if it holds no control character, bidirectional override or lone surrogate
    (newlines and tabs only where ``multiline``); raises ``ValueError`` naming the first bad one."""
    for position, char in enumerate(value):
        if multiline and char in _MULTILINE_ALLOWED:
            continue
        category = unicodedata.category(char)
        if char in _BIDI_CONTROLS:
            raise ValueError(
                f"bidirectional control character U+{ord(char):04X} at position {position} "
                "is not allowed (it would make the text display differently from what it says)"
            )
        if category in ("Cc", "Cs"):
            raise ValueError(
                f"control character U+{ord(char):04X} at position {position} is not allowed"
            )
    return value


def _single_line(value: str) -> str:
    return check_plain_text(value, multiline=False)


def _multi_line(value: str) -> str:
    return check_plain_text(value, multiline=True)


SINGLE_LINE = AfterValidator(_single_line)
"""Marker for ``Annotated[str, StringConstraints(...), SINGLE_LINE]``: no control characters."""
MULTI_LINE = AfterValidator(_multi_line)
"""Marker for a note or a reason: newlines and tabs allowed, other control characters not."""

PlainText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SINGLE_LINE
]
"""One line of text people typed (a name, a title): 1-200 characters, nothing invisible."""

ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), SINGLE_LINE
]
"""A short label (a certification, a reference): 1-100 characters, nothing invisible."""

NoteText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), MULTI_LINE
]
"""A note or a reason, possibly on several lines: 1-2000 characters."""
