"""Shops in the programme: affiliated to a round by an operator, or admitted by the catalogue
(its ``MerchantAffiliated`` events: the shop joins every open round of the municipalities it
serves, and every round opened there later), suspended and reinstated by the catalogue."""

from __future__ import annotations

from uuid import UUID

import structlog
from benecomune_contracts import catalog
from eventsourcing.persistence import IntegrityError
from servicekit.domain import NotFound
from servicekit.messages import Processing

from vouchers.application import commands as cmd
from vouchers.application import views
from vouchers.application.store import VouchersStore
from vouchers.domain.errors import AlreadyApplied, InvalidTransition, NotAffiliated
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.programme_shop import ProgrammeShop
from vouchers.domain.round import Round

log = structlog.get_logger(__name__)


def affiliate_merchant(
    store: VouchersStore, round_id: UUID, command: cmd.AffiliateMerchant
) -> UUID:
    round_ = store.get_round(round_id)
    if round_.kind != "food":
        raise InvalidTransition(
            "a services round's vouchers are spent at the catalogue's accredited providers, "
            "through bookings: no shop is affiliated to it"
        )
    account = MerchantAccount(
        round_id=round_.id,
        merchant_id=command.merchant_id,
        vat_number=command.vat_number,
        goods_categories=sorted(set(command.goods_categories)),
        excluded_categories=round_.excluded_categories,
    )
    try:
        store.save(account)
    except IntegrityError:
        raise AlreadyApplied(
            f"merchant {command.merchant_id} is already affiliated to this round"
        ) from None
    return account.id


def affiliation(shop: ProgrammeShop, round_: Round) -> MerchantAccount:
    """A catalogue shop's account in a round, as the operator's affiliation would make it."""
    assert shop.vat_number is not None  # ProgrammeShop.serves() asks for one
    return MerchantAccount(
        round_id=round_.id,
        merchant_id=shop.merchant_id,
        vat_number=shop.vat_number,
        goods_categories=shop.goods_categories,
        excluded_categories=round_.excluded_categories,
    )


def shop_admitted(
    store: VouchersStore, message: catalog.MerchantAffiliated, processing: Processing
) -> None:
    """A shop the catalogue admitted to the voucher programme (or changed) is recorded, and
    joins every round still open in the municipalities it serves that it has not joined;
    a shop without a VAT number is recorded but joins no round (an affiliation needs one)."""
    shop = programme_shop_from(store, message)
    if shop.vat_number is None:
        log.warning("programme_shop_without_vat_number", merchant_id=shop.merchant_id)
    joined = [
        affiliation(shop, round_)
        for round_ in open_rounds(store)
        if shop.serves(round_.municipality_istat)
        and not is_affiliated(store, round_.id, shop.merchant_id)
    ]
    processing.collect_events(shop, *joined)


def programme_shop_from(store: VouchersStore, message: catalog.MerchantAffiliated) -> ProgrammeShop:
    """The shop as the catalogue now describes it: changed if known, new otherwise."""
    categories = sorted(set(message.goods_categories))
    municipalities = sorted(set(message.municipalities))
    try:
        shop_id = ProgrammeShop.id_for(message.merchant_id)
        shop = store.get_aggregate(shop_id, ProgrammeShop, "programme shop")
    except NotFound:
        return ProgrammeShop(message.merchant_id, message.vat_number, categories, municipalities)
    shop.change(message.vat_number, categories, municipalities)
    return shop


def shop_suspended(
    store: VouchersStore, message: catalog.ProviderSuspended, processing: Processing
) -> None:
    """A shop the catalogue suspends takes no vouchers in any round it joined until it is
    reinstated; what it is owed stays owed."""
    for account in accounts_of(store, message.provider_id):
        account.suspend(message.reason_code)
        processing.collect_events(account)


def shop_reinstated(
    store: VouchersStore, message: catalog.ProviderReinstated, processing: Processing
) -> None:
    for account in accounts_of(store, message.provider_id):
        account.reinstate()
        processing.collect_events(account)


def accounts_of(store: VouchersStore, merchant_id: str) -> list[MerchantAccount]:
    """A shop's accounts, one per round it joined (none for a provider that is no shop)."""
    ids = views.merchant_account_ids(store.fresh_read_model(), merchant_id=merchant_id)
    return [store.get_aggregate(i, MerchantAccount, "merchant account") for i in ids]


def programme_shops(store: VouchersStore) -> list[ProgrammeShop]:
    ids = views.programme_shop_ids(store.fresh_read_model())
    return [store.get_aggregate(i, ProgrammeShop, "programme shop") for i in ids]


def open_rounds(store: VouchersStore) -> list[Round]:
    """Food rounds not closed (a closed round takes no new shops, a services round none)."""
    rounds = (store.get_round(i) for i in views.round_ids(store.fresh_read_model()))
    return [r for r in rounds if not r.closed and r.kind == "food"]


def is_affiliated(store: VouchersStore, round_id: UUID, merchant_id: str) -> bool:
    try:
        store.merchant_account(round_id, merchant_id)
    except NotAffiliated:
        return False
    return True
