"""Voucher codes: unguessable (80 random bits), typable at a till (Crockford base32, no I, L,
O or U), with a check character that catches a mistyped or swapped character."""

from __future__ import annotations

import secrets
import uuid

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"  # Crockford's 37 check symbols
CODE_LENGTH = 16
CODE_NAMESPACE = uuid.UUID("b8a4c1e2-7d3f-4e59-a1c6-2f8e9b0d4a13")


class InvalidVoucherCode(ValueError):
    pass


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return format_code(body + check_symbol(body))


def check_symbol(body: str) -> str:
    value = 0
    for char in body:
        value = value * 32 + ALPHABET.index(char)
    return CHECK_ALPHABET[value % 37]


def format_code(raw: str) -> str:
    body, check = raw[:CODE_LENGTH], raw[CODE_LENGTH:]
    groups = [body[i : i + 4] for i in range(0, CODE_LENGTH, 4)]
    return "-".join(groups) + "-" + check


def normalize_code(code: str) -> str:
    """Accept what people type: lower case, spaces or dashes, O for 0, I or L for 1."""
    raw = code.strip().upper().replace("-", "").replace(" ", "")
    raw = raw.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(raw) != CODE_LENGTH + 1:
        raise InvalidVoucherCode(
            f"a voucher code has {CODE_LENGTH} characters and a check character"
        )
    body, check = raw[:CODE_LENGTH], raw[CODE_LENGTH:]
    if any(char not in ALPHABET for char in body):
        raise InvalidVoucherCode("a voucher code has only digits and the letters A-Z but I L O U")
    if check_symbol(body) != check:
        raise InvalidVoucherCode("the voucher code is mistyped (its check character differs)")
    return format_code(raw)


def code_hint(code: str) -> str:
    """The end of a code as printed (its last group and check character, ``WXYZ-C``): enough
    for a shop to recognise a voucher it took, far too little to spend it (60 of its 80 random
    bits are not in it). What a shop's sales list shows; the code itself is never stored."""
    return normalize_code(code)[-6:]


def voucher_id_for(code: str) -> uuid.UUID:
    """The voucher's id is derived from its code: the till finds the voucher from the code, and
    the code itself is never stored."""
    return uuid.uuid5(CODE_NAMESPACE, normalize_code(code))
