"""An employee's productivity bonus (premio di risultato) converted into welfare credit: only in
a plan that allows it, as a balanced transfer from the employer's bonus account into the
wallet, tax-free up to the yearly limit of the territory's rules (3,000 EUR) — a conversion
that would cross it is refused whole — and shown in the plan statement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.service import ServiceRuntime
from servicekit.settings import ServiceSettings
from wallet.application import commands as cmd
from wallet.application.app import BonusConversion, WalletApplication
from wallet.domain.errors import BonusConversionNotAllowed, BonusLimitExceeded, RequestMismatch
from wallet.domain.wallet import Wallet
from wallet.service import DEFINITION
from wallet.settings import WalletSettings

from .ledger_check import assert_ledger_sound
from .test_http_api import Api, plan_body
from .test_wallet_flows import EMPLOYER, hold, make_plan

TODAY = date(2025, 6, 1)


def convert(
    app: WalletApplication, plan_id: UUID, request: str, cents: int, who: str = "e1"
) -> BonusConversion:
    return app.convert_bonus(
        plan_id, cmd.ConvertBonus(request_id=request, employee_id=who, amount_cents=cents), TODAY
    )


def test_a_converted_bonus_lands_in_the_wallet_from_the_employers_bonus_account(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False}, bonus=True)
    app.grant(plan_id, cmd.Grant(employee_id="e1"))
    done = convert(app, plan_id, "payroll-2025-06", 120_000)
    assert (done.converted_this_year_cents, done.yearly_limit_cents) == (120_000, 300_000)
    again = convert(app, plan_id, "payroll-2025-06", 120_000)  # HR's retry converts once
    assert again.converted_this_year_cents == 120_000
    with pytest.raises(RequestMismatch):
        convert(app, plan_id, "payroll-2025-06", 99_000)

    wallet = app.get_wallet(Wallet.id_for(plan_id, "e1"))
    assert wallet.balance("general") == 50_000 + 120_000
    assert wallet.bonus_converted_cents == 120_000
    balances = assert_ledger_sound(app)
    assert balances[f"employer:{EMPLOYER}:productivity_bonus"] == -120_000
    assert balances["bonus:e1:2025:converted"] == 120_000
    assert app.get_plan(plan_id).funding_cents == 1_000_000 - 50_000  # not from the budget

    # The converted credit is spent like any other; the statement shows where it came from.
    h = hold(app, wallet.id, 160_000, "big", "elderly_care")
    app.capture(wallet.id, h, cmd.Capture(request_id="c"))
    s = app.plan_figures(plan_id)
    assert (s.loaded_cents, s.bonus_converted_cents, s.spent_cents, s.left_cents) == (
        50_000,
        120_000,
        160_000,
        10_000,
    )
    assert s.loaded_cents + s.carried_in_cents + s.bonus_converted_cents == (
        s.spent_cents + s.held_cents + s.left_cents + s.expired_cents + s.carried_over_cents
    )


def test_a_conversion_over_the_yearly_limit_is_refused_whole_with_what_is_left(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False}, bonus=True)
    convert(app, plan_id, "spring", 200_000)  # the wallet is opened by the conversion
    with pytest.raises(BonusLimitExceeded, match="at most 100000 cents can still be converted"):
        convert(app, plan_id, "autumn", 100_001)
    # The limit is the employee's for the year, across plans (here another employer's).
    other = make_plan(app, employees={"e1": False}, bonus=True, employer="bottega")
    with pytest.raises(BonusLimitExceeded, match="over the tax-free limit of 300000"):
        convert(app, other, "autumn", 150_000)
    convert(app, other, "autumn", 100_000)  # exactly up to the limit is fine
    year = app.bonus_year("e1", 2025)
    assert year is not None and year.converted_cents == year.limit_cents == 300_000
    # Another year has its own limit.
    next_year = make_plan(app, year=2026, employees={"e1": False}, bonus=True)
    app.convert_bonus(
        next_year,
        cmd.ConvertBonus(request_id="2026", employee_id="e1", amount_cents=300_000),
        today=date(2026, 2, 1),
    )
    balances = assert_ledger_sound(app)
    assert balances["bonus:e1:2025:converted"] == 300_000
    assert app.get_wallet(Wallet.id_for(plan_id, "e1")).total_cents == 200_000


def test_a_plan_that_does_not_allow_it_refuses_a_conversion_until_the_employer_allows_it(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    with pytest.raises(BonusConversionNotAllowed, match="does not allow"):
        convert(app, plan_id, "x", 10_000)
    assert app.plan_figures(plan_id).bonus_converted_cents is None
    app.allow_bonus_conversion(plan_id)
    app.allow_bonus_conversion(plan_id)  # once is enough: nothing more is recorded
    assert [type(e).__name__ for e in app.events.get(plan_id)].count("BonusConversionAllowed") == 1
    convert(app, plan_id, "x", 10_000)
    assert app.plan_figures(plan_id).bonus_converted_cents == 10_000


def test_the_yearly_limit_comes_from_the_territorys_rules(tmp_path: Path) -> None:
    territories = tmp_path / "territories"
    territories.mkdir()
    biella = (ServiceSettings().territories_dir / "biella.toml").read_text(encoding="utf-8")
    assert "conversion_limit_cents = { 2025 = 300000" in biella
    (territories / "biella.toml").write_text(
        biella.replace("{ 2025 = 300000", "{ 2025 = 150000"), encoding="utf-8"
    )
    app = WalletApplication(
        WalletSettings(
            data_dir=tmp_path / "data", keys_dir=tmp_path / "keys", territories_dir=territories
        )
    )
    try:
        assert (app.bonus_limit(2025), app.bonus_limit(2026), app.bonus_limit(2040)) == (
            150_000,
            300_000,
            300_000,  # a year the territory does not list: the statutory 3,000 EUR
        )
        plan_id = make_plan(app, employees={"e1": False}, bonus=True)
        with pytest.raises(BonusLimitExceeded, match="limit of 150000 cents"):
            convert(app, plan_id, "too-much", 150_001)
    finally:
        app.close()


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = WalletSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        yield Api(client, DevIssuer(settings.territory, settings.keys_dir))


def test_the_employer_converts_a_bonus_over_http_and_the_statement_shows_it(api: Api) -> None:
    year = datetime.now(UTC).year
    body = {**plan_body(year), "productivity_bonus": True}
    plan = api.call("POST", "/plans", "employer", "acme", json=body).json()
    assert plan["bonus_conversion"] is True
    plan_id = plan["plan_id"]
    api.call(
        "POST",
        f"/plans/{plan_id}/employees",
        "employer",
        "acme",
        json={"employees": [{"employee_id": "e1"}]},
    )
    path = f"/plans/{plan_id}/bonus-conversions"
    conversion = {"request_id": "june", "employee_id": "e1", "amount_cents": 250_000}
    r = api.call("POST", path, "employer", "acme", json=conversion)
    assert r.status_code == 201, r.text
    assert r.json()["wallet"]["balance_by_category"] == {"general": 250_000}
    assert r.json()["converted_this_year_cents"] == 250_000
    assert api.call("POST", path, "employer", "other", json=conversion).status_code == 403
    assert api.call("POST", path, "beneficiary", "e1", json=conversion).status_code == 403
    r = api.call("POST", path, "employer", "acme", json={**conversion, "request_id": "july"})
    assert r.status_code == 422
    assert r.json()["code"] == "bonus_limit_exceeded"
    assert "at most 50000 cents" in r.json()["detail"]
    statement = api.call("GET", f"/plans/{plan_id}/report", "auditor").json()
    assert statement["bonus_converted_cents"] == 250_000 and statement["loaded_cents"] == 0

    other = api.call("POST", "/plans", "employer", "acme", json=plan_body(year)).json()
    r = api.call(
        "POST", f"/plans/{other['plan_id']}/bonus-conversions", "employer", "acme", json=conversion
    )
    assert r.status_code == 422 and r.json()["code"] == "bonus_conversion_not_allowed"
    assert (
        api.call("GET", f"/plans/{other['plan_id']}/report", "auditor").json()[
            "bonus_converted_cents"
        ]
        is None
    )
    r = api.call("PUT", f"/plans/{other['plan_id']}/bonus-conversion", "employer", "acme")
    assert r.status_code == 200 and r.json()["bonus_conversion"] is True
