from __future__ import annotations

import pytest
from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.domain.errors import (
    AlreadyRegistered,
    InvalidProvider,
    InvalidTransition,
    UnknownMunicipality,
)
from catalog.domain.provider import Provider

from ..conftest import VAT_BOTTEGA, VAT_IL_SOLE, VAT_LA_RETE, register


@pytest.mark.parametrize("vat", [VAT_LA_RETE, VAT_IL_SOLE, VAT_BOTTEGA])
def test_a_provider_with_a_valid_partita_iva_applies(vat: str) -> None:
    provider = Provider.apply("coop-a", "Coop A", "coop_a", vat, None, ["096004"])
    assert provider.vat_number == vat
    assert provider.status == "applied"


def test_a_vat_number_with_the_it_prefix_and_spaces_is_normalised() -> None:
    provider = Provider.apply("coop-a", "Coop A", "coop_b", "IT 011 1460 1006", None, ["096004"])
    assert provider.vat_number == VAT_LA_RETE


@pytest.mark.parametrize(
    ("vat", "message"),
    [
        ("01114601007", "check digit mismatch"),
        ("0111460100", "11 digits"),
        ("0111460100A", "digits only"),
        ("00000000000", "all zeros"),
    ],
)
def test_a_bad_partita_iva_is_refused_saying_why(vat: str, message: str) -> None:
    with pytest.raises(InvalidProvider, match=message):
        Provider.apply("coop-a", "Coop A", "coop_a", vat, None, ["096004"])


def test_an_association_may_register_with_a_valid_personal_fiscal_code() -> None:
    provider = Provider.apply(
        "ass-amici", "Amici di Biella", "association", None, "RSSMRA85T10A562S", ["096004"]
    )
    assert provider.fiscal_code == "RSSMRA85T10A562S"


@pytest.mark.parametrize(
    ("code", "message"), [("RSSMRA85T10A562T", "check"), ("RSSMRA85", "16 characters")]
)
def test_a_bad_fiscal_code_is_refused(code: str, message: str) -> None:
    with pytest.raises(InvalidProvider, match=message):
        Provider.apply("ass-amici", "Amici", "association", None, code, ["096004"])


def test_a_cooperative_needs_a_vat_number() -> None:
    with pytest.raises(InvalidProvider, match="needs a VAT number"):
        Provider.apply("coop-a", "Coop A", "coop_a", None, "RSSMRA85T10A562S", ["096004"])


def test_a_provider_without_any_tax_identity_is_refused() -> None:
    with pytest.raises(InvalidProvider, match=r"VAT number .* or a fiscal code"):
        Provider.apply("ass-x", "X", "association", None, None, ["096004"])


def test_the_lifecycle_goes_applied_accredited_suspended_reinstated() -> None:
    provider = Provider.apply("coop-a", "Coop A", "coop_a", VAT_LA_RETE, None, ["096004"])
    provider.accredit("operator")
    provider.suspend("quality_complaint", "Reclami ripetuti", "operator")
    assert provider.status == "suspended"
    with pytest.raises(InvalidTransition, match="use reinstate"):
        provider.accredit("operator")
    provider.reinstate("operator")
    assert provider.status == "accredited"
    with pytest.raises(InvalidTransition, match="only a suspended provider"):
        provider.reinstate("operator")


def test_only_an_accredited_shop_joins_the_voucher_programme() -> None:
    coop = Provider.apply("coop-a", "Coop A", "coop_a", VAT_LA_RETE, None, ["096004"])
    coop.accredit("operator")
    with pytest.raises(InvalidProvider, match="only shops"):
        coop.affiliate_as_merchant(["food"])
    shop = Provider.apply("bottega", "Bottega", "shop", VAT_BOTTEGA, None, ["096004"])
    with pytest.raises(InvalidTransition, match="accredited before"):
        shop.affiliate_as_merchant(["food"])
    shop.accredit("operator")
    shop.affiliate_as_merchant(["food", "hygiene"])
    assert shop.goods_categories == ["food", "hygiene"]


def test_the_same_vat_number_cannot_register_twice(app: CatalogApplication) -> None:
    register(app, "coop-la-rete", VAT_LA_RETE)
    with pytest.raises(AlreadyRegistered):
        register(app, "coop-altra", VAT_LA_RETE)
    with pytest.raises(AlreadyRegistered):
        register(app, "coop-la-rete", VAT_IL_SOLE)


def test_a_municipality_outside_the_territory_is_refused(app: CatalogApplication) -> None:
    with pytest.raises(UnknownMunicipality, match="058091"):
        app.register_provider(
            cmd.RegisterProvider(
                provider_id="coop-roma",
                legal_name="Coop Roma",
                kind="coop_a",
                vat_number=VAT_IL_SOLE,
                municipalities=["058091"],
            )
        )
