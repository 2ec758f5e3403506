"""The auditor's pages in-process: the fund monitor (figures per municipality from the vouchers
service, refreshed by htmx: nothing sent back while nothing changed, a change announced), and the
audits (run through ``benecomune_auditor``, faked here; the verdict, the differences, the seal,
the CSV, JSON and PDF downloads), and who may see them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from portal.app import create_app
from portal.clients import Services
from portal.clients import auditor as auditor_api
from portal.security import CSRF_COOKIE, SESSION_COOKIE
from servicekit.auth import DevIssuer

from ..conftest import portal_settings

CSRF = "t" * 43


def fund(istat: str, allocated: int, issued: int, redeemed: int, reimbursed: int) -> dict[str, Any]:
    return {
        "fund_id": f"00000000-0000-0000-0000-{istat:0>12}",
        "municipality_istat": istat,
        "allocated_cents": allocated,
        "assigned_to_rounds_cents": issued,
        "issued_cents": issued,
        "redeemed_cents": redeemed,
        "reimbursed_cents": reimbursed,
        "returned_cents": 0,
        "available_cents": allocated - issued,
        "sources": [],
        "round_ids": [],
    }


class FakeVouchers:
    def __init__(self) -> None:
        self.funds = [
            fund("096004", 31834500, 145000, 14235, 9885),
            fund("096004", 100000, 0, 0, 0),
            fund("096020", 9872300, 0, 0, 0),
        ]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "vouchers.test" and request.url.path == "/funds":
            return httpx.Response(200, json=self.funds)
        return httpx.Response(404, json={"code": "not_found", "status": 404})


class FakeRunner:
    """``run_audit`` as the page calls it: what it was asked, and the outcome it gives."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.outcome = auditor_api.AuditOutcome(
            ledger="vouchers",
            ok=True,
            generated_at=datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
            seal="5" * 64,
            sealed_streams=35,
            records=99,
            ledger_events=68,
            chain_intact=True,
            compared_with="the service's API (up to notification 134)",
            summary=["Vouchers audit", "RESULT: OK"],
            json_text=json.dumps({"audit": "vouchers", "ok": True}),
            csv_text="level,fund_id\nfund,f-1\n",
        )

    def __call__(self, ledger: str, **options: Any) -> auditor_api.AuditOutcome:
        self.calls.append((ledger, options))
        return self.outcome


@pytest.fixture
def vouchers() -> FakeVouchers:
    return FakeVouchers()


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> FakeRunner:
    fake = FakeRunner()
    monkeypatch.setattr(auditor_api, "run_audit", fake)
    return fake


@pytest.fixture
def portal(tmp_path: Path, vouchers: FakeVouchers) -> Iterator[TestClient]:
    settings = portal_settings(
        tmp_path,
        vouchers_url="http://vouchers.test",
        wallet_url="http://wallet.test",
        kafka_bootstrap="kafka.test:9092",
        kafka_topic_prefix="t1.",
    )
    app = create_app(settings)
    app.state.services = Services.from_settings(settings, transport=httpx.MockTransport(vouchers))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.app_issuer = DevIssuer("biella", settings.keys_dir)  # type: ignore[attr-defined]
        yield client


def sign_in(client: TestClient, role: str = "auditor", subject: str | None = None) -> str:
    issuer: DevIssuer = client.app_issuer  # type: ignore[attr-defined]
    token = issuer.mint(role, subject)
    client.cookies.set(SESSION_COOKIE, token)
    client.cookies.set(CSRF_COOKIE, CSRF)
    return token


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_monitor_adds_the_funds_up_per_municipality(
    portal: TestClient, vouchers: FakeVouchers
) -> None:
    token = sign_in(portal)
    page = portal.get("/auditor/monitor")
    assert page.status_code == 200
    assert vouchers.requests[0].headers["authorization"] == f"Bearer {token}"
    row = re.search(r'<tr data-istat="096004">(.*?)</tr>', page.text, re.S)
    assert row
    cells = text_of(row.group(1))
    assert "Biella" in cells
    assert "319.345,00 €" in cells  # two funds of Biella added up
    assert "1.450,00 €" in cells and "142,35 €" in cells and "98,85 €" in cells
    assert "Valdilana" in page.text or "096020" in page.text
    assert page.text.count("<svg") == 1 and "<rect " in page.text and "style=" not in page.text
    assert 'hx-trigger="every 3s"' in page.text and 'hx-include="#monitor-since"' in page.text
    assert 'href="/auditor/monitor"' in page.text  # without JavaScript: a reload
    assert "data-announce" not in page.text  # nothing to announce on a page load


def test_the_poll_answers_nothing_until_a_figure_changes_then_announces_it(
    portal: TestClient, vouchers: FakeVouchers
) -> None:
    sign_in(portal)
    page = portal.get("/auditor/monitor")
    since = re.search(r'name="since" value="([0-9a-f]+)"', page.text)
    assert since
    htmx = {"HX-Request": "true"}
    same = portal.get("/auditor/monitor", params={"since": since.group(1)}, headers=htmx)
    assert same.status_code == 204 and same.content == b""
    vouchers.funds[0]["redeemed_cents"] += 790  # a redemption at a shop
    changed = portal.get("/auditor/monitor", params={"since": since.group(1)}, headers=htmx)
    assert changed.status_code == 200
    assert "<html" not in changed.text  # the fragment alone
    assert "data-announce=" in changed.text and "Le cifre dei fondi sono cambiate" in changed.text
    assert "150,25 €" in text_of(changed.text)
    new_since = re.search(r'name="since" value="([0-9a-f]+)"', changed.text)
    assert new_since and new_since.group(1) != since.group(1)
    assert changed.headers["cache-control"] == "no-store"


def test_an_audit_runs_and_shows_its_verdict_seal_and_downloads(
    portal: TestClient, runner: FakeRunner
) -> None:
    token = sign_in(portal)
    assert "Esegui la verifica" in portal.get("/auditor/audits").text
    ran = portal.post(
        "/auditor/audits", data={"csrf_token": CSRF, "ledger": "vouchers"}, follow_redirects=False
    )
    assert ran.status_code == 303
    location = ran.headers["location"]
    assert re.fullmatch(r"/auditor/audits/[0-9a-f]{32}", location)
    ledger, options = runner.calls[0]
    assert ledger == "vouchers"
    assert options == {
        "bootstrap": "kafka.test:9092",
        "topic_prefix": "t1.",
        "service_url": "http://vouchers.test",
        "token": token,
    }
    page = portal.get(location)
    text = text_of(page.text)
    assert "Esito: OK" in text and "5" * 64 in text and "(35 flussi)" in text
    assert "Nessuna: ogni cifra confrontata coincide." in text
    csv_file = portal.get(f"{location}/result.csv")
    assert csv_file.status_code == 200 and csv_file.text == "level,fund_id\nfund,f-1\n"
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_file.headers["content-disposition"]
    assert portal.get(f"{location}/result.json").json() == {"audit": "vouchers", "ok": True}
    listed = portal.get("/auditor/audits")
    assert location in listed.text and "OK" in listed.text


def test_the_result_downloads_as_a_pdf_with_the_verdict_and_the_seal(
    portal: TestClient, runner: FakeRunner
) -> None:
    sign_in(portal)
    ran = portal.post(
        "/auditor/audits", data={"csrf_token": CSRF, "ledger": "vouchers"}, follow_redirects=False
    )
    location = ran.headers["location"]
    page = portal.get(location)
    assert f'href="{location}/result.pdf"' in page.text
    assert "Risultato in PDF (la rendicontazione da pubblicare)" in page.text
    pdf = portal.get(f"{location}/result.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == (
        'attachment; filename="vouchers-audit-20261207T100000Z.pdf"'
    )
    body = pdf.content
    assert body.startswith(b"%PDF-") and body.endswith(b"%%EOF\n")
    assert b"(Rendicontazione buoni spesa - verifica del revisore) Tj" in body  # the CLI's title
    assert b"(Generata il 2026-12-07 10:00 UTC) Tj" in body
    assert b"(Esito: OK) Tj" in body
    assert b"(Sigillo del registro \\(SHA-256\\): " + b"5" * 64 + b" \\(35 flussi\\)) Tj" in body
    assert b"(RESULT: OK) Tj" in body  # the audit's own summary follows
    portal.cookies.set("bc_lang", "en")
    english = portal.get(f"{location}/result.pdf").content
    assert b"(Verdict: OK) Tj" in english and b"(35 streams\\)) Tj" in english


def test_a_failed_audit_s_pdf_says_so_and_names_what_the_service_could_not_give(
    portal: TestClient, runner: FakeRunner
) -> None:
    sign_in(portal)
    runner.outcome.ok = False
    runner.outcome.unreadable = ["409: not stored yet"]
    ran = portal.post(
        "/auditor/audits", data={"csrf_token": CSRF, "ledger": "vouchers"}, follow_redirects=False
    )
    body = portal.get(ran.headers["location"] + "/result.pdf").content
    assert b"(Esito: trovate differenze) Tj" in body and b"(Esito: OK)" not in body
    assert b"(409: not stored yet) Tj" in body


def test_an_audit_with_differences_shows_them(portal: TestClient, runner: FakeRunner) -> None:
    sign_in(portal)
    runner.outcome.ok = False
    runner.outcome.differences = [
        {
            "subject": "fund f-1",
            "figure": "redeemed_cents",
            "tally_cents": 14235,
            "service_cents": 15025,
        }
    ]
    ran = portal.post("/auditor/audits", data={"csrf_token": CSRF, "ledger": "wallet"})
    text = text_of(ran.text)
    assert "Esito: trovate differenze" in text
    assert "fund f-1" in text and "142,35 €" in text and "150,25 €" in text
    assert runner.calls[0][1]["service_url"] == "http://wallet.test"


def test_an_audit_that_cannot_be_made_says_why(portal: TestClient, runner: FakeRunner) -> None:
    sign_in(portal)
    runner.outcome = auditor_api.failed("vouchers", "Kafka at kafka.test:9092 did not answer")
    page = portal.post("/auditor/audits", data={"csrf_token": CSRF, "ledger": "vouchers"})
    assert "Non è stato possibile eseguire la verifica." in page.text
    assert "did not answer" in page.text
    audit_path = str(page.url.path)
    assert portal.get(f"{audit_path}/result.csv").status_code == 404
    assert portal.get(f"{audit_path}/result.pdf").status_code == 404


def test_an_unknown_ledger_or_a_missing_csrf_token_runs_nothing(
    portal: TestClient, runner: FakeRunner
) -> None:
    sign_in(portal)
    wrong = portal.post("/auditor/audits", data={"csrf_token": CSRF, "ledger": "booking"})
    assert wrong.status_code == 422 and "Scegli il registro da verificare." in wrong.text
    forged = portal.post("/auditor/audits", data={"csrf_token": "x" * 43, "ledger": "vouchers"})
    assert forged.status_code == 403
    assert runner.calls == []


def test_an_audit_no_longer_kept_is_not_found(portal: TestClient) -> None:
    sign_in(portal)
    assert portal.get("/auditor/audits/" + "a" * 32).status_code == 404
    assert portal.get("/auditor/audits/" + "a" * 32 + "/result.json").status_code == 404
    assert portal.get("/auditor/audits/" + "a" * 32 + "/result.pdf").status_code == 404


def test_other_roles_get_403_and_visitors_go_to_the_login(
    portal: TestClient, vouchers: FakeVouchers, runner: FakeRunner
) -> None:
    for path in (
        "/auditor/monitor",
        "/auditor/audits",
        "/auditor/audits/" + "a" * 32 + "/result.pdf",
    ):
        portal.cookies.clear()
        visitor = portal.get(path, follow_redirects=False)
        assert visitor.status_code == 303 and visitor.headers["location"].startswith("/login")
        sign_in(portal, "operator")
        assert portal.get(path).status_code == 403
    sign_in(portal, "employer", "e-biella-001")
    refused = portal.post("/auditor/audits", data={"csrf_token": CSRF, "ledger": "vouchers"})
    assert refused.status_code == 403
    assert vouchers.requests == [] and runner.calls == []


def test_english_monitor(portal: TestClient) -> None:
    sign_in(portal)
    portal.cookies.set("bc_lang", "en")
    text = text_of(portal.get("/auditor/monitor").text)
    assert "Fund monitor" in text and "Reimbursed" in text and "€319,345.00" in text


def test_the_outcome_of_a_real_audit_result() -> None:
    """``outcome_of`` reads the shared auditor's result: verdict, seal, CSV and JSON."""
    from benecomune_auditor.ledgers import audited_ledger

    ledger = audited_ledger("vouchers")
    result = ledger.audit([], source="nothing", problems=[], figures=None)
    outcome = auditor_api.outcome_of("vouchers", result, [])
    assert outcome.ok and outcome.chain_intact and outcome.records == 0
    assert outcome.csv_text.splitlines()[0].startswith("level,")
    assert json.loads(outcome.json_text)["audit"] == "vouchers"
    unreadable = auditor_api.outcome_of("vouchers", result, ["409: not stored yet"])
    assert not unreadable.ok and json.loads(unreadable.json_text)["ok"] is False
