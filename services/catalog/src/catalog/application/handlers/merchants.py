"""Shops: the operator admits an accredited shop to the voucher programme (its
``MerchantAffiliated`` event reaches the vouchers service)."""

from __future__ import annotations

from servicekit.store import retried

from catalog.application import commands as cmd
from catalog.application.store import CatalogStore


@retried
def affiliate_merchant(
    store: CatalogStore, provider_id: str, command: cmd.AffiliateMerchant, by: str | None
) -> None:
    provider = store.get_provider(provider_id)
    provider.affiliate_as_merchant(command.goods_categories, by)
    store.save(provider)
