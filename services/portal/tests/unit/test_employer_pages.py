"""The employer's pages in-process, with the wallet service faked: the plans and their figures,
the CSV upload (the file sent as it is to the wallet, each refused row shown by its line, a file
sent twice reported as already loaded), the reports with their SVG charts, and who may see them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from portal.app import create_app

from ..conftest import CSRF, faked_portal, portal_settings, sign_in, text_of

EMPLOYER = "e-biella-001"
PLAN_ID = "a53523d1-26e0-406e-b372-3af0f4a69290"
PLAN = {
    "plan_id": PLAN_ID,
    "employer_id": "e-biella-001",
    "vat_number": "02038570962",
    "year": 2026,
    "starts_on": "2026-01-01",
    "ends_on": "2026-12-31",
    "budget_cents": 500000,
    "credit_per_employee_cents": 80000,
    "categories": ["elderly_care", "fringe_purchase"],
    "end_policy": "carry_over",
    "employees": 4,
    "unallocated_cents": 180000,
    "bonus_conversion": False,
    "bonus_converted_cents": 0,
    "closed": False,
}
REPORT = {
    "plan_id": PLAN_ID,
    "employer_id": "e-biella-001",
    "year": 2026,
    "budget_cents": 500000,
    "loaded_cents": 320000,
    "carried_in_cents": 0,
    "bonus_converted_cents": None,
    "spent_by_category": {"elderly_care": 37600, "fringe_purchase": 25000},
    "spent_cents": 62600,
    "held_cents": 18800,
    "left_cents": 238600,
    "expired_cents": 0,
    "carried_over_cents": 0,
    "unallocated_cents": 180000,
    "returned_to_employer_cents": 0,
    "employees": 4,
    "closed": False,
    "loads": [
        {
            "load_id": "payroll-2026-01",
            "sha256": "b5" * 32,
            "loaded_at": "2026-03-01T09:00:00Z",
            "encoding": "utf-8",
            "rows_loaded": 4,
            "rows_refused": 1,
            "loaded_cents": 320000,
        }
    ],
}
CSV_REPORT = {
    "loaded": [
        {"line": 2, "employee_id": "b-biella-201", "amount_cents": 120050},
    ],
    "rejected": [
        {"line": 3, "employee_id": "b-biella-202", "reason": "fiscal code RSSMRA is not valid"},
        {"line": 5, "employee_id": None, "reason": "amount '1.200' is ambiguous"},
    ],
    "loaded_cents": 120050,
    "sha256": "c4" * 32,
    "load_id": None,
    "loaded_at": "2026-12-07T10:00:00Z",
    "encoding": "cp1252",
    "already_loaded": False,
    "notes": [],
}
PAYROLL = [
    {
        "employee_id": "b-biella-001",
        "year": 2026,
        "cap_cents": 200000,
        "fringe_cents": 250000,
        "taxable": True,
        "taxable_cents": 250000,
    }
]


class FakeWallet:
    """The wallet's API as the pages use it; every request is kept."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.loaded: set[bytes] = set()
        self.csv_answer: Callable[[bytes], httpx.Response] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.url.host != "wallet.test":
            return httpx.Response(404)
        if path == "/plans":
            return httpx.Response(200, json=[PLAN])
        if path == f"/plans/{PLAN_ID}":
            return httpx.Response(200, json=PLAN)
        if path == f"/plans/{PLAN_ID}/report":
            return httpx.Response(200, json=REPORT)
        if path == "/payroll/2026":
            return httpx.Response(200, json=PAYROLL)
        if path == f"/plans/{PLAN_ID}/employees.csv" and request.method == "POST":
            body = request.content
            if self.csv_answer is not None:
                return self.csv_answer(body)
            again = body in self.loaded
            self.loaded.add(body)
            return httpx.Response(200, json={**CSV_REPORT, "already_loaded": again})
        return httpx.Response(404, json={"code": "not_found", "title": "Not found", "status": 404})

    def uploads(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("employees.csv")]


@pytest.fixture
def wallet() -> FakeWallet:
    return FakeWallet()


@pytest.fixture
def portal(tmp_path: Path, wallet: FakeWallet) -> Iterator[TestClient]:
    with faked_portal(tmp_path, wallet, wallet_url="http://wallet.test") as client:
        yield client


def upload(client: TestClient, content: bytes, **fields: Any) -> httpx.Response:
    files = {"employees_file": ("employees.csv", content, "text/csv")}
    data = {"csrf_token": CSRF, **fields}
    response: httpx.Response = client.post(
        f"/employer/plans/{PLAN_ID}/employees", data=data, files=files
    )
    return response


def test_the_plans_page_shows_each_plan_with_its_figures(
    portal: TestClient, tmp_path: Path
) -> None:
    sign_in(portal, tmp_path, "employer", EMPLOYER)
    page = portal.get("/employer/plans")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Piano 2026" in text
    assert "5.000,00 €" in text and "800,00 €" in text and "1.800,00 €" in text
    assert "Assistenza agli anziani" in text or "anziani" in text
    assert f'href="/employer/plans/{PLAN_ID}"' in page.text


def test_the_plan_page_shows_the_upload_form_and_the_files_loaded(
    portal: TestClient, tmp_path: Path
) -> None:
    sign_in(portal, tmp_path, "employer", EMPLOYER)
    page = portal.get(f"/employer/plans/{PLAN_ID}")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    assert 'type="file"' in page.text and 'for="f-employees_file"' in page.text
    assert "payroll-2026-01" in page.text


def test_a_csv_is_sent_as_it_is_and_each_refused_row_is_shown_by_line(
    portal: TestClient, tmp_path: Path, wallet: FakeWallet
) -> None:
    token = sign_in(portal, tmp_path, "employer", EMPLOYER)
    content = "employee_id;fiscal_code;amount_eur\nb-biella-201;X;1.200,50\n".encode("cp1252")
    page = upload(portal, content, load_id="payroll-2026-03")
    assert page.status_code == 200
    sent = wallet.uploads()
    assert len(sent) == 1
    assert sent[0].content == content  # the bytes untouched: the service reads cp1252 itself
    assert sent[0].headers["content-type"] == "text/csv"
    assert sent[0].headers["authorization"] == f"Bearer {token}"
    assert sent[0].url.params["load_id"] == "payroll-2026-03"
    text = text_of(page.text)
    assert "Riga 3" in text and "fiscal code RSSMRA is not valid" in text
    assert "Riga 5" in text and "ambiguous" in text
    assert "Riga 2" in text and "1.200,50 €" in text
    assert "Windows-1252" in text
    assert "1 riga caricata" in text and "2 righe rifiutate" in text


def test_the_same_file_twice_is_reported_as_already_loaded(
    portal: TestClient, tmp_path: Path, wallet: FakeWallet
) -> None:
    sign_in(portal, tmp_path, "employer", EMPLOYER)
    content = b"employee_id,fiscal_code\nb-biella-201,RSSMRA85T10A562S\n"
    first = upload(portal, content)
    assert 'data-testid="already-loaded"' not in first.text
    again = upload(portal, content)
    assert again.status_code == 200
    assert 'data-testid="already-loaded"' in again.text
    assert "già stato caricato" in again.text
    assert len(wallet.uploads()) == 2


def test_no_file_or_a_bad_load_name_is_refused_by_field_without_a_call(
    portal: TestClient, tmp_path: Path, wallet: FakeWallet
) -> None:
    sign_in(portal, tmp_path, "employer", EMPLOYER)
    empty = upload(portal, b"")
    assert empty.status_code == 422
    assert 'id="f-employees_file-error"' in empty.text
    bad_name = upload(portal, b"employee_id,fiscal_code\n", load_id="a b/c")
    assert bad_name.status_code == 422
    assert 'id="f-load_id-error"' in bad_name.text and 'value="a b/c"' in bad_name.text
    assert wallet.uploads() == []


def test_a_file_the_wallet_cannot_read_is_shown_above_the_form(
    portal: TestClient, tmp_path: Path, wallet: FakeWallet
) -> None:
    sign_in(portal, tmp_path, "employer", EMPLOYER)
    wallet.csv_answer = lambda body: httpx.Response(
        422,
        json={
            "code": "validation_failed",
            "title": "The request is not valid",
            "status": 422,
            "detail": "missing columns: fiscal_code",
        },
    )
    page = upload(portal, b"employee_id\nb-1\n")
    assert page.status_code == 422
    assert "missing columns: fiscal_code" in page.text
    assert 'role="alert"' in page.text


def test_the_upload_needs_the_csrf_token(
    portal: TestClient, tmp_path: Path, wallet: FakeWallet
) -> None:
    sign_in(portal, tmp_path, "employer", EMPLOYER)
    files = {"employees_file": ("e.csv", b"employee_id,fiscal_code\n", "text/csv")}
    refused = portal.post(
        f"/employer/plans/{PLAN_ID}/employees", data={"csrf_token": "x" * 43}, files=files
    )
    assert refused.status_code == 403
    assert wallet.uploads() == []


def test_the_reports_have_svg_bar_charts_and_the_figures_in_tables(
    portal: TestClient, tmp_path: Path
) -> None:
    sign_in(portal, tmp_path, "employer", EMPLOYER)
    page = portal.get("/employer/reports")
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") == 2  # the budget's use, the spending by category
    assert 'role="img"' in html and "<rect " in html
    assert "style=" not in html  # the CSP refuses inline styles
    bars = re.findall(r'<rect x="\d+" y="\d+" width="(\d+)" height="\d+" fill="#[0-9a-f]{6}"', html)
    assert len(bars) == 8 and max(int(w) for w in bars) > 0
    text = text_of(html)
    assert "626,00 €" in text and "376,00 €" in text and "250,00 €" in text
    assert "Sopra la soglia" in text  # the payroll line above the cap
    assert '<link rel="stylesheet" href="/static/reports.css">' in html


def test_english_pages(portal: TestClient, tmp_path: Path) -> None:
    sign_in(portal, tmp_path, "employer", EMPLOYER, lang="en")
    text = text_of(portal.get("/employer/reports").text)
    assert "Use of the plan's budget" in text and "Spent" in text
    assert "€5,000.00" in text


def test_other_roles_get_403_and_visitors_go_to_the_login(
    portal: TestClient, tmp_path: Path, wallet: FakeWallet
) -> None:
    for path in ("/employer/plans", f"/employer/plans/{PLAN_ID}", "/employer/reports"):
        portal.cookies.clear()
        visitor = portal.get(path, follow_redirects=False)
        assert visitor.status_code == 303 and visitor.headers["location"].startswith("/login")
        sign_in(portal, tmp_path, "beneficiary", "b-biella-001")
        assert portal.get(path).status_code == 403
    assert wallet.requests == []


def test_the_wallet_down_gives_the_unavailable_page(tmp_path: Path) -> None:
    settings = portal_settings(tmp_path, wallet_url="http://127.0.0.1:9")
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        sign_in(client, tmp_path, "employer", EMPLOYER)
        assert client.get("/employer/plans").status_code == 503


def test_the_fake_wallet_answers_json(wallet: FakeWallet) -> None:
    answer = wallet(httpx.Request("GET", "http://wallet.test/plans"))
    assert json.loads(answer.content)[0]["plan_id"] == PLAN_ID
