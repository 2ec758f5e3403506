"""The vouchers HTTP API, driven as its users drive it: a full round over HTTP, then who may do
what. The app is the one the kit builds (no Kafka: workers off), on a temporary store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.italian_ids import fiscal_code_check_character, vat_number_check_digit
from servicekit.service import ServiceRuntime
from vouchers.service import DEFINITION
from vouchers.settings import VouchersSettings

BIELLA = "096004"
ROSSI = "RSSMRA85T10A562S"
BIANCHI = "BNCLRA92M45L21VS"
BIANCHI_CHILD = "MRTMTT25D09F205Z"
VERDI = "VRDGPP80A01A859" + fiscal_code_check_character("VRDGPP80A01A859")
SHOP_VAT = "06363391001"
BAKERY_VAT = "0123456096" + vat_number_check_digit("0123456096")


ROME = ZoneInfo("Europe/Rome")


@dataclass
class Api:
    client: TestClient
    issuer: DevIssuer

    def headers(self, role: str, subject_id: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.mint(role, subject_id)}"}

    def post(self, path: str, role: str, subject_id: str | None = None, **kw: Any) -> Any:
        return self.client.post(path, headers=self.headers(role, subject_id), **kw)

    def get(self, path: str, role: str, subject_id: str | None = None, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(role, subject_id), **kw)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = VouchersSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        yield Api(client, DevIssuer(settings.territory, settings.keys_dir))


def person(fiscal_code: str, first: str, last: str, minor: bool = False) -> dict[str, Any]:
    return {"fiscal_code": fiscal_code, "first_name": first, "last_name": last, "minor": minor}


def application(
    round_id: str, applicant: dict[str, Any], isee_cents: int, *others: dict[str, Any]
) -> dict[str, Any]:
    return {
        "round_id": round_id,
        "applicant": applicant,
        "other_members": list(others),
        "address": "Via Italia 10, 13900 Biella",
        "isee_cents": isee_cents,
        "other_public_support": False,
        "self_declaration": True,
    }


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


@dataclass
class Round:
    fund_id: str
    round_id: str
    applications: dict[str, str] = field(default_factory=dict)  # beneficiary -> application


def open_round(api: Api, budget_cents: int = 12_000) -> Round:
    """A State fund with a donation, and a round whose budget cannot serve everyone."""
    fund_id = created(
        api.post(
            "/funds",
            "operator",
            json={
                "municipality_istat": BIELLA,
                "source_kind": "state_transfer",
                "source_reference": "OCDPC 658/2020",
                "amount_cents": 100_000,
            },
        )
    )["fund_id"]
    ok(
        api.post(
            f"/funds/{fund_id}/top-ups",
            "operator",
            json={
                "source_kind": "donation",
                "source_reference": "Fondazione Cassa di Risparmio di Biella",
                "amount_cents": 20_000,
            },
        )
    )
    now = datetime.now(UTC)
    round_id = created(
        api.post(
            "/rounds",
            "operator",
            json={
                "fund_id": fund_id,
                "title": "Buoni spesa — Biella",
                "opens_at": (now - timedelta(hours=1)).isoformat(),
                "closes_at": (now + timedelta(days=30)).isoformat(),
                "budget_cents": budget_cents,
                "rules": {
                    "base_cents": 5_000,
                    "per_extra_member_cents": 2_500,
                    "per_minor_cents": 2_500,
                    "cap_cents": 15_000,
                    "isee_threshold_cents": 1_200_000,
                },
            },
        )
    )["round_id"]
    return Round(fund_id, round_id)


def reviewed_and_issued(api: Api) -> Round:
    """Three households apply; two are approved, one rejected; the budget serves the neediest
    (Bianchi, 100 EUR) and waitlists Rossi (50 EUR); two shops join."""
    r = open_round(api)
    for beneficiary, body in {
        "b-rossi": application(r.round_id, person(ROSSI, "Mario", "Rossi"), 450_000),
        "b-bianchi": application(
            r.round_id,
            person(BIANCHI, "Clara", "Bianchi"),
            300_000,
            person(BIANCHI_CHILD, "Matteo", "Bianchi", minor=True),
        ),
        "b-verdi": application(r.round_id, person(VERDI, "Giuseppe", "Verdi"), 2_000_000),
    }.items():
        response = api.post("/applications", "beneficiary", beneficiary, json=body)
        r.applications[beneficiary] = created(response)["application_id"]
    for beneficiary in ("b-rossi", "b-bianchi"):
        ok(api.post(f"/applications/{r.applications[beneficiary]}/approve", "social_worker"))
    rejected = ok(
        api.post(
            f"/applications/{r.applications['b-verdi']}/reject",
            "social_worker",
            json={"reason_code": "isee_above_threshold", "reason": "ISEE above 12,000 EUR"},
        )
    )
    assert rejected["status"] == "rejected"
    assert rejected["rejection_reason"] == "ISEE above 12,000 EUR"
    assert ok(api.post(f"/rounds/{r.round_id}/issue", "operator")) == {
        "served": 1,
        "waitlisted": 1,
    }
    for merchant_id, vat, goods in (
        ("m-alimentari", SHOP_VAT, ["food", "hygiene"]),
        ("m-panificio", BAKERY_VAT, ["food"]),
    ):
        created(
            api.post(
                f"/rounds/{r.round_id}/merchants",
                "operator",
                json={"merchant_id": merchant_id, "vat_number": vat, "goods_categories": goods},
            )
        )
    return r


def first_code(api: Api, beneficiary: str) -> str:
    vouchers = ok(api.get("/vouchers/mine", "beneficiary", beneficiary))
    code: str = vouchers[0]["code"]
    return code


def redeem(api: Api, code: str, amount: int, request_id: str, goods: str = "food") -> Any:
    return api.post(
        "/merchants/m-alimentari/redemptions",
        "merchant",
        "m-alimentari",
        json={
            "code": code,
            "amount_cents": amount,
            "goods_category": goods,
            "request_id": request_id,
        },
    )


# --- the story --------------------------------------------------------------------------------


def test_a_round_runs_from_fund_to_paid_claim_over_http_and_the_figures_add_up(api: Api) -> None:
    r = reviewed_and_issued(api)

    ranking = ok(api.get(f"/rounds/{r.round_id}/ranking", "auditor"))
    assert [(a["application_id"], a["status"]) for a in ranking] == [
        (r.applications["b-rossi"], "waitlisted")
    ]
    statuses = {
        a["application_id"]: a["status"]
        for a in ok(api.get(f"/rounds/{r.round_id}/applications", "operator"))
    }
    assert statuses == {
        r.applications["b-bianchi"]: "served",
        r.applications["b-rossi"]: "waitlisted",
        r.applications["b-verdi"]: "rejected",
    }

    mine = ok(api.get("/vouchers/mine", "beneficiary", "b-bianchi"))
    assert sorted(v["value_cents"] for v in mine) == [5_000, 5_000]
    assert all(v["held_as"] == "holder" and v["spendable"] for v in mine)
    code = mine[0]["code"]

    first = created(redeem(api, code, 1_800, "till-1-0001"))
    assert first["remaining_cents"] == 3_200
    retried = created(redeem(api, code, 1_800, "till-1-0001"))
    assert retried["redemption_id"] == first["redemption_id"]
    assert retried["remaining_cents"] == 3_200  # spent once

    wine = redeem(api, code, 900, "till-1-0002", goods="alcohol")
    assert wine.status_code == 422
    assert wine.json()["code"] == "excluded_goods"
    too_much = redeem(api, code, 4_000, "till-1-0003")
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "insufficient_balance"
    assert too_much.json()["remaining_cents"] == 3_200

    mistake = created(redeem(api, code, 700, "till-1-0004"))
    voided = ok(
        api.post(
            "/merchants/m-alimentari/voids",
            "merchant",
            "m-alimentari",
            json={"code": code, "redemption_id": mistake["redemption_id"]},
        )
    )
    assert voided["remaining_cents"] == 3_200

    statement = ok(api.get(f"/vouchers/{code.lower()}", "beneficiary", "b-bianchi"))
    assert statement["remaining_cents"] == 3_200
    assert [(h["kind"], h["amount_cents"], h["balance_cents"]) for h in statement["history"]] == [
        ("issued", 5_000, 5_000),
        ("redeemed", 1_800, 3_200),
        ("redeemed", 700, 2_500),
        ("voided", 700, 3_200),
    ]

    today = datetime.now(ROME).date()  # claim periods are Biella's calendar days
    claim = created(
        api.post(
            f"/merchants/m-alimentari/rounds/{r.round_id}/claims",
            "merchant",
            "m-alimentari",
            json={"period_from": str(today - timedelta(days=7)), "period_to": str(today)},
        )
    )
    assert (claim["amount_cents"], claim["status"]) == (1_800, "claimed")
    claim_path = f"/rounds/{r.round_id}/merchants/m-alimentari/claims/{claim['claim_id']}"
    due = str(today + timedelta(days=30))
    approved = ok(api.post(f"{claim_path}/approve", "operator", json={"payment_due_on": due}))
    assert (approved["status"], approved["payment_due_on"]) == ("approved", due)
    paid = ok(api.post(f"{claim_path}/pay", "operator", json={"payment_reference": "CRO 4471"}))
    assert (paid["status"], paid["payment_reference"]) == ("paid", "CRO 4471")

    account = ok(
        api.get(f"/merchants/m-alimentari/rounds/{r.round_id}", "merchant", "m-alimentari")
    )
    assert account["redeemed_cents"] == account["reimbursed_cents"] == 1_800
    assert account["unclaimed_cents"] == 0
    assert [(c["status"], c["payment_due_on"]) for c in account["claims"]] == [("paid", due)]

    figures = ok(api.get(f"/funds/{r.fund_id}", "auditor"))
    assert figures["allocated_cents"] == sum(s["amount_cents"] for s in figures["sources"])
    assert figures == {
        "fund_id": r.fund_id,
        "municipality_istat": BIELLA,
        "allocated_cents": 120_000,
        "assigned_to_rounds_cents": 12_000,
        "issued_cents": 10_000,
        "redeemed_cents": 1_800,
        "reimbursed_cents": 1_800,
        "returned_cents": 0,
        "available_cents": 110_000,
        "sources": [
            {"kind": "state_transfer", "reference": "OCDPC 658/2020", "amount_cents": 100_000},
            {
                "kind": "donation",
                "reference": "Fondazione Cassa di Risparmio di Biella",
                "amount_cents": 20_000,
            },
        ],
        "round_ids": [r.round_id],
    }
    spending = ok(api.get(f"/municipalities/{BIELLA}/spending", "auditor"))
    assert spending["by_merchant"] == {"m-alimentari": 1_800}
    assert spending["total_cents"] == 1_800


def test_revoking_a_household_returns_its_unspent_value_and_the_waitlist_is_served(
    api: Api,
) -> None:
    r = reviewed_and_issued(api)
    created(redeem(api, first_code(api, "b-bianchi"), 1_000, "till-9"))
    revoked = ok(
        api.post(
            f"/applications/{r.applications['b-bianchi']}/revoke",
            "social_worker",
            json={"reason_code": "false_declaration"},
        )
    )
    assert revoked["returned_cents"] == 9_000
    # The waiting household was served with the money returned, without an operator: an issue
    # now finds nobody left to serve.
    assert ok(api.post(f"/rounds/{r.round_id}/issue", "operator")) == {
        "served": 0,
        "waitlisted": 0,
    }
    assert [v["value_cents"] for v in ok(api.get("/vouchers/mine", "beneficiary", "b-rossi"))] == [
        5_000
    ]
    round_ = ok(api.get(f"/rounds/{r.round_id}", "beneficiary", "b-rossi"))
    assert (round_["issued_cents"], round_["returned_cents"]) == (15_000, 9_000)


def test_a_delegate_sees_the_voucher_and_its_code_once_named_by_the_holder(api: Api) -> None:
    reviewed_and_issued(api)
    voucher = ok(api.get("/vouchers/mine", "beneficiary", "b-bianchi"))[0]
    ok(
        api.post(
            f"/vouchers/{voucher['voucher_id']}/delegate",
            "beneficiary",
            "b-bianchi",
            json={"delegate_id": "b-caregiver"},
        )
    )
    delegated = ok(api.get("/vouchers/mine", "beneficiary", "b-caregiver"))
    assert [(v["code"], v["held_as"]) for v in delegated] == [(voucher["code"], "delegate")]
    ok(api.get(f"/vouchers/{voucher['code']}", "beneficiary", "b-caregiver"))


def test_only_social_workers_and_the_applicant_see_personal_data_until_it_is_erased(
    api: Api,
) -> None:
    r = reviewed_and_issued(api)
    path = f"/applications/{r.applications['b-bianchi']}"
    seen = ok(api.get(path, "social_worker"))
    assert [m["fiscal_code"] for m in seen["personal_data"]["members"]] == [BIANCHI, BIANCHI_CHILD]
    assert ok(api.get(path, "beneficiary", "b-bianchi"))["personal_data"] is not None
    assert ok(api.get(path, "auditor"))["personal_data"] is None
    listed = ok(api.get(f"/rounds/{r.round_id}/applications?status=served", "auditor"))
    assert [a["personal_data"] for a in listed] == [None]

    erased = api.client.delete(
        f"/households/{seen['household_id']}/personal-data",
        headers=api.headers("social_worker"),
    )
    assert ok(erased)["erased"] is True
    after = ok(api.get(path, "social_worker"))
    assert (after["personal_data"], after["personal_data_erased"]) == (None, True)
    assert after["status"] == "served"  # the ledger stays
    assert ok(api.get("/vouchers/mine", "beneficiary", "b-bianchi")) == []  # codes gone too


def test_erasing_a_pending_households_data_is_refused_until_it_is_rejected(
    api: Api,
) -> None:
    r = reviewed_and_issued(api)
    rossi = ok(api.get(f"/applications/{r.applications['b-rossi']}", "social_worker"))
    erase = f"/households/{rossi['household_id']}/personal-data"
    refused = api.client.delete(erase, headers=api.headers("social_worker"))
    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_transition")
    # Nothing changed: the household's data is still readable.
    again = ok(api.get(f"/applications/{r.applications['b-rossi']}", "social_worker"))
    assert again["personal_data"] == rossi["personal_data"]
    ok(
        api.post(
            f"/applications/{r.applications['b-rossi']}/reject",
            "social_worker",
            json={"reason_code": "data_erased", "reason": "Erased on request"},
        )
    )
    ok(api.client.delete(erase, headers=api.headers("social_worker")))
    after = ok(api.get(f"/applications/{r.applications['b-rossi']}", "social_worker"))
    assert after["personal_data"] is None
    assert ok(api.post(f"/rounds/{r.round_id}/issue", "operator")) == {
        "served": 0,
        "waitlisted": 0,
    }


def test_a_second_application_naming_a_member_of_the_household_is_refused_with_409(
    api: Api,
) -> None:
    r = open_round(api)
    body = application(r.round_id, person(ROSSI, "Mario", "Rossi"), 450_000)
    created(api.post("/applications", "beneficiary", "b-rossi", json=body))
    again = api.post(
        "/applications",
        "beneficiary",
        "b-other",
        json=application(
            r.round_id, person(VERDI, "Giuseppe", "Verdi"), 1, person(ROSSI, "Mario", "Rossi")
        ),
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_applied"


# --- bad input gets a clear 4xx ---------------------------------------------------------------


def test_a_mistyped_voucher_code_is_answered_422_saying_so(api: Api) -> None:
    r = reviewed_and_issued(api)
    code = first_code(api, "b-bianchi")
    typo = code[:-1] + ("A" if code[-1] != "A" else "B")
    response = api.get(f"/vouchers/{typo}", "operator")
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["detail"]) == (
        "invalid_voucher_code",
        "the voucher code is mistyped (its check character differs)",
    )
    assert redeem(api, "0000-0000-0000-0000-X", 100, "t").json()["code"] == ("invalid_voucher_code")
    assert ok(api.get(f"/funds/{r.fund_id}", "operator"))["redeemed_cents"] == 0


def test_an_unknown_voucher_is_404_and_an_ill_formed_id_in_a_body_is_422(api: Api) -> None:
    r = reviewed_and_issued(api)
    from vouchers.domain.codes import new_code

    assert api.get(f"/vouchers/{new_code()}", "operator").status_code == 404
    response = api.post(
        "/merchants/m-alimentari/voids",
        "merchant",
        "m-alimentari",
        json={"code": first_code(api, "b-bianchi"), "redemption_id": "not-an-id"},
    )
    assert response.status_code == 422
    assert "redemption_id" in response.json()["detail"]
    bad_round = api.post(
        "/applications",
        "beneficiary",
        "b-x",
        json=application("round-1", person(ROSSI, "Mario", "Rossi"), 1),
    )
    assert (bad_round.status_code, bad_round.json()["code"]) == (422, "invalid_input")
    assert api.get(f"/rounds/{r.fund_id}", "operator").status_code == 404


def test_a_wrong_fiscal_code_or_vat_number_is_refused_by_validation(api: Api) -> None:
    r = open_round(api)
    wrong = application(r.round_id, person(ROSSI[:-1] + "T", "Mario", "Rossi"), 1)
    response = api.post("/applications", "beneficiary", "b-rossi", json=wrong)
    assert response.status_code == 422
    assert "check character" in response.text
    shop = api.post(
        f"/rounds/{r.round_id}/merchants",
        "operator",
        json={"merchant_id": "m-x", "vat_number": "06363391002", "goods_categories": ["food"]},
    )
    assert shop.status_code == 422


def test_approving_a_household_above_the_isee_threshold_is_refused_and_changes_nothing(
    api: Api,
) -> None:
    r = open_round(api)
    body = application(r.round_id, person(VERDI, "Giuseppe", "Verdi"), 2_000_000)
    application_id = created(api.post("/applications", "beneficiary", "b-verdi", json=body))[
        "application_id"
    ]
    response = api.post(f"/applications/{application_id}/approve", "social_worker")
    assert (response.status_code, response.json()["code"]) == (422, "not_eligible")
    assert ok(api.get(f"/applications/{application_id}", "operator"))["status"] == "submitted"


# --- who may do what --------------------------------------------------------------------------


def test_a_merchant_cannot_redeem_for_another_merchant(api: Api) -> None:
    reviewed_and_issued(api)
    response = api.post(
        "/merchants/m-alimentari/redemptions",
        "merchant",
        "m-panificio",
        json={
            "code": first_code(api, "b-bianchi"),
            "amount_cents": 100,
            "goods_category": "food",
            "request_id": "r1",
        },
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_subject"


def test_a_merchant_cannot_read_another_merchants_account(api: Api) -> None:
    r = reviewed_and_issued(api)
    response = api.get(f"/merchants/m-alimentari/rounds/{r.round_id}", "merchant", "m-panificio")
    assert response.status_code == 403


def test_a_shop_outside_the_round_cannot_read_a_voucher_and_a_shop_inside_sees_only_its_own(
    api: Api,
) -> None:
    reviewed_and_issued(api)
    code = first_code(api, "b-bianchi")
    created(redeem(api, code, 500, "till-1"))
    assert api.get(f"/vouchers/{code}", "merchant", "m-elsewhere").status_code == 403
    seen = ok(api.get(f"/vouchers/{code}", "merchant", "m-panificio"))
    assert seen["remaining_cents"] == 4_500
    assert (seen["holder"], [h["kind"] for h in seen["history"]]) == (None, ["issued"])


def test_the_auditor_reads_everything_but_changes_nothing(api: Api) -> None:
    r = reviewed_and_issued(api)
    for path in (
        "/funds",
        f"/funds/{r.fund_id}",
        f"/rounds/{r.round_id}",
        f"/rounds/{r.round_id}/applications",
        f"/rounds/{r.round_id}/ranking",
        f"/rounds/{r.round_id}/merchants",
        f"/merchants/m-alimentari/rounds/{r.round_id}",
        f"/vouchers/{first_code(api, 'b-bianchi')}",
        f"/municipalities/{BIELLA}/spending",
    ):
        ok(api.get(path, "auditor"))
    for path, body in (
        ("/funds", {}),
        (f"/rounds/{r.round_id}/issue", None),
        (f"/rounds/{r.round_id}/close", None),
        (f"/applications/{r.applications['b-rossi']}/approve", None),
    ):
        response = api.post(path, "auditor", json=body)
        assert response.status_code == 403, path
        assert response.json()["code"] == "forbidden_role"


def test_a_beneficiary_cannot_read_another_households_application_or_voucher(api: Api) -> None:
    r = reviewed_and_issued(api)
    application_path = f"/applications/{r.applications['b-bianchi']}"
    assert api.get(application_path, "beneficiary", "b-rossi").status_code == 403
    code = first_code(api, "b-bianchi")
    assert api.get(f"/vouchers/{code}", "beneficiary", "b-rossi").status_code == 403
    voucher_id = ok(api.get("/vouchers/mine", "beneficiary", "b-bianchi"))[0]["voucher_id"]
    delegate = api.post(
        f"/vouchers/{voucher_id}/delegate",
        "beneficiary",
        "b-rossi",
        json={"delegate_id": "b-rossi-friend"},
    )
    assert delegate.status_code == 403


def test_beneficiaries_cannot_review_and_social_workers_cannot_apply(api: Api) -> None:
    r = reviewed_and_issued(api)
    own = f"/applications/{r.applications['b-rossi']}/approve"
    assert api.post(own, "beneficiary", "b-rossi").status_code == 403
    body = application(r.round_id, person(ROSSI, "Mario", "Rossi"), 1)
    assert api.post("/applications", "social_worker", json=body).status_code == 403


def test_an_anonymous_caller_is_answered_401(api: Api) -> None:
    for method, path in (("GET", "/funds"), ("POST", "/funds"), ("GET", "/vouchers/mine")):
        response = api.client.request(method, path)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == "Bearer"
    forged = api.client.get("/funds", headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401


def test_the_auditor_reads_the_figures_where_its_replay_ended_not_the_live_ones(api: Api) -> None:
    r = reviewed_and_issued(api)
    live = ok(api.get(f"/funds/{r.fund_id}", "auditor"))

    def upto(notification_id: int) -> Any:
        return api.get("/audit/figures", "auditor", params={"upto": notification_id})

    points = []
    for n in range(0, 1_000):  # every point of the ledger, up to where the store ends
        answer = upto(n)
        if answer.status_code == 409:
            break
        points.append(ok(answer)["funds"])
    allocations = [f[0]["allocated_cents"] for f in points if f]

    assert points[0] == []  # nothing read, nothing reported
    # The State's transfer alone, then the donation too, as the ledger went on.
    assert allocations[0] == 100_000 and allocations[-1] == 120_000
    assert sorted(allocations) == allocations
    (first,) = next(f for f in points if f)
    assert (first["issued_cents"], first["available_cents"]) == (0, 100_000)
    assert live["allocated_cents"] == 120_000 and live["issued_cents"] == 10_000
    (now,) = points[-1]  # where the store ends: the live figures
    assert (now["allocated_cents"], now["issued_cents"]) == (120_000, 10_000)


def test_figures_beyond_the_services_store_are_refused_409_and_bad_points_422(api: Api) -> None:
    reviewed_and_issued(api)

    def upto(notification_id: Any, role: str = "auditor") -> Any:
        return api.get("/audit/figures", role, params={"upto": notification_id})

    behind = upto(10**9)
    assert behind.status_code == 409 and behind.json()["code"] == "ledger_behind"
    assert "the store lacks events the auditor read" in behind.json()["detail"]
    for bad in (-1, "x", 2**63):
        assert upto(bad).status_code == 422, bad
    assert upto(1, role="operator").status_code == 403
