"""Shops the catalogue admits to the voucher programme (its ``MerchantAffiliated`` events) join
the rounds of the municipalities they serve: the open ones when they join, new ones as they
open; never a closed round, never twice, never without a VAT number. A shop the catalogue
suspends takes no vouchers until it is reinstated."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest
from benecomune_auditor.store_reader import store_records
from benecomune_auditor.vouchers import audit_vouchers
from benecomune_contracts import catalog
from eventsourcing.persistence import Tracking
from vouchers.application.app import VouchersApplication
from vouchers.audit_hook import VouchersLedgerStore
from vouchers.domain.errors import MerchantSuspended
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


def suspended(merchant_id: str = "m-cat") -> catalog.ProviderSuspended:
    return catalog.ProviderSuspended(
        provider_id=merchant_id, reason_code="inspection", suspended_at=NOW
    )


def test_a_shop_the_catalogue_suspends_takes_no_vouchers_until_reinstated(
    app: VouchersApplication,
) -> None:
    _, biella = open_round(app)
    _, other = open_round(app)
    assert consume(app, joined())
    _, codes = served_household(app, biella)
    redeem(app, codes[0], 1_000, merchant_id="m-cat")

    assert consume(app, suspended())
    assert consume(app, suspended())  # again: nothing more happens

    with pytest.raises(MerchantSuspended, match="m-cat is suspended"):
        redeem(app, codes[0], 500, merchant_id="m-cat")
    assert all(app.merchant_account(r, "m-cat").suspended for r in (biella, other))
    assert app.merchant_account(biella, "m-cat").redeemed_cents == 1_000  # still owed

    assert consume(app, catalog.ProviderReinstated(provider_id="m-cat", reinstated_at=NOW))
    redeem(app, codes[0], 500, merchant_id="m-cat")
    assert app.merchant_account(biella, "m-cat").redeemed_cents == 1_500
    # The suspension and the reinstatement are on the account's ledger stream: the auditor's
    # replay of the store finds the chain intact and no rule broken.
    audit = audit_vouchers(store_records(VouchersLedgerStore(app)), source="store")
    assert audit.ok, audit.summary_lines()
    types = [
        e.type_name
        for e in audit.tally.merchants[
            str(app.merchant_account(biella, "m-cat").id)
        ].redeemed_trail.last
    ]
    assert types == ["MerchantCredited", "MerchantCredited"]


def test_the_auditor_names_a_credit_taken_while_the_shop_was_suspended(
    app: VouchersApplication,
) -> None:
    _, biella = open_round(app)
    assert consume(app, joined())
    assert consume(app, suspended())
    account = app.merchant_account(biella, "m-cat")
    account.credit(uuid.uuid4(), uuid.uuid4(), 700, NOW)  # a faulty service ignoring the rule
    app.save(account)

    audit = audit_vouchers(store_records(VouchersLedgerStore(app)), source="store")

    assert audit.replay.intact and not audit.ok
    (violation,) = [v for v in audit.violations if "while the shop was suspended" in v.detail]
    assert [e.type_name for e in violation.events] == ["MerchantSuspended", "MerchantCredited"]
