"""Issue 15 (hardening), driven as operators, social workers, households and shops drive the
API: typed texts with invisible characters, implausible round dates and rules, a reversed claim
period, a sale over a voucher's balance — each a clear 422 that changes nothing — and the
auditor's report counting applications in their final status."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from benecomune_auditor.store_reader import store_records
from benecomune_auditor.vouchers import audit_vouchers, figures_from_store
from benecomune_contracts import vouchers as c
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.service import ServiceRuntime
from vouchers.adapters.contract_mapping import to_contract
from vouchers.application.app import VouchersApplication
from vouchers.audit_hook import VouchersLedgerStore
from vouchers.domain.household_application import HouseholdApplication
from vouchers.service import DEFINITION
from vouchers.settings import VouchersSettings

from .test_http_api import (
    BIELLA,
    ROSSI,
    Api,
    application,
    created,
    first_code,
    ok,
    open_round,
    person,
    redeem,
    reviewed_and_issued,
)

NUL, BIDI_OVERRIDE = "\x00", "\u202e"


ROME = ZoneInfo("Europe/Rome")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = VouchersSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        yield Api(client, DevIssuer(settings.territory, settings.keys_dir))


def service(api: Api) -> VouchersApplication:
    app = api.client.app.state.application  # type: ignore[attr-defined]
    assert isinstance(app, VouchersApplication)
    return app


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    """The problem details of a refusal, checked for its status and code."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["detail"]
    return body


def round_body(fund_id: str, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "fund_id": fund_id,
        "title": "Buoni spesa — Biella",
        "opens_at": (now - timedelta(hours=1)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
        "budget_cents": 10_000,
        "rules": {
            "base_cents": 5_000,
            "per_extra_member_cents": 2_500,
            "per_minor_cents": 2_500,
            "cap_cents": 15_000,
        },
    }
    body.update(changes)
    return body


# --- C12: text with invisible characters ----------------------------------------------------


@pytest.mark.parametrize("bad", [NUL, "\x07", BIDI_OVERRIDE, "\u2066", "line\nbreak"])
def test_a_fund_source_reference_with_a_control_or_bidi_character_is_refused(
    api: Api, bad: str
) -> None:
    app = service(api)
    before = app.recorder.max_notification_id()
    response = api.post(
        "/funds",
        "operator",
        json={
            "municipality_istat": BIELLA,
            "source_kind": "donation",
            "source_reference": f"Fondazione{bad}CRB",
            "amount_cents": 10_000,
        },
    )
    body = refused(response, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["body.source_reference"]
    bad_char = bad.strip("linebrak")
    assert f"U+{ord(bad_char):04X}" in body["errors"][0]["message"]
    assert "is not allowed" in body["errors"][0]["message"]
    assert app.recorder.max_notification_id() == before


def test_typed_texts_of_rounds_applications_rejections_and_payments_refuse_invisible_characters(
    api: Api,
) -> None:
    r = reviewed_and_issued(api)
    app = service(api)
    before = app.recorder.max_notification_id()

    title = api.post("/rounds", "operator", json=round_body(r.fund_id, title=f"Buoni{NUL}"))
    assert "body.title" in [e["field"] for e in refused(title, 422, "validation_failed")["errors"]]

    spoofed = person(ROSSI, f"Mario{BIDI_OVERRIDE}issoR", "Rossi")
    applied = api.post(
        "/applications", "beneficiary", "b-new", json=application(r.round_id, spoofed, 1)
    )
    fields = [e["field"] for e in refused(applied, 422, "validation_failed")["errors"]]
    assert fields == ["body.applicant.first_name"]

    rossi = r.applications["b-rossi"]
    rejection = api.post(
        f"/applications/{rossi}/reject",
        "social_worker",
        json={"reason_code": "other", "reason": f"see{NUL}file"},
    )
    refused(rejection, 422, "validation_failed")

    top_up = api.post(
        f"/funds/{r.fund_id}/top-ups",
        "operator",
        json={"source_kind": "donation", "source_reference": BIDI_OVERRIDE, "amount_cents": 1},
    )
    refused(top_up, 422, "validation_failed")
    assert app.recorder.max_notification_id() == before  # nothing of it stored

    # A reason may still run over several lines: it is a note, not a name.
    assert ok(
        api.post(
            f"/applications/{rossi}/reject",
            "social_worker",
            json={"reason_code": "other", "reason": "ISEE out of date.\nAsk for a new one."},
        )
    )["rejection_reason"] == ("ISEE out of date.\nAsk for a new one.")


def test_a_payment_reference_with_a_control_character_is_refused_and_the_claim_stays_approved(
    api: Api,
) -> None:
    r = reviewed_and_issued(api)
    created(redeem(api, first_code(api, "b-bianchi"), 1_000, "till-1"))
    today = datetime.now(ROME).date()  # claim periods are Biella's calendar days
    claim = created(
        api.post(
            f"/merchants/m-alimentari/rounds/{r.round_id}/claims",
            "merchant",
            "m-alimentari",
            json={"period_from": str(today), "period_to": str(today)},
        )
    )
    path = f"/rounds/{r.round_id}/merchants/m-alimentari/claims/{claim['claim_id']}"
    due = str(today + timedelta(days=30))
    ok(api.post(f"{path}/approve", "operator", json={"payment_due_on": due}))
    paid = api.post(f"{path}/pay", "operator", json={"payment_reference": f"CRO{NUL}1"})
    refused(paid, 422, "validation_failed")
    account = ok(api.get(f"/merchants/m-alimentari/rounds/{r.round_id}", "operator"))
    assert [c["status"] for c in account["claims"]] == ["approved"]


# --- C12: implausible dates and rules of a round ----------------------------------------------


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"opens_at": "2020-03-30T00:00:00Z", "closes_at": "2020-04-30T00:00:00Z"}, "in the past"),
        ({"opens_at": "2019-12-01T00:00:00+01:00"}, "in the past"),
        ({"opens_at": "9999-01-01T00:00:00Z", "closes_at": "9999-02-01T00:00:00Z"}, "ahead"),
        ({"closes_at": "9999-12-31T00:00:00Z"}, "at most 730 days"),
    ],
)
def test_a_round_with_implausible_dates_is_refused_with_a_clear_message(
    api: Api, changes: dict[str, str], says: str
) -> None:
    r = open_round(api)
    before = ok(api.get(f"/funds/{r.fund_id}", "operator"))
    response = api.post("/rounds", "operator", json=round_body(r.fund_id, **changes))
    body = refused(response, 422, "invalid_date")
    assert says in body["detail"]
    assert "check the year" in body["detail"]
    assert ok(api.get(f"/funds/{r.fund_id}", "operator")) == before


def test_vouchers_valid_for_more_than_two_years_are_refused(api: Api) -> None:
    r = open_round(api)
    response = api.post("/rounds", "operator", json=round_body(r.fund_id, validity_days=3650))
    body = refused(response, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["body.validity_days"]


def test_a_round_whose_cap_is_below_its_base_amount_is_refused_naming_both(api: Api) -> None:
    r = open_round(api)
    rules = {"base_cents": 20_000, "per_extra_member_cents": 0, "per_minor_cents": 0}
    response = api.post(
        "/rounds", "operator", json=round_body(r.fund_id, rules={**rules, "cap_cents": 15_000})
    )
    body = refused(response, 422, "invalid_rules")
    assert "below the base amount" in body["detail"]
    assert (body["cap_cents"], body["base_cents"]) == (15_000, 20_000)


# --- C13: a reversed claim period ---------------------------------------------------------


def test_a_claim_whose_period_ends_before_it_starts_is_a_validation_error_not_a_conflict(
    api: Api,
) -> None:
    r = reviewed_and_issued(api)
    created(redeem(api, first_code(api, "b-bianchi"), 1_000, "till-1"))
    today = datetime.now(ROME).date()  # claim periods are Biella's calendar days
    response = api.post(
        f"/merchants/m-alimentari/rounds/{r.round_id}/claims",
        "merchant",
        "m-alimentari",
        json={"period_from": str(today), "period_to": str(today - timedelta(days=1))},
    )
    body = refused(response, 422, "validation_failed")
    assert "ends before it starts" in body["detail"]
    account = ok(api.get(f"/merchants/m-alimentari/rounds/{r.round_id}", "operator"))
    assert account["claims"] == [] and account["unclaimed_cents"] == 1_000


# --- distinct causes, distinct codes ------------------------------------------------------------


def test_a_sale_over_the_balance_is_insufficient_balance_and_a_revoked_voucher_is_not_spendable(
    api: Api,
) -> None:
    r = reviewed_and_issued(api)
    code = first_code(api, "b-bianchi")
    over = refused(redeem(api, code, 5_001, "till-1"), 422, "insufficient_balance")
    assert (over["remaining_cents"], over["requested_cents"]) == (5_000, 5_001)
    ok(
        api.post(
            f"/applications/{r.applications['b-bianchi']}/revoke",
            "social_worker",
            json={"reason_code": "false_declaration"},
        )
    )
    refused(redeem(api, code, 100, "till-2"), 422, "voucher_not_spendable")


# --- C10: the auditor's report -----------------------------------------------------------------


def test_the_audit_counts_a_household_served_from_the_waitlist_as_issued_once(api: Api) -> None:
    """Bianchi served, Rossi waitlisted, Verdi rejected; Bianchi's vouchers are revoked and the
    money serves Rossi from the waitlist. The report: 2 issued, 1 rejected — not approved 2,
    submitted 3, waitlisted 1, rejected 1."""
    r = reviewed_and_issued(api)
    ok(
        api.post(
            f"/applications/{r.applications['b-bianchi']}/revoke",
            "social_worker",
            json={"reason_code": "false_declaration"},
        )
    )
    rossi = ok(api.get(f"/applications/{r.applications['b-rossi']}", "social_worker"))
    assert rossi["status"] == "served"  # served from the waitlist

    app = service(api)
    result = audit_vouchers(
        store_records(VouchersLedgerStore(app)),
        source="store",
        figures=figures_from_store(VouchersLedgerStore(app)),
    )

    assert result.ok, result.summary_lines()
    [fund] = result.as_dict()["funds"]
    [round_] = fund["rounds"]
    assert round_["applications"] == {"issued": 2, "rejected": 1}
    household = result.tally.households[rossi["household_id"]]
    assert (household.status, household.vouchers) == ("issued", 1)


# --- C16: what the household is told leaves the service, without personal data ---------------


def test_a_served_household_is_published_with_its_count_total_expiry_and_waitlist_origin(
    api: Api,
) -> None:
    r = reviewed_and_issued(api)
    ok(
        api.post(
            f"/applications/{r.applications['b-bianchi']}/revoke",
            "social_worker",
            json={"reason_code": "false_declaration"},
        )
    )
    app = service(api)
    published = [
        item.event
        for item in store_records(VouchersLedgerStore(app))
        if isinstance(getattr(item, "event", None), c.ApplicationServed)
    ]
    by_application = {e.application_id: e for e in published}
    bianchi = by_application[r.applications["b-bianchi"]]
    rossi = by_application[r.applications["b-rossi"]]
    assert (bianchi.voucher_count, bianchi.amount_cents, bianchi.from_waitlist) == (
        2,
        10_000,
        False,
    )
    assert (rossi.voucher_count, rossi.amount_cents, rossi.from_waitlist) == (1, 5_000, True)
    [voucher_id] = app.get_application(UUID(rossi.application_id)).voucher_ids
    voucher = app.get_voucher(UUID(voucher_id))
    assert rossi.expires_at == voucher.expires_at
    fields = set(rossi.model_dump())
    assert not fields & {"applicant", "sealed_codes", "voucher_ids", "codes", "members"}


def test_a_served_event_stored_before_the_figures_existed_still_loads_and_publishes() -> None:
    household_id = uuid4()
    old = HouseholdApplication.Served(  # as stored before 2026-12-07: no amount, expiry, waitlist
        originator_id=uuid4(),
        originator_version=3,
        timestamp=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        correlation_id=None,
        round_id=uuid4(),
        household_id=household_id,
        voucher_ids=[str(uuid4()), str(uuid4())],
        sealed_codes="sealed",
    )
    event = to_contract(old)
    assert isinstance(event, c.ApplicationServed)
    assert (event.voucher_count, event.amount_cents, event.expires_at) == (2, None, None)
    assert event.household_id == str(household_id)
