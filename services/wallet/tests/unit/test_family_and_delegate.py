"""An employee's family members may be the beneficiaries of what the credit pays for (childcare
for a child, elderly care for a parent), and the employee's delegate (a caregiver) may hold and
spend with their own token until revoked; nobody else may. The changes are public, hash-chained
events that move no money."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from benecomune_contracts import wallet as c
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.service import ServiceRuntime
from wallet.adapters.contract_mapping import to_contract
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.domain.errors import InvalidTransition, NotDelegate, NotEligible, RequestMismatch
from wallet.domain.family import Family
from wallet.service import DEFINITION
from wallet.settings import WalletSettings

from .ledger_check import assert_ledger_sound
from .test_http_api import GOOD_CODE, Api, plan_body
from .test_wallet_flows import hold, make_plan

# --- the application --------------------------------------------------------------------------


def test_a_family_member_is_the_beneficiary_of_an_elderly_care_hold(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    app.name_family_member("e1", "mother-1", cmd.NameFamilyMember(relationship="parent"))
    hold_id = hold(app, wallet_id, 18_800, "home-care", "elderly_care", member="mother-1")
    held = app.get_wallet(wallet_id).holds[str(hold_id)]
    assert (held["member_id"], held["category"], held["amount"]) == (
        "mother-1",
        "elderly_care",
        18_800,
    )
    # The same request again holds once; reused for someone else, it is refused.
    assert hold(app, wallet_id, 18_800, "home-care", "elderly_care", member="mother-1") == hold_id
    with pytest.raises(RequestMismatch):
        hold(app, wallet_id, 18_800, "home-care", "elderly_care")
    # The public event says whom the booking is for, by the pseudonymous id only.
    [public] = [
        to_contract(e) for e in app.events.get(wallet_id) if type(e).__name__ == "FundsHeld"
    ]
    assert isinstance(public, c.FundsHeld)
    assert (public.member_id, public.delegate_id) == ("mother-1", None)
    assert public.computed_hash() == public.event_hash
    assert_ledger_sound(app)


def test_a_hold_for_someone_who_is_not_a_named_family_member_is_refused(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    with pytest.raises(NotEligible, match="not a family member"):
        hold(app, wallet_id, 10_000, "a", "education_childcare", member="child-1")
    app.name_family_member("e1", "child-1", cmd.NameFamilyMember(relationship="child"))
    hold(app, wallet_id, 10_000, "b", "education_childcare", member="child-1")
    app.remove_family_member("e1", "child-1")
    with pytest.raises(NotEligible, match="not a family member"):
        hold(app, wallet_id, 10_000, "c", "education_childcare", member="child-1")
    wallet = app.get_wallet(wallet_id)
    assert wallet.held_cents == 10_000  # the hold made while they were a member stays
    assert_ledger_sound(app)


def test_family_members_are_pseudonymous_and_named_by_an_employee_with_a_wallet(
    app: WalletApplication,
) -> None:
    with pytest.raises(NotEligible, match="no welfare wallet"):
        app.name_family_member("nobody", "child-1", cmd.NameFamilyMember(relationship="child"))
    plan_id = make_plan(app, employees={"e1": False})
    app.grant(plan_id, cmd.Grant(employee_id="e1"))
    with pytest.raises(InvalidTransition, match="fiscal code"):
        app.name_family_member("e1", GOOD_CODE, cmd.NameFamilyMember(relationship="child"))
    family = app.name_family_member("e1", "son-1", cmd.NameFamilyMember(relationship="child"))
    family = app.name_family_member("e1", "son-1", cmd.NameFamilyMember(relationship="child"))
    assert family.members == {"son-1": "child"}
    assert [type(e).__name__ for e in app.events.get(Family.id_for("e1"))] == [
        "Opened",
        "MemberNamed",
    ]  # naming again changed nothing


def test_the_delegate_holds_for_the_employee_until_revoked(app: WalletApplication) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    with pytest.raises(NotDelegate):
        hold(app, wallet_id, 5_000, "early", delegate="carer-7")
    with pytest.raises(InvalidTransition):
        app.name_delegate("e1", cmd.NameDelegate(delegate_id="e1"))
    app.name_delegate("e1", cmd.NameDelegate(delegate_id="carer-7"))
    hold_id = hold(app, wallet_id, 5_000, "by-carer", delegate="carer-7")
    assert app.get_wallet(wallet_id).holds[str(hold_id)]["delegate_id"] == "carer-7"
    assert [w.id for w in app.wallets_delegated_to("carer-7")] == [wallet_id]
    app.revoke_delegate("e1")
    with pytest.raises(NotDelegate):
        hold(app, wallet_id, 5_000, "after-revocation", delegate="carer-7")
    assert app.wallets_delegated_to("carer-7") == []
    assert app.get_wallet(wallet_id).held_cents == 5_000
    events = [to_contract(e) for e in app.events.get(Family.id_for("e1"))]
    assert [type(e).__name__ for e in events] == [
        "FamilyOpened",
        "DelegateNamed",
        "DelegateRevoked",
    ]
    assert all(isinstance(e, c.WalletLedgerEvent) and e.transfers == [] for e in events)


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = WalletSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        yield Api(client, DevIssuer(settings.territory, settings.keys_dir))


def wallet_of(api: Api, employee: str = "e1") -> str:
    year = datetime.now(UTC).year
    body = {**plan_body(year), "categories": ["services_no_cap", "elderly_care"]}
    plan_id = api.call("POST", "/plans", "employer", "acme", json=body).json()["plan_id"]
    api.call(
        "POST",
        f"/plans/{plan_id}/employees",
        "employer",
        "acme",
        json={"employees": [{"employee_id": employee}]},
    )
    r = api.call(
        "POST", f"/plans/{plan_id}/grants", "employer", "acme", json={"employee_id": employee}
    )
    assert r.status_code == 200, r.text
    wallet_id: str = r.json()["wallet_id"]
    return wallet_id


def spend(request_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "provider_id": "coop-1",
        "category": "elderly_care",
        "amount_cents": 2_350,
        **extra,
    }


def test_the_delegate_spends_with_their_own_token_and_a_stranger_gets_403(api: Api) -> None:
    wallet_id = wallet_of(api)
    r = api.call("PUT", "/me/delegate", "beneficiary", "e1", json={"delegate_id": "carer-7"})
    assert r.status_code == 200, r.text
    assert r.json()["delegate_id"] == "carer-7"
    r = api.call(
        "PUT", "/me/family/members/mother-1", "beneficiary", "e1", json={"relationship": "parent"}
    )
    assert r.status_code == 200, r.text

    path = f"/wallets/{wallet_id}/spend"
    r = api.call(
        "POST", path, "beneficiary", "carer-7", json=spend("visit-1", for_member_id="mother-1")
    )
    assert r.status_code == 201, r.text
    [held] = r.json()["wallet"]["holds"]
    assert (held["status"], held["member_id"], held["delegate_id"]) == (
        "captured",
        "mother-1",
        "carer-7",
    )
    assert api.call("GET", f"/wallets/{wallet_id}", "beneficiary", "carer-7").status_code == 200
    mine = api.call("GET", "/me/delegated-wallets", "beneficiary", "carer-7").json()
    assert [w["wallet_id"] for w in mine] == [wallet_id]

    for stranger in ("someone-else", "mother-1"):
        assert api.call("POST", path, "beneficiary", stranger, json=spend("x")).status_code == 403
        assert api.call("GET", f"/wallets/{wallet_id}", "beneficiary", stranger).status_code == 403
    r = api.call("POST", path, "beneficiary", "e1", json=spend("visit-2", for_member_id="uncle-9"))
    assert r.status_code == 422 and r.json()["code"] == "not_eligible"
    assert api.call("GET", f"/wallets/{wallet_id}", "beneficiary", "e1").json()["total_cents"] == (
        40_000 - 2_350
    )


def test_a_revoked_delegate_is_refused_with_403(api: Api) -> None:
    wallet_id = wallet_of(api)
    api.call("PUT", "/me/delegate", "beneficiary", "e1", json={"delegate_id": "carer-7"})
    hold = {**spend("booking-1"), "expires_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}
    r = api.call("POST", f"/wallets/{wallet_id}/holds", "beneficiary", "carer-7", json=hold)
    assert r.status_code == 201, r.text
    hold_id = r.json()["hold_id"]

    r = api.call("DELETE", "/me/delegate", "beneficiary", "e1")
    assert r.status_code == 200 and r.json()["delegate_id"] is None
    again = {**hold, "request_id": "booking-2"}
    r = api.call("POST", f"/wallets/{wallet_id}/holds", "beneficiary", "carer-7", json=again)
    assert r.status_code == 403, r.text
    release = {"request_id": "cancel-1"}
    path = f"/wallets/{wallet_id}/holds/{hold_id}/release"
    assert api.call("POST", path, "beneficiary", "carer-7", json=release).status_code == 403
    assert (
        api.call(
            "POST", f"/wallets/{wallet_id}/spend", "beneficiary", "carer-7", json=spend("s")
        ).status_code
        == 403
    )
    assert api.call("GET", f"/wallets/{wallet_id}", "beneficiary", "carer-7").status_code == 403
    assert api.call("GET", "/me/delegated-wallets", "beneficiary", "carer-7").json() == []
    # The employee still can; a replaced delegate is refused as a revoked one is.
    assert api.call("POST", path, "beneficiary", "e1", json=release).status_code == 200
    api.call("PUT", "/me/delegate", "beneficiary", "e1", json={"delegate_id": "carer-7"})
    api.call("PUT", "/me/delegate", "beneficiary", "e1", json={"delegate_id": "carer-8"})
    assert (
        api.call(
            "POST", f"/wallets/{wallet_id}/spend", "beneficiary", "carer-7", json=spend("t")
        ).status_code
        == 403
    )
    assert (
        api.call(
            "POST", f"/wallets/{wallet_id}/spend", "beneficiary", "carer-8", json=spend("t")
        ).status_code
        == 201
    )


def test_the_family_is_the_callers_own(api: Api) -> None:
    wallet_of(api)
    r = api.call(
        "PUT", "/me/family/members/child-1", "beneficiary", "e1", json={"relationship": "child"}
    )
    assert r.json() == {
        "employee_id": "e1",
        "members": [{"member_id": "child-1", "relationship": "child"}],
        "delegate_id": None,
    }
    assert api.call("GET", "/me/family", "beneficiary", "e2").json()["members"] == []
    r = api.call(
        "PUT", "/me/family/members/child-2", "beneficiary", "e2", json={"relationship": "child"}
    )
    assert r.status_code == 422  # e2 has no wallet
    r = api.call(
        "PUT", "/me/family/members/child-1", "beneficiary", "e1", json={"relationship": "cousin"}
    )
    assert r.status_code == 422
    assert (
        api.call(
            "PUT", "/me/family/members/child-1", "employer", "acme", json={"relationship": "child"}
        ).status_code
        == 403
    )
    r = api.call("DELETE", "/me/family/members/child-1", "beneficiary", "e1")
    assert r.json()["members"] == []
