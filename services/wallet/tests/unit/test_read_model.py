"""The wallet's read model (adapters/read_model.py, queried by application/views.py): it gives
the answers the old scans of the whole event log gave, in the same order; rebuilt from zero it
gives them again; a query sees the writes made before it, by this application or another one
on the same store; the periodic jobs find their work in it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.service import ServiceRuntime
from wallet.application import commands as cmd
from wallet.application import views
from wallet.application.app import WalletApplication
from wallet.domain.loads import EmployeeLoad
from wallet.domain.plan import Plan
from wallet.domain.wallet import Wallet
from wallet.service import DEFINITION
from wallet.settings import WalletSettings

from .test_http_api import Api, plan_body
from .test_wallet_flows import NOW, hold, make_plan, person


def busy(app: WalletApplication) -> dict[str, UUID]:
    """Two employers' plans, wallets with every kind of movement, delegates named, replaced
    and revoked, a bulk load, a carry-over."""
    a = make_plan(app, employees={"e1": False, "e2": False, "e3": True})
    b = make_plan(app, policy="carry_over", employer="globex", employees={"e1": False, "e4": False})
    c = make_plan(app, year=2026, employer="globex", employees={"e1": False})
    e1a = app.grant(a, cmd.Grant(employee_id="e1"))
    e2a = app.grant(a, cmd.Grant(employee_id="e2"))
    e1b = app.grant(b, cmd.Grant(employee_id="e1", amount_cents=20_000, category="transport"))
    app.grant(b, cmd.Grant(employee_id="e4"))
    captured = hold(app, e1a, 5_000, "h1")
    app.capture(e1a, captured, cmd.Capture(request_id="c1", amount_cents=3_000))
    app.refund(e1a, captured, cmd.Refund(request_id="r1", amount_cents=1_000))
    app.release(e1a, hold(app, e1a, 2_000, "h2"), cmd.Release(request_id="x1"))
    hold(app, e1a, 1_000, "h3", expires=NOW + timedelta(days=1))
    hold(app, e1a, 1_500, "h4", expires=NOW + timedelta(days=30))
    fringe = hold(app, e2a, 10_000, "f1", "fringe_purchase")
    app.capture(e2a, fringe, cmd.Capture(request_id="fc1"))
    for employee, delegate in [("e1", "carer-7"), ("e2", "carer-7"), ("e2", "carer-8")]:
        app.name_delegate(employee, cmd.NameDelegate(delegate_id=delegate))
    app.name_delegate("e2", cmd.NameDelegate(delegate_id="carer-7"))
    app.name_delegate("e4", cmd.NameDelegate(delegate_id="carer-7"))
    app.revoke_delegate("e4")
    csv = f"employee_id,fiscal_code,dependent_children\ne5,{person(5)},no\n"
    app.load_csv(a, csv, "payroll-1")
    app.close_plan(b, cmd.ClosePlan(next_plan_id=str(c)), today=date(2026, 1, 1))
    return {"a": a, "b": b, "c": c, "e1a": e1a, "e1b": e1b}


# --- the answers of the old log scans, kept here as the reference ---------------------------------


def scanned_plans(app: WalletApplication, employer_id: str | None) -> list[UUID]:
    return [
        e.originator_id
        for e in app.events_of(Plan.Created)
        if employer_id is None or e.employer_id == employer_id
    ]


def scanned_wallets_of(app: WalletApplication, employee_id: str) -> list[UUID]:
    return [e.originator_id for e in app.events_of(Wallet.Opened) if e.employee_id == employee_id]


def scanned_delegated(app: WalletApplication, delegate_id: str) -> list[UUID]:
    from wallet.domain.family import Family

    employees = dict.fromkeys(
        e.employee_id for e in app.events_of(Family.DelegateNamed) if e.delegate_id == delegate_id
    )
    found: list[UUID] = []
    for employee_id in employees:
        family = app.get_family(employee_id)
        if family is not None and family.is_delegate(delegate_id):
            found.extend(scanned_wallets_of(app, employee_id))
    return found


def scanned_captures(app: WalletApplication, provider_id: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "captured" if isinstance(e, Wallet.HoldCaptured) else "refunded",
            "wallet_id": str(e.originator_id),
            "hold_id": str(e.hold_id),
            "category": e.category,
            "amount_cents": e.amount_cents,
            "at": e.timestamp,
        }
        for e in app.events_of(Wallet.HoldCaptured, Wallet.Refunded)
        if e.provider_id == provider_id
    ]


def scanned_history(app: WalletApplication, wallet_id: UUID) -> list[dict[str, Any]]:
    wallet = app.get_wallet(wallet_id)
    prefix = f"wallet:{wallet.plan_id}:{wallet.employee_id}:"

    def inside(account: str) -> bool:
        return account.startswith(prefix) or (
            account.startswith("hold:") and account[5:] in wallet.holds
        )

    running = held = 0
    lines = []
    events: list[Any] = list(app.events.get(wallet_id))
    for e in events:
        delta = 0
        for t in e.transfers:
            if inside(t["to_account"]) and not inside(t["from_account"]):
                delta += t["amount_cents"]
            elif inside(t["from_account"]) and not inside(t["to_account"]):
                delta -= t["amount_cents"]
            for account, sign in ((t["to_account"], 1), (t["from_account"], -1)):
                if account.startswith("hold:") and account[5:] in wallet.holds:
                    held += sign * t["amount_cents"]
        running += delta
        lines.append(
            {
                "sequence": e.originator_version,
                "type": type(e).__name__,
                "at": e.timestamp,
                "amount_cents": delta,
                "balance_cents": running,
                "held_cents": held,
                "available_cents": running - held,
                "hold_id": str(getattr(e, "hold_id", "")) or None,
                "category": getattr(e, "category", None),
            }
        )
    return lines


def answers(app: WalletApplication, ids: dict[str, UUID]) -> dict[str, Any]:
    rm = app.fresh_read_model()
    return {
        "plans": views.plans_of(rm, None),
        "plans of globex": views.plans_of(rm, "globex"),
        "wallets of e1": views.wallets_of_employee(rm, "e1"),
        "wallets of plan a": views.wallets_of_plan(rm, ids["a"]),
        "delegated to carer-7": views.wallets_delegated_to(rm, "carer-7"),
        "delegated to carer-8": views.wallets_delegated_to(rm, "carer-8"),
        "captures": views.captures_for(rm, "coop-1"),
        "history e1a": views.history(rm, ids["e1a"]),
        "history e1b": views.history(rm, ids["e1b"]),
        "fringe employees": views.employees_with_fringe(rm, None, 2025),
        "loads": views.loads_of(rm, ids["a"]),
        "holds due": views.wallets_with_holds_due(rm, NOW + timedelta(days=2)),
    }


def test_the_read_model_answers_as_the_log_scans_did_and_again_once_rebuilt(
    app: WalletApplication,
) -> None:
    ids = busy(app)
    got = answers(app, ids)
    plan_a = app.get_plan(ids["a"])
    assert got == {
        "plans": scanned_plans(app, None),
        "plans of globex": scanned_plans(app, "globex"),
        "wallets of e1": scanned_wallets_of(app, "e1"),
        "wallets of plan a": [w.id for w in app.wallets_of_plan(plan_a)],
        "delegated to carer-7": scanned_delegated(app, "carer-7"),
        "delegated to carer-8": scanned_delegated(app, "carer-8"),
        "captures": scanned_captures(app, "coop-1"),
        "history e1a": scanned_history(app, ids["e1a"]),
        "history e1b": scanned_history(app, ids["e1b"]),
        "fringe employees": ["e2"],
        "loads": [
            app.get_aggregate(e.originator_id, EmployeeLoad, "load").summary()
            for e in app.events_of(EmployeeLoad.Recorded)
        ],
        "holds due": [ids["e1a"]],
    }
    # Not trivially equal: every list has something in it, in an order that matters.
    assert len(got["wallets of e1"]) == 3 and len(got["plans"]) == 3
    assert (
        len(got["delegated to carer-7"]) == 4
    )  # e1's three, e2's one and got["delegated to carer-8"] == []
    assert [c["type"] for c in got["captures"]] == ["captured", "refunded", "captured"]
    assert got["history e1b"][-1]["type"] == "CreditCarriedOver"
    assert app.fringe_year("e2", 2025) is not None
    assert views.load_named(app.read_model, ids["a"], "payroll-1") is not None
    assert [h["status"] for h in views.holds_of(app.read_model, ids["e1a"])] == [
        "captured",
        "released",
        "held",
        "held",
    ]
    events = app.recorder.max_notification_id()
    assert app.rebuild_read_models() == events
    assert answers(app, ids) == got


def test_a_query_sees_the_writes_made_before_it_by_this_application_or_another(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False, "e2": False})
    assert app.wallets_of_employee("e1") == []
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    assert [w.id for w in app.wallets_of_employee("e1")] == [wallet_id]
    other = WalletApplication(app.settings)  # another process on the same store
    try:
        other_wallet = other.grant(plan_id, cmd.Grant(employee_id="e2"))
        app.name_delegate("e2", cmd.NameDelegate(delegate_id="carer-1"))
        assert [w.id for w in other.wallets_delegated_to("carer-1")] == [other_wallet]
    finally:
        other.close()
    assert [w.id for w in app.wallets_of_employee("e2")] == [other_wallet]


def test_the_read_model_catches_up_on_start_from_where_it_stopped(tmp_path: Path) -> None:
    settings = WalletSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    first = WalletApplication(settings)
    plan_id = make_plan(first, employees={"e1": False})
    first.catch_up_read_models()
    projected = first.read_model.position()
    first.grant(plan_id, cmd.Grant(employee_id="e1"))  # stored, not yet projected
    first.close()
    again = WalletApplication(settings)
    try:
        assert again.read_model.position() == projected
        assert again.catch_up_read_models() == again.last_notification_id() - projected
        assert views.wallets_of_employee(again.read_model, "e1") == [
            next(iter(scanned_wallets_of(again, "e1")))
        ]
        assert again.catch_up_read_models() == 0
    finally:
        again.close()


def test_the_jobs_find_their_work_in_the_read_model(app: WalletApplication) -> None:
    plan_id = make_plan(app, employees={"e1": False, "e2": False})
    w1 = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    app.grant(plan_id, cmd.Grant(employee_id="e2"))
    hold(app, w1, 1_000, "soon", expires=NOW + timedelta(hours=1))
    hold(app, w1, 2_000, "later", expires=NOW + timedelta(days=2))
    assert views.wallets_with_holds_due(app.fresh_read_model(), NOW) == []
    assert app.expire_holds(NOW + timedelta(hours=2)) == 1_000
    assert views.wallets_with_holds_due(app.fresh_read_model(), NOW + timedelta(hours=2)) == []
    assert app.expire_holds(NOW + timedelta(days=3)) == 2_000
    # Reminders: only wallets with credit, in plans ending within 30 days, not yet reminded.
    end = date(2025, 12, 31)
    assert views.wallets_to_remind(app.fresh_read_model(), end - timedelta(days=31)) == []
    assert len(views.wallets_to_remind(app.fresh_read_model(), end - timedelta(days=30))) == 2
    assert app.remind_expiring_credit(NOW.replace(month=12, day=1)) == 2
    assert views.wallets_to_remind(app.fresh_read_model(), end - timedelta(days=20)) == []
    assert len(views.wallets_to_remind(app.fresh_read_model(), end - timedelta(days=7))) == 2


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = WalletSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        yield Api(client, DevIssuer(settings.territory, settings.keys_dir))


def test_long_lists_come_in_pages_over_http(api: Api) -> None:
    year = datetime.now(UTC).year
    created = [
        api.call("POST", "/plans", "employer", "acme", json=plan_body(year)).json()["plan_id"]
        for _ in range(3)
    ]
    listed = api.call("GET", "/plans", "employer", "acme").json()
    assert [p["plan_id"] for p in listed] == created
    page = api.call("GET", "/plans?offset=1&limit=1", "employer", "acme").json()
    assert [p["plan_id"] for p in page] == created[1:2]
    assert api.call("GET", "/plans?limit=0", "employer", "acme").status_code == 422
    assert api.call("GET", "/plans?limit=1001", "employer", "acme").status_code == 422
    # An offset past SQLite's integers was a 500 (found by schemathesis): now a 422.
    huge = api.call("GET", "/plans?offset=12737173165067730944", "employer", "acme")
    assert huge.status_code == 422 and huge.json()["code"] == "validation_failed"
