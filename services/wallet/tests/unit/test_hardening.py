"""Issue 15 (hardening), driven as an HR clerk, an employee and the auditor would: the fringe
year follows what was finally spent, refusals carry their figures, times and years must be
plausible, and the history shows what is available besides the balance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from benecomune_auditor.store_reader import store_records
from benecomune_auditor.wallet import audit_wallet, figures_from_store
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.service import ServiceRuntime
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.audit_hook import WalletLedgerStore
from wallet.domain.errors import InvalidHoldExpiry, InvalidPlanPeriod
from wallet.domain.fringe import FringeYear
from wallet.domain.wallet import Wallet
from wallet.service import DEFINITION
from wallet.settings import WalletSettings

from .booking_messages import AT, Booking, hold_requested
from .ledger_check import assert_ledger_sound
from .test_http_api import Api, plan_body
from .test_wallet_flows import NOW, hold, make_plan


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = WalletSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        yield Api(client, DevIssuer(settings.territory, settings.keys_dir))


def this_year() -> int:
    return datetime.now(UTC).year


def soon() -> str:
    """A hold expiry an employee's booking would give: tomorrow, within this year's plan."""
    now = datetime.now(UTC)
    return min(now + timedelta(days=1), datetime(now.year, 12, 31, 23, tzinfo=UTC)).isoformat()


def employee_wallet(api: Api, credit_cents: int = 150_000) -> tuple[str, str]:
    """An employer's plan of this year with employee e1 and their credit: (plan, wallet)."""
    body = {**plan_body(this_year()), "credit_per_employee_cents": credit_cents}
    r = api.call("POST", "/plans", "employer", "acme", json=body)
    assert r.status_code == 201, r.text
    plan_id = r.json()["plan_id"]
    employees = {"employees": [{"employee_id": "e1"}]}
    assert api.call("POST", f"/plans/{plan_id}/employees", "employer", "acme", json=employees)
    r = api.call("POST", f"/plans/{plan_id}/grants", "employer", "acme", json={"employee_id": "e1"})
    assert r.status_code == 200, r.text
    return plan_id, r.json()["wallet_id"]


def fringe_hold(amount: int, request: str, confirm: bool = False) -> dict[str, Any]:
    return {
        "request_id": request,
        "provider_id": "shop",
        "category": "fringe_purchase",
        "amount_cents": amount,
        "expires_at": soon(),
        "confirm_taxable": confirm,
    }


# --- 4 and 17: the fringe year follows what was finally spent; the warning has figures -------


def test_a_released_fringe_hold_leaves_the_year_untaxed(api: Api) -> None:
    year = this_year()
    if year not in (2025, 2026, 2027):
        pytest.skip("the territory file sets fringe caps for 2025-2027")
    _, wallet_id = employee_wallet(api)
    spend: dict[str, Any] = {
        "request_id": "s1",
        "provider_id": "shop",
        "category": "fringe_purchase",
    }
    r = api.call(
        "POST",
        f"/wallets/{wallet_id}/spend",
        "beneficiary",
        "e1",
        json={**spend, "amount_cents": 60_000},
    )
    assert r.status_code == 201, r.text
    path = f"/wallets/{wallet_id}/holds"

    warned = api.call("POST", path, "beneficiary", "e1", json=fringe_hold(50_000, "h1"))
    assert warned.status_code == 409
    assert warned.headers["content-type"].startswith("application/problem+json")
    problem = warned.json()
    assert problem["code"] == "fringe_cap_warning"
    assert (problem["cap_cents"], problem["year_total_cents"], problem["taxable_cents"]) == (
        100_000,
        110_000,
        110_000,
    )
    assert (problem["fringe_cents"], problem["requested_cents"]) == (60_000, 50_000)

    r = api.call("POST", path, "beneficiary", "e1", json=fringe_hold(50_000, "h1", confirm=True))
    assert r.status_code == 201, r.text
    hold_id = r.json()["hold_id"]
    (line,) = api.call("GET", f"/payroll/{year}", "employer", "acme").json()
    assert (line["taxable"], line["taxable_cents"]) == (True, 110_000)

    r = api.call(
        "POST", f"{path}/{hold_id}/release", "beneficiary", "e1", json={"request_id": "cancel"}
    )
    assert r.status_code == 200, r.text
    (line,) = api.call("GET", f"/payroll/{year}", "employer", "acme").json()
    assert line == {
        "employee_id": "e1",
        "year": year,
        "cap_cents": 100_000,
        "fringe_cents": 60_000,
        "taxable": False,
        "taxable_cents": 0,
    }
    mine = api.call("GET", f"/me/fringe/{year}", "beneficiary", "e1")
    assert mine.status_code == 200 and mine.json() == line
    # Under the cap again, the next spend over it is warned about again.
    again = api.call("POST", path, "beneficiary", "e1", json=fringe_hold(50_000, "h2"))
    assert again.status_code == 409 and again.json()["code"] == "fringe_cap_warning"


def test_a_refund_that_brings_the_year_under_the_cap_makes_it_untaxed_for_the_auditor_too(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, per_employee=150_000, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    first = hold(app, wallet_id, 60_000, "first", "fringe_purchase")
    app.capture(wallet_id, first, cmd.Capture(request_id="c1"))
    over = hold(app, wallet_id, 50_000, "over", "fringe_purchase", confirm=True)
    app.capture(wallet_id, over, cmd.Capture(request_id="c2"))
    assert [line.taxable_cents for line in app.payroll(None, 2025)] == [110_000]

    app.refund(wallet_id, over, cmd.Refund(request_id="r", amount_cents=20_000))
    (line,) = app.payroll(None, 2025)
    assert (line.fringe_cents, line.taxable, line.taxable_cents) == (90_000, False, 0)
    fringe = app.fringe_year("e1", 2025)
    assert fringe is not None and not fringe.taxable and fringe.taxable_cents == 0

    audit = audit_wallet(
        store_records(WalletLedgerStore(app)),
        source="store",
        figures=lambda upto: figures_from_store(WalletLedgerStore(app), upto),
    )
    assert audit.ok, "\n".join(audit.summary_lines())
    assert audit.as_dict()["taxable_fringe"] == [
        {"employee_id": "e1", "year": 2025, "taxable_cents": 0}
    ]
    assert_ledger_sound(app)


def test_a_partial_capture_under_the_cap_and_a_refund_that_stays_over_it(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, per_employee=150_000, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    hold(app, wallet_id, 60_000, "first", "fringe_purchase")
    over = hold(app, wallet_id, 50_000, "over", "fringe_purchase", confirm=True)
    app.capture(wallet_id, over, cmd.Capture(request_id="c", amount_cents=45_000))
    (line,) = app.payroll(None, 2025)
    assert (line.fringe_cents, line.taxable_cents) == (105_000, 105_000)  # still over: whole
    app.refund(wallet_id, over, cmd.Refund(request_id="r", amount_cents=5_000))
    (line,) = app.payroll(None, 2025)
    assert (line.fringe_cents, line.taxable, line.taxable_cents) == (100_000, False, 0)


def test_a_fringe_given_back_event_stored_before_the_upgrade_still_loads() -> None:
    state: dict[str, Any] = {"employee_id": "e1", "year": 2025, "transfers": []}
    FringeYear.Recorded.upcast_v1_v2(state)
    assert state["back_under_cap"] is False


# --- 8: plausible times and years ------------------------------------------------------------


def test_a_hold_that_has_expired_already_or_outlives_its_plan_is_refused(api: Api) -> None:
    _, wallet_id = employee_wallet(api)
    path = f"/wallets/{wallet_id}/holds"
    now = datetime.now(UTC)
    body = {
        "request_id": "b1",
        "provider_id": "coop-1",
        "category": "transport",
        "amount_cents": 1_000,
    }
    for expires in (
        now - timedelta(days=7),
        datetime(this_year() + 1, 1, 2, tzinfo=UTC),
        now + timedelta(days=400),
    ):
        r = api.call("POST", path, "beneficiary", "e1", json={**body, "expires_at": str(expires)})
        assert r.status_code == 422, (expires, r.text)
        assert r.json()["code"] == "invalid_hold_expiry"
        assert "expire" in r.json()["detail"]
    wallet = api.call("GET", f"/wallets/{wallet_id}", "beneficiary", "e1").json()
    assert wallet["held_cents"] == 0 and wallet["holds"] == []  # nothing changed
    r = api.call("POST", path, "beneficiary", "e1", json={**body, "expires_at": soon()})
    assert r.status_code == 201, r.text


def test_a_hold_past_its_expiry_or_its_plan_is_refused_and_the_last_minute_is_not(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    with pytest.raises(InvalidHoldExpiry):
        hold(app, wallet_id, 1_000, "late", expires=NOW - timedelta(minutes=1))
    with pytest.raises(InvalidHoldExpiry):
        hold(app, wallet_id, 1_000, "long", expires=datetime(2026, 1, 1, 0, 1, tzinfo=UTC))
    assert app.get_wallet(wallet_id).held_cents == 0
    hold(app, wallet_id, 1_000, "last", expires=datetime(2025, 12, 31, 23, 59, tzinfo=UTC))


def test_a_hold_requested_by_event_with_a_past_expiry_is_recorded_as_refused(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    late = hold_requested(wallet_id, amount=1_000, expires_at=AT - timedelta(hours=1))
    assert Booking(app).send(late)
    refused = list(app.events.get(wallet_id))[-1]
    assert isinstance(refused, Wallet.HoldRefused)
    assert refused.reason_code == "invalid_hold_expiry"
    assert app.get_wallet(wallet_id).held_cents == 0


def test_implausible_plan_years_and_periods_are_refused(api: Api) -> None:
    year = this_year()
    for body in (
        plan_body(1990),
        plan_body(2090),
        plan_body(2000),
        {**plan_body(year), "starts_on": f"{year - 1}-01-01", "ends_on": f"{year + 1}-12-31"},
    ):
        r = api.call("POST", "/plans", "employer", "acme", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] in ("invalid_plan_period", "validation_failed")
    r = api.call("POST", "/plans", "employer", "acme", json=plan_body(2000))
    assert (r.json()["code"], r.json()["earliest_year"]) == ("invalid_plan_period", year - 1)
    assert api.call("GET", "/plans", "employer", "acme").json() == []
    assert (
        api.call("POST", "/plans", "employer", "acme", json=plan_body(year + 1)).status_code == 201
    )


def test_the_plan_window_is_relative_to_today(app: WalletApplication) -> None:
    command = cmd.CreatePlan.model_validate(plan_body(2023))
    with pytest.raises(InvalidPlanPeriod, match="from 2024 to 2026"):
        app.create_plan("acme", command, today=date(2025, 3, 1))
    assert app.create_plan("acme", command, today=date(2024, 3, 1))


def test_the_payroll_of_an_implausible_year_is_refused(api: Api) -> None:
    for year in (-1, 1990, this_year() + 2):
        r = api.call("GET", f"/payroll/{year}", "employer", "acme")
        assert r.status_code == 422, (year, r.text)
        assert r.json()["code"] == "year_out_of_range"
        assert "2020" in r.json()["detail"]
    assert api.call("GET", f"/payroll/{this_year()}", "employer", "acme").status_code == 200
    assert api.call("GET", "/me/fringe/1990", "beneficiary", "e1").status_code == 422


# --- 9: the history shows what is available ---------------------------------------------------


def test_the_history_shows_the_balance_and_what_is_available_on_every_line(api: Api) -> None:
    _, wallet_id = employee_wallet(api, credit_cents=80_000)
    body = {
        "request_id": "b1",
        "provider_id": "coop-1",
        "category": "transport",
        "amount_cents": 24_500,
        "expires_at": soon(),
    }
    r = api.call("POST", f"/wallets/{wallet_id}/holds", "beneficiary", "e1", json=body)
    assert r.status_code == 201, r.text
    history = api.call("GET", f"/wallets/{wallet_id}/history", "beneficiary", "e1").json()
    assert all({"balance_cents", "available_cents", "held_cents"} <= set(h) for h in history)
    last = history[-1]
    assert (last["balance_cents"], last["held_cents"], last["available_cents"]) == (
        80_000,
        24_500,
        55_500,
    )
    wallet = api.call("GET", f"/wallets/{wallet_id}", "beneficiary", "e1").json()
    assert wallet["available_by_category"]["transport"] == last["available_cents"]
    hold_id = r.json()["hold_id"]
    capture = {"request_id": "c1", "amount_cents": 20_000}
    api.call("POST", f"/wallets/{wallet_id}/holds/{hold_id}/capture", "operator", json=capture)
    last = api.call("GET", f"/wallets/{wallet_id}/history", "beneficiary", "e1").json()[-1]
    assert (last["balance_cents"], last["held_cents"], last["available_cents"]) == (
        60_000,
        0,
        60_000,
    )


def test_a_date_given_as_a_number_is_refused_saying_how_to_write_it(api: Api) -> None:
    # 0 would be read as 1 January 1970, and a Unix time as some day nobody meant.
    body = {**plan_body(this_year()), "starts_on": 0, "ends_on": 1_893_456_000}
    r = api.call("POST", "/plans", "employer", "acme", json=body)
    assert r.status_code == 422
    assert r.json()["code"] == "validation_failed"
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "YYYY-MM-DD" in fields["body.starts_on"] and "YYYY-MM-DD" in fields["body.ends_on"]
    assert api.call("GET", "/plans", "employer", "acme").json() == []
