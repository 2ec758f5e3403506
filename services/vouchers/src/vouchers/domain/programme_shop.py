"""A shop the catalogue admitted to the territory's voucher programme, as the vouchers service
knows it from the catalogue's ``MerchantAffiliated`` events: its VAT number, the goods it sells
and the municipalities it serves. The service affiliates it to the rounds of those
municipalities (open ones when it joins, new ones when they open). Private: it moves no money,
so it is not a ledger stream and is not published."""

from __future__ import annotations

import uuid
from uuid import UUID

from eventsourcing.domain import event
from servicekit.domain import Aggregate

SHOP_NAMESPACE = uuid.UUID("0d8a4f3e-7c21-4b6e-9a55-3e1f2b7c9d40")


class ProgrammeShop(Aggregate):
    class Joined(Aggregate.Created):
        merchant_id: str
        vat_number: str | None
        goods_categories: list[str]
        municipalities: list[str]

    class Changed(Aggregate.Event):
        vat_number: str | None
        goods_categories: list[str]
        municipalities: list[str]

    @event(Joined)
    def __init__(
        self,
        merchant_id: str,
        vat_number: str | None,
        goods_categories: list[str],
        municipalities: list[str],
    ) -> None:
        self.merchant_id = merchant_id
        self.vat_number = vat_number
        self.goods_categories = goods_categories
        self.municipalities = municipalities

    @staticmethod
    def create_id(
        merchant_id: str,
        vat_number: str | None,
        goods_categories: list[str],
        municipalities: list[str],
    ) -> UUID:
        return ProgrammeShop.id_for(merchant_id)

    @staticmethod
    def id_for(merchant_id: str) -> UUID:
        return uuid.uuid5(SHOP_NAMESPACE, merchant_id)

    def change(
        self, vat_number: str | None, goods_categories: list[str], municipalities: list[str]
    ) -> bool:
        """Record what the catalogue now says; False (no event) when nothing changed."""
        if (vat_number, goods_categories, municipalities) == (
            self.vat_number,
            self.goods_categories,
            self.municipalities,
        ):
            return False
        self._change(vat_number, goods_categories, municipalities)
        return True

    @event(Changed)
    def _change(
        self, vat_number: str | None, goods_categories: list[str], municipalities: list[str]
    ) -> None:
        self.vat_number = vat_number
        self.goods_categories = goods_categories
        self.municipalities = municipalities

    def serves(self, municipality_istat: str) -> bool:
        """Whether the shop can be affiliated to a round of this municipality: it serves it and
        has the VAT number a round's affiliation needs."""
        return self.vat_number is not None and municipality_istat in self.municipalities
