"""HR's CSV file, hardened (issue 15): amounts in Italian or English form and never guessed,
Excel's Windows-1252 files, the same file loaded once (even after a restart), and one person
(one fiscal code) under one employee id per plan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.service import ServiceRuntime
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.application.csv_loading import parse_amount
from wallet.domain.errors import FiscalCodeInUse, FiscalCodeMismatch
from wallet.domain.wallet import Wallet
from wallet.service import DEFINITION
from wallet.settings import WalletSettings

from .ledger_check import assert_ledger_sound
from .test_http_api import Api, plan_body
from .test_wallet_flows import make_plan, person

HEADER = "employee_id;fiscal_code;dependent_children;amount_eur"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = WalletSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        yield Api(client, DevIssuer(settings.territory, settings.keys_dir))


def new_plan(api: Api, budget: int = 5_000_000) -> str:
    body = {**plan_body(datetime.now(UTC).year), "budget_cents": budget}
    r = api.call("POST", "/plans", "employer", "acme", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["plan_id"])


def upload(api: Api, plan_id: str, data: bytes, **params: Any) -> Any:
    return api.call(
        "POST",
        f"/plans/{plan_id}/employees.csv",
        "employer",
        "acme",
        content=data,
        params=params,
        headers={"Content-Type": "text/csv"},
    )


# --- 5: amounts and encodings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("500", 50_000),
        ("1.200,50", 120_050),
        ("1200.50", 120_050),
        ("1200,50", 120_050),
        ("1,200.50", 120_050),
        ("1.200.000", 120_000_000),
        ("1 200,50 €", 120_050),
        ("12,5", 1_250),
    ],
)
def test_amounts_in_italian_and_english_form_are_read_exactly(typed: str, cents: int) -> None:
    assert parse_amount(typed) == cents


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("1.200", "ambiguous"),
        ("1,200", "ambiguous"),
        ("1.2.3", "thousands"),
        ("1.200,505", "fractions of a cent"),
        ("1e3", "not a number"),
        ("-5", "positive"),
        ("0,00", "positive"),
    ],
)
def test_an_ambiguous_or_malformed_amount_is_refused_never_guessed(typed: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_amount(typed)


def test_an_italian_thousands_amount_is_refused_by_line_with_how_to_write_it(api: Api) -> None:
    plan_id = new_plan(api)
    text = "\n".join(
        [HEADER, f"e1;{person(1)};no;1.200", f"e2;{person(2)};no;1.200,00", f"e3;{person(3)};no;"]
    )
    r = upload(api, plan_id, text.encode())
    assert r.status_code == 200, r.text
    report = r.json()
    assert [(row["employee_id"], row["amount_cents"]) for row in report["loaded"]] == [
        ("e2", 120_000),
        ("e3", 40_000),
    ]
    (refused,) = report["rejected"]
    assert refused["line"] == 2 and refused["employee_id"] == "e1"
    assert "ambiguous" in refused["reason"]
    assert "1200" in refused["reason"] and "1.200,00" in refused["reason"]


def test_an_excel_windows_1252_file_loads_and_the_report_says_how_it_was_read(api: Api) -> None:
    plan_id = new_plan(api)
    text = f"employee_id;fiscal_code;dependent_children;amount_eur\ne1;{person(1)};sì;1.000,50\n"
    data = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    r = upload(api, plan_id, data)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["encoding"] == "cp1252" and "Windows-1252" in " ".join(report["notes"])
    (row,) = report["loaded"]
    assert row["amount_cents"] == 100_050
    plan = api.call("GET", f"/plans/{plan_id}", "employer", "acme").json()
    assert plan["employees"] == 1
    utf8_with_bom = upload(api, new_plan(api), b"\xef\xbb\xbf" + text.encode())
    assert utf8_with_bom.json()["encoding"] == "utf-8" and utf8_with_bom.json()["notes"] == []


# --- 6: the same file loads once ------------------------------------------------------------


def test_uploading_the_same_file_twice_credits_everybody_once(api: Api) -> None:
    plan_id = new_plan(api)
    data = "\n".join([HEADER, f"e1;{person(1)};no;100", f"e2;{person(2)};no;abc"]).encode()
    first = upload(api, plan_id, data)
    again = upload(api, plan_id, data)
    assert first.status_code == again.status_code == 200
    assert first.json()["already_loaded"] is False and again.json()["already_loaded"] is True
    assert "already loaded" in " ".join(again.json()["notes"])
    for key in ("loaded", "rejected", "loaded_cents", "sha256", "loaded_at"):
        assert again.json()[key] == first.json()[key], key
    wallet_id = first.json()["loaded"][0]["wallet_id"]
    wallet = api.call("GET", f"/wallets/{wallet_id}", "beneficiary", "e1").json()
    assert wallet["total_cents"] == 10_000

    other = upload(api, plan_id, data.replace(b"e2;", b"e3;").replace(b"abc", b"50"))
    assert other.json()["already_loaded"] is False
    # A new file is a new load: its every good row is credited (e1 gets a top-up).
    assert [row["employee_id"] for row in other.json()["loaded"]] == ["e1", "e3"]

    report = api.call("GET", f"/plans/{plan_id}/report", "employer", "acme").json()
    assert [
        (x["sha256"], x["rows_loaded"], x["rows_refused"], x["loaded_cents"])
        for x in report["loads"]
    ] == [
        (first.json()["sha256"], 1, 1, 10_000),
        (other.json()["sha256"], 2, 0, 15_000),
    ]
    assert all(x["loaded_at"] for x in report["loads"])
    assert report["loaded_cents"] == 25_000


def test_a_load_id_names_one_file(api: Api) -> None:
    plan_id = new_plan(api)
    march = "\n".join([HEADER, f"e1;{person(1)};no;100"]).encode()
    april = "\n".join([HEADER, f"e2;{person(2)};no;100"]).encode()
    assert upload(api, plan_id, march, load_id="payroll-03").json()["load_id"] == "payroll-03"
    again = upload(api, plan_id, march, load_id="payroll-03")
    assert again.status_code == 200 and again.json()["already_loaded"] is True
    reused = upload(api, plan_id, april, load_id="payroll-03")
    assert reused.status_code == 409 and reused.json()["code"] == "load_id_reused"
    assert reused.json()["load_id"] == "payroll-03"
    report = api.call("GET", f"/plans/{plan_id}/report", "employer", "acme").json()
    assert [x["load_id"] for x in report["loads"]] == ["payroll-03"]


def test_a_load_is_remembered_after_a_restart(tmp_path: Path) -> None:
    settings = WalletSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    data = "\n".join([HEADER, f"e1;{person(1)};no;100"]).encode()
    first = WalletApplication(settings)
    plan_id = make_plan(first)
    assert first.load_csv(plan_id, data).loaded_cents == 10_000
    first.close()
    restarted = WalletApplication(settings)
    try:
        report = restarted.load_csv(plan_id, data)
        assert report.already_loaded and report.loaded_cents == 10_000
        assert restarted.get_wallet(Wallet.id_for(plan_id, "e1")).total_cents == 10_000
        assert [x["rows_loaded"] for x in restarted.loads_of(plan_id)] == [1]
        assert_ledger_sound(restarted)
    finally:
        restarted.close()


# --- 7: one person, one employee id per plan --------------------------------------------------


def test_one_fiscal_code_under_two_employee_ids_is_refused_by_line(api: Api) -> None:
    plan_id = new_plan(api)
    same = person(1)
    text = "\n".join([HEADER, f"e1;{same};no;100", f"e2;{same.lower()};no;100"])
    report = upload(api, plan_id, text.encode()).json()
    assert [row["employee_id"] for row in report["loaded"]] == ["e1"]
    (refused,) = report["rejected"]
    assert refused["line"] == 3 and "employee e1" in refused["reason"]

    later = "\n".join([HEADER, f"e9;  {same} ;no;100"])
    report = upload(api, plan_id, later.encode()).json()
    assert report["loaded"] == []
    (refused,) = report["rejected"]
    assert refused["line"] == 2 and "employee e1" in refused["reason"]

    enrol = {"employees": [{"employee_id": "e8", "fiscal_code": same}]}
    r = api.call("POST", f"/plans/{plan_id}/employees", "employer", "acme", json=enrol)
    assert r.status_code == 409, r.text
    assert (r.json()["code"], r.json()["employee_id"]) == ("fiscal_code_in_use", "e1")
    plan = api.call("GET", f"/plans/{plan_id}", "employer", "acme").json()
    assert plan["employees"] == 1
    fine = {"employees": [{"employee_id": "e8", "fiscal_code": person(8)}]}
    assert api.call("POST", f"/plans/{plan_id}/employees", "employer", "acme", json=fine)


def test_fiscal_codes_are_compared_per_plan_and_never_stored(app: WalletApplication) -> None:
    plan_id = make_plan(app)
    app.enrol(plan_id, cmd.Enrol(employees=[cmd.Employee(employee_id="e1", fiscal_code=person(1))]))
    with pytest.raises(FiscalCodeInUse, match="e1"):
        app.enrol(
            plan_id, cmd.Enrol(employees=[cmd.Employee(employee_id="e2", fiscal_code=person(1))])
        )
    with pytest.raises(FiscalCodeMismatch):
        app.enrol(
            plan_id, cmd.Enrol(employees=[cmd.Employee(employee_id="e1", fiscal_code=person(2))])
        )
    with pytest.raises(FiscalCodeInUse):
        app.enrol(
            plan_id,
            cmd.Enrol(
                employees=[
                    cmd.Employee(employee_id="e3", fiscal_code=person(3)),
                    cmd.Employee(employee_id="e4", fiscal_code=person(3)),
                ]
            ),
        )
    assert set(app.get_plan(plan_id).employees) == {"e1"}
    other = make_plan(app)  # another plan (another employer's, say): its own employees
    app.enrol(other, cmd.Enrol(employees=[cmd.Employee(employee_id="x1", fiscal_code=person(1))]))
    with app.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT state FROM stored_events")
        stored = b"".join(bytes(row[0]) for row in cursor.fetchall())
    assert person(1).encode() not in stored
