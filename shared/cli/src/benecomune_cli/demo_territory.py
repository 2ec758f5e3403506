"""The demo territory's facts that every service's demo shares: Biella's ISTAT code and the
shops affiliated to its voucher programme (the catalogue lists them, the vouchers round takes
them)."""

from __future__ import annotations

from dataclasses import dataclass

from servicekit.italian_ids import vat_number_check_digit

BIELLA = "096004"


def vat_number(body: str) -> str:
    """A partita IVA from its first 10 digits (office 096: Biella)."""
    return body + vat_number_check_digit(body)


@dataclass(frozen=True)
class Shop:
    merchant_id: str
    name: str
    vat_number: str
    goods_categories: list[str]


SHOPS = [
    Shop("m-biella-001", "Alimentari del Piazzo", vat_number("0261847096"), ["food", "hygiene"]),
    Shop("m-biella-002", "Panetteria Riva", vat_number("0198265096"), ["food"]),
    Shop(
        "m-biella-003",
        "Farmacia Chiavazza",
        vat_number("0233519096"),
        ["hygiene", "baby_care", "medicines"],
    ),
]
