"""The employer's and the auditor's pages in Chromium on the real stack: HR uploads a CSV saved by
Excel with bad rows and sees each by its line, uploads it again and is told it was already
loaded; the auditor's fund monitor changes after a redemption at a shop, without a reload; an
audit of the vouchers ledger runs with the verdict OK. Every page is checked by axe-core (both
territory themes), in Italian and in English."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from servicekit.italian_ids import fiscal_code_check_character

from .conftest import PortalStack, check_page, new_page, set_language, sign_page_in

pytestmark = [pytest.mark.browser, pytest.mark.kafka]

EMPLOYER = "e-biella-001"


def employees_csv() -> bytes:
    """An HR export as Excel saves it in Italy: semicolons, Windows-1252 (the ò), Italian
    amounts; line 3 has a mistyped fiscal code, line 4 an ambiguous amount. The employee ids
    are new on every run, so the file is new to the wallet."""
    run = uuid.uuid4().hex[:6]
    good = "SLLNCC80A01A859"
    good_code = good + fiscal_code_check_character(good)
    other = "BRTGNN82B41A859"
    other_code = other + fiscal_code_check_character(other)
    wrong_check = "A" if fiscal_code_check_character(other) != "A" else "B"
    lines = [
        "employee_id;nome;fiscal_code;amount_eur",
        f"b-test-{run}-1;Niccolò Sella;{good_code};300,50",
        f"b-test-{run}-2;Giovanna Berta;{other[:15]}{wrong_check};100",
        f"b-test-{run}-3;Anna Berta;{other_code};1.200",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def choose_and_send(page: Any, content: bytes) -> None:
    page.get_by_label("File CSV dei dipendenti").set_input_files(
        {"name": "dipendenti.csv", "mimeType": "text/csv", "buffer": content}
    )
    page.get_by_role("button", name="Carica il file").click()
    page.wait_for_load_state()


def test_hr_uploads_a_csv_with_bad_rows_then_the_same_file_again(
    page: Any, login: Any, stack: PortalStack
) -> None:
    login(page, "employer", EMPLOYER)
    page.goto("/employer/plans")
    check_page(page, "employer-plans-it")
    page.get_by_role("link", name="Carica i dipendenti nel piano 2026").click()
    assert page.locator("h1").inner_text() == "Piano 2026: carica i dipendenti"
    check_page(page, "employer-plan-it")

    # No file chosen: refused by its field, nothing sent (the browser's own check bypassed).
    page.locator("form[enctype]").evaluate("form => form.setAttribute('novalidate', '')")
    page.get_by_role("button", name="Carica il file").click()
    assert page.locator("#f-employees_file-error").inner_text().startswith("Scegli il file CSV")

    content = employees_csv()
    choose_and_send(page, content)
    refused = page.get_by_test_id("refused-rows")
    assert refused.locator("tbody tr").count() == 2
    assert refused.locator("tbody tr").nth(0).locator("th").inner_text() == "Riga 3"
    assert refused.locator("tbody tr").nth(1).locator("th").inner_text() == "Riga 4"
    assert "ambiguous" in refused.locator("tbody tr").nth(1).inner_text()
    assert page.get_by_test_id("rows-loaded").inner_text() == "1"
    loaded = page.get_by_test_id("loaded-rows").inner_text()
    assert "Riga 2" in loaded and "300,50" in loaded
    assert "Windows-1252" in page.locator("#load-report").inner_text()
    check_page(page, "employer-upload-result-it")

    choose_and_send(page, content)  # the same file once more
    assert page.get_by_test_id("already-loaded").is_visible()
    assert "già stato caricato" in page.get_by_test_id("already-loaded").inner_text()
    assert page.get_by_test_id("rows-refused").inner_text() == "2"

    page.goto("/employer/reports")
    assert page.locator("svg.bc-chart rect").count() >= 6
    check_page(page, "employer-reports-it")

    set_language(page, stack, "en")
    page.goto("/employer/plans")
    check_page(page, "employer-plans-en")
    page.get_by_role("link", name="Load employees into the plan 2026").click()
    page.get_by_label("CSV file of the employees").set_input_files(
        {"name": "employees.csv", "mimeType": "text/csv", "buffer": content}
    )
    page.get_by_role("button", name="Load the file").click()
    assert "already loaded" in page.get_by_test_id("already-loaded").inner_text()
    check_page(page, "employer-upload-again-en")
    page.goto("/employer/reports")
    assert page.locator("h1").inner_text() == "Reports"
    check_page(page, "employer-reports-en")


def redeem_one_euro(stack: PortalStack) -> None:
    """A shop takes 1,00 € off one of a family's vouchers, through the vouchers API."""
    with stack.api("vouchers", "beneficiary", "b-biella-002") as holder:
        mine = holder.get("/vouchers/mine")
        mine.raise_for_status()
        code = next(
            v["code"]
            for v in mine.json()
            if v["spendable"] and v["remaining_cents"] - v.get("held_cents", 0) >= 100
        )
    with stack.api("vouchers", "merchant", "m-biella-002") as shop:
        body = {
            "code": code,
            "amount_cents": 100,
            "goods_category": "food",
            "request_id": f"test-{uuid.uuid4().hex[:12]}",
        }
        answer = shop.post("/merchants/m-biella-002/redemptions", json=body)
        assert answer.status_code in (200, 201), answer.text


def test_the_monitor_shows_a_redemption_without_a_reload(
    page: Any, login: Any, stack: PortalStack
) -> None:
    login(page, "auditor")
    page.goto("/auditor/monitor")
    assert page.locator("h1").inner_text() == "Monitor dei fondi"
    check_page(page, "auditor-monitor-it")
    biella = page.locator('tr[data-istat="096004"] td[data-figure="redeemed_cents"]')
    before = biella.inner_text()
    page.evaluate("window.bcNotReloaded = true")
    redeem_one_euro(stack)
    page.wait_for_function(
        "(before) => document.querySelector("
        '\'tr[data-istat="096004"] td[data-figure="redeemed_cents"]\').textContent.trim()'
        " !== before.trim()",
        arg=before,
        timeout=20_000,
    )
    assert page.evaluate("window.bcNotReloaded === true"), "the page was not reloaded"
    after = biella.inner_text()
    cents = [int(re.sub(r"\D", "", text)) for text in (before, after)]
    assert cents[1] - cents[0] == 100
    page.wait_for_function(
        "document.getElementById('bc-announce').textContent.includes('cambiate')",
        timeout=5_000,
    )
    set_language(page, stack, "en")
    page.goto("/auditor/monitor")
    assert page.locator("h1").inner_text() == "Fund monitor"
    check_page(page, "auditor-monitor-en")


def test_an_audit_of_the_vouchers_runs_with_the_verdict_ok(
    browser: Any, stack: PortalStack
) -> None:
    page = new_page(browser, stack)
    try:
        sign_page_in(page, stack, "auditor")
        page.goto("/auditor/audits")
        check_page(page, "auditor-audits-it")
        page.get_by_label("Buoni spesa (fondi, bandi, negozi)").check()
        page.get_by_role("button", name="Esegui la verifica").click()
        page.wait_for_url(re.compile(r"/auditor/audits/[0-9a-f]{32}$"), timeout=60_000)
        verdict = page.get_by_test_id("verdict").inner_text()
        assert "Esito: OK" in verdict, page.locator("main").inner_text()
        assert re.fullmatch(r"[0-9a-f]{64}", page.get_by_test_id("seal").inner_text())
        check_page(page, "auditor-audit-it")
        csv_link = page.get_by_role("link", name="Risultato in CSV (una riga per cifra)")
        downloaded = page.request.get(csv_link.get_attribute("href"))
        assert downloaded.ok and downloaded.text().startswith("level,")
        json_link = page.get_by_role("link", name=re.compile("Risultato in JSON"))
        assert page.request.get(json_link.get_attribute("href")).json()["ok"] is True
        pdf_link = page.get_by_role("link", name=re.compile("Risultato in PDF"))
        assert page.request.get(pdf_link.get_attribute("href")).body().startswith(b"%PDF-")
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
        assert "Verdict: OK" in page.get_by_test_id("verdict").inner_text()
        check_page(page, "auditor-audit-en")
        page.goto("/auditor/audits")
        check_page(page, "auditor-audits-en")
    finally:
        page.context.close()
