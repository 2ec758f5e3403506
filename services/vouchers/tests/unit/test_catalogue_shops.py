"""Shops the catalogue admits to the voucher programme (its ``MerchantAffiliated`` events) join
the rounds of the municipalities they serve: the open ones when they join, new ones as they
open; never a closed round, never twice, never without a VAT number."""

from __future__ import annotations

from uuid import UUID

from benecomune_contracts import catalog
from eventsourcing.persistence import Tracking
from vouchers.application.app import VouchersApplication
from vouchers.domain.programme_shop import ProgrammeShop

from .test_domain_rules import NOW, open_round, redeem, served_household

VAT = "06363391001"
_positions = iter(range(1, 1_000))


def joined(merchant_id: str = "m-cat", **changes: object) -> catalog.MerchantAffiliated:
    fields: dict[str, object] = {
        "merchant_id": merchant_id,
        "vat_number": VAT,
        "goods_categories": ["food"],
        "municipalities": ["096004", "096012"],
        "affiliated_at": NOW,
    }
    return catalog.MerchantAffiliated.model_validate({**fields, **changes})


def consume(app: VouchersApplication, message: catalog.MerchantAffiliated) -> bool:
    return app.process_message(message, [Tracking("catalog#0", next(_positions))])


def round_in(app: VouchersApplication, istat: str) -> UUID:
    return open_round(app, municipality=istat)[1]


def test_a_shop_joins_the_open_rounds_of_the_municipalities_it_serves(
    app: VouchersApplication,
) -> None:
    _, biella = open_round(app)
    _, closed = open_round(app)
    app.close_round(closed)
    cossato = round_in(app, "096020")  # a municipality the shop does not serve

    assert consume(app, joined())

    assert app.is_affiliated(biella, "m-cat")
    assert not app.is_affiliated(closed, "m-cat")
    assert not app.is_affiliated(cossato, "m-cat")
    account = app.merchant_account(biella, "m-cat")
    assert (account.vat_number, account.goods_categories) == (VAT, ["food"])
    _, codes = served_household(app, biella)
    redeem(app, codes[0], 1_000, merchant_id="m-cat")
    assert app.merchant_account(biella, "m-cat").redeemed_cents == 1_000


def test_the_same_shop_again_joins_nothing_twice_and_its_changes_are_kept(
    app: VouchersApplication,
) -> None:
    _, biella = open_round(app)
    first = joined()
    assert consume(app, first)
    assert not app.process_message(first, [Tracking("catalog#0", next(_positions) - 1)])

    assert consume(app, joined(goods_categories=["food", "hygiene"]))  # a new catalogue event

    shop = app.get_aggregate(ProgrammeShop.id_for("m-cat"), ProgrammeShop, "programme shop")
    assert shop.goods_categories == ["food", "hygiene"]
    assert [a.merchant_id for a in app.merchant_accounts(biella)] == ["m-cat"]


def test_a_round_opened_later_takes_the_shops_of_its_municipality(
    app: VouchersApplication,
) -> None:
    assert consume(app, joined("m-candelo", municipalities=["096012"]))
    assert consume(app, joined("m-biella", municipalities=["096004"]))

    candelo = round_in(app, "096012")

    assert [a.merchant_id for a in app.merchant_accounts(candelo)] == ["m-candelo"]


def test_a_shop_without_a_vat_number_is_known_but_joins_no_round(
    app: VouchersApplication,
) -> None:
    _, biella = open_round(app)
    assert consume(app, joined(vat_number=None))
    later = round_in(app, "096004")

    assert not app.is_affiliated(biella, "m-cat")
    assert not app.is_affiliated(later, "m-cat")
    assert [s.merchant_id for s in app.programme_shops()] == ["m-cat"]
