"""The vouchers read model (adapters/read_model.py) and its queries (application/views.py): they
answer as the aggregates do, a query sees the writes made before it (by this process or
another), a rebuild from the log gives the same answers, pages add up to the whole list."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from vouchers.application import commands as cmd
from vouchers.application import views
from vouchers.application.app import VouchersApplication
from vouchers.domain.round import Round
from vouchers.domain.voucher import Voucher
from vouchers.settings import VouchersSettings

from ..stories import open_round
from .test_domain_rules import NOW, affiliate, apply, person, redeem, void

APPLICATION_FIELDS = [
    "id",
    "round_id",
    "household_id",
    "applicant",
    "status",
    "created_on",
    "members",
    "minors",
    "isee_cents",
    "other_support",
    "entitlement_cents",
    "voucher_values",
    "priority",
    "rank",
    "voucher_ids",
    "sealed_personal_data",
    "sealed_reason",
    "sealed_codes",
]
VOUCHER_FIELDS = [
    "id",
    "round_id",
    "application_id",
    "household_id",
    "holder",
    "value_cents",
    "remaining_cents",
    "status",
    "expires_at",
    "delegate_id",
]


def same(row: Any, aggregate: Any, fields: list[str]) -> None:
    assert {f: getattr(row, f) for f in fields} == {f: getattr(aggregate, f) for f in fields}


def spending_from_the_log(app: VouchersApplication, istat: str) -> dict[str, dict[str, int]]:
    """What the event-scanning report answered (the oracle the read model must match)."""
    rounds = {e.originator_id for e in app.events_of(Round.Opened) if e.municipality_istat == istat}
    by_day: dict[str, int] = {}
    by_merchant: dict[str, int] = {}
    for e in app.events_of(Voucher.Redeemed, Voucher.RedemptionVoided):
        if e.round_id in rounds:
            sign = 1 if isinstance(e, Voucher.Redeemed) else -1
            day = e.timestamp.astimezone(app.territory.zoneinfo).date().isoformat()
            by_day[day] = by_day.get(day, 0) + sign * e.amount_cents
            by_merchant[e.merchant_id] = by_merchant.get(e.merchant_id, 0) + sign * e.amount_cents
    return {"by_day": dict(sorted(by_day.items())), "by_merchant": by_merchant}


def a_busy_round(app: VouchersApplication) -> UUID:
    """Served, waitlisted, rejected and submitted households; spending, a void, a delegate."""
    _, round_id = open_round(app, budget=40_000)
    affiliate(app, round_id, "m-1")
    affiliate(app, round_id, "m-2")
    first = apply(app, round_id, isee=100_000, approve=True, account="b-anna")
    apply(app, round_id, *(person() for _ in range(4)), isee=200_000, approve=True)
    apply(app, round_id, isee=300_000, approve=True, account="b-anna-2")
    rejected = apply(app, round_id, isee=50_000)
    app.reject_application(
        rejected, cmd.RejectApplication(reason_code="incomplete", reason="no ISEE"), "sw"
    )
    apply(app, round_id, isee=10_000)  # still submitted
    assert app.issue_vouchers(round_id, now=NOW) == {"served": 1, "waitlisted": 2}
    codes = app.codes_of(app.get_application(first))
    redeem(app, codes[0], 1_000, merchant_id="m-2")
    sale = redeem(app, codes[0], 2_000, merchant_id="m-1")
    void(app, codes[0], sale, "m-1", NOW + timedelta(minutes=1))
    redeem(app, codes[1], 500, merchant_id="m-1", at=NOW + timedelta(days=1))
    voucher_id = app.voucher_by_code(codes[1]).id
    app.name_delegate(voucher_id, "b-anna", cmd.NameDelegate(delegate_id="b-carer"))
    return round_id


def answers(app: VouchersApplication, round_id: UUID) -> dict[str, Any]:
    model = app.fresh_read_model()
    return {
        "anna": views.applications_of(model, "b-anna"),
        "round": views.applications_in_round(model, round_id),
        "waitlisted": views.applications_in_round(model, round_id, "waitlisted"),
        "ranking": views.ranking(model, round_id),
        "carer": views.vouchers_delegated_to(model, "b-carer"),
        "spending": views.spending(model, "096004"),
        "rounds": views.round_ids_by_opening(model, "096004"),
        "funds": views.fund_ids(model),
        "shops": views.merchant_account_ids(model, round_id=round_id),
    }


@pytest.fixture
def second(tmp_path: Path) -> Iterator[VouchersApplication]:
    """Another process's application on the same store and read model (the conftest's app
    uses the same ``data_dir``)."""
    other = VouchersApplication(VouchersSettings(data_dir=tmp_path))
    yield other
    other.close()
    other.vault.close()


def test_the_read_model_answers_as_the_aggregates_do(app: VouchersApplication) -> None:
    round_id = a_busy_round(app)
    found = answers(app, round_id)
    in_round = found["round"]
    assert len(in_round) == 5
    for row in in_round:
        same(row, app.get_application(row.id), APPLICATION_FIELDS)
    assert [r.id for r in found["anna"]] == [in_round[0].id]
    assert [r.status for r in found["waitlisted"]] == ["waitlisted", "waitlisted"]
    candidates = [app.get_application(r.id) for r in in_round]
    expected = sorted(
        (a for a in candidates if a.status in ("approved", "waitlisted")),
        key=lambda a: (a.priority, a.isee_cents, a.created_on),
    )
    assert [r.id for r in found["ranking"]] == [a.id for a in expected]
    (delegated,) = found["carer"]
    same(delegated, app.get_voucher(delegated.id), VOUCHER_FIELDS)
    served = app.get_application(in_round[0].id)
    rows = views.vouchers(app.fresh_read_model(), (UUID(v) for v in served.voucher_ids))
    for voucher_id, row in rows.items():
        same(row, app.get_voucher(voucher_id), VOUCHER_FIELDS)
    assert found["spending"] == spending_from_the_log(app, "096004")
    assert found["spending"]["by_merchant"] == {"m-2": 1_000, "m-1": 500}
    assert found["rounds"] == [round_id] and len(found["funds"]) == 1
    assert [a.merchant_id for a in app.merchant_accounts(round_id)] == ["m-1", "m-2"]


def test_a_rebuild_from_the_log_gives_the_same_answers(app: VouchersApplication) -> None:
    round_id = a_busy_round(app)
    before = answers(app, round_id)
    last = app.last_notification_id()
    assert app.read_model.position() == last
    assert app.rebuild_read_models() == last
    assert answers(app, round_id) == before
    assert app.catch_up_read_models() == 0  # nothing new: nothing applied twice


def test_a_query_sees_the_writes_made_before_it_here_or_in_another_process(
    app: VouchersApplication, second: VouchersApplication
) -> None:
    _, round_id = open_round(app)
    assert views.applications_of(second.fresh_read_model(), "b-anna") == []
    application_id = apply(app, round_id, account="b-anna")
    (row,) = views.applications_of(app.fresh_read_model(), "b-anna")
    assert (row.id, row.status) == (application_id, "submitted")
    second.approve_application(application_id, "sw")  # the other process writes
    (row,) = views.applications_of(app.fresh_read_model(), "b-anna")
    assert row.status == "approved" and row.entitlement_cents > 0
    (seen_there,) = views.applications_of(second.fresh_read_model(), "b-anna")
    assert seen_there == row


def test_pages_of_a_round_add_up_to_the_whole_round(app: VouchersApplication) -> None:
    _, round_id = open_round(app)
    ids = [apply(app, round_id) for _ in range(7)]
    model = app.fresh_read_model()
    pages = [views.applications_in_round(model, round_id, limit=3, offset=o) for o in (0, 3, 6)]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [r.id for page in pages for r in page] == ids
    assert [a.id for a in app.applications_in_round(round_id)] == ids


def test_the_auditors_ledger_only_application_creates_no_read_model(
    app: VouchersApplication, tmp_path: Path
) -> None:
    a_busy_round(app)
    app.close()
    (tmp_path / "vouchers-read.sqlite").unlink()
    auditor = VouchersApplication(VouchersSettings(data_dir=tmp_path), personal_data=False)
    try:
        assert auditor.catch_up_read_models() == 0
        assert len(auditor.funds()) == 1
        assert not (tmp_path / "vouchers-read.sqlite").exists()
    finally:
        auditor.close()
