"""The portal's end-to-end journeys on the real stack, each role in its own browser, every step
through the pages (the services' APIs only to set the scene or to check what the page claims):

1. a citizen applies for vouchers, the social worker approves and issues them, a shop takes one
   at the till, the auditor's monitor shows the redemption without a reload and the audit's
   verdict is OK;
2. an employee books a three-provider package paid with welfare credit and a co-payment, each
   provider accepts and marks the delivery, the employee confirms, and the wallet page shows
   the credit captured.

(The third journey, an employer's CSV with bad rows shown by line, is
``test_reports_in_chromium.test_hr_uploads_a_csv_with_bad_rows_then_the_same_file_again``.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import PortalStack, new_page, sign_page_in
from .test_household_in_chromium import fill, open_round, tick

pytestmark = [pytest.mark.browser, pytest.mark.kafka]

CITIZEN = "b-biella-001"  # Lucia Ferrero
SHOP = "m-biella-001"  # Alimentari del Piazzo, in Biella: it joins every food round opened there
BIELLA = "096004"


class People:
    """One browser context per person, signed in, for the length of a journey."""

    def __init__(self, browser: Any, stack: PortalStack) -> None:
        self.browser, self.stack = browser, stack
        self.pages: dict[str, Any] = {}

    def page(self, role: str, subject_id: str | None = None) -> Any:
        key = f"{role}:{subject_id}"
        if key not in self.pages:
            page = new_page(self.browser, self.stack)
            sign_page_in(page, self.stack, role, subject_id)
            self.pages[key] = page
        return self.pages[key]

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@pytest.fixture
def people(browser: Any, stack: PortalStack) -> Iterator[People]:
    opened = People(browser, stack)
    try:
        yield opened
    finally:
        opened.close()


def cents(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def apply_through_the_stepper(page: Any, title: str) -> None:
    page.goto("/me/applications")
    page.get_by_role("button", name=f"Presenta domanda nel bando {title}").click()
    fill(page, "Nome", "Lucia")
    fill(page, "Cognome", "Ferrero")
    fill(page, "Codice fiscale", "FRRLCU84C52A859B")
    fill(page, "Indirizzo del nucleo familiare", "Via Italia 12, 13900 Biella")
    page.get_by_role("button", name="Avanti: reddito").click()
    fill(page, "ISEE del nucleo familiare (€)", "6.120,00")
    tick(page, "No")
    page.get_by_role("button", name="Avanti: dichiarazioni").click()
    tick(page, "Dichiaro che i dati forniti sono veri (DPR 445/2000).")
    page.get_by_role("button", name="Avanti: riepilogo").click()
    page.get_by_role("button", name="Invia la domanda").click()
    page.wait_for_url("**/me/applications?sent=*")
    row = page.get_by_test_id("application").filter(has_text=title)
    expect(row).to_contain_text("Inviata: in attesa di esame")


def test_vouchers_from_the_application_to_the_audit(people: People, stack: PortalStack) -> None:
    title = open_round(stack)  # the operator opens a food round in Biella (scene)
    with stack.api("vouchers", "operator") as vouchers:
        rounds = vouchers.get("/rounds").json()
    round_id = next(r["round_id"] for r in rounds if r["title"] == title)

    citizen = people.page("beneficiary", CITIZEN)
    citizen.goto("/me/vouchers")
    codes_before = set(citizen.get_by_test_id("voucher-code").all_inner_texts())
    apply_through_the_stepper(citizen, title)

    worker = people.page("social_worker")
    worker.goto(f"/social/applications?round={round_id}&status=submitted")
    worker.get_by_role("link", name="Lucia Ferrero").click()
    worker.get_by_role("button", name="Approva la domanda").click()
    expect(worker.get_by_test_id("status")).to_have_text("Approvata, in attesa dei buoni")
    worker.goto(f"/social/applications?round={round_id}")
    worker.get_by_role("button", name="Emetti i buoni del bando").click()
    expect(worker.get_by_test_id("issuance")).to_contain_text("Nuclei serviti ora: 1.")

    citizen.goto("/me/vouchers")
    new_codes = set(citizen.get_by_test_id("voucher-code").all_inner_texts()) - codes_before
    assert new_codes, "the issued vouchers are on the citizen's page"
    code = sorted(new_codes)[0]
    citizen.goto("/me/applications")
    expect(citizen.get_by_test_id("application").filter(has_text=title)).not_to_contain_text(
        "in attesa di esame"
    )

    auditor = people.page("auditor")
    auditor.goto("/auditor/monitor")
    redeemed = auditor.locator(f'tr[data-istat="{BIELLA}"] td[data-figure="redeemed_cents"]')
    before = cents(redeemed.inner_text())
    auditor.evaluate("window.bcNotReloaded = true")

    shop = people.page("merchant", SHOP)
    shop.goto("/shop/till")
    shop.get_by_label("Codice del buono").fill(code)
    shop.get_by_label("Importo (€)").fill("7,30")
    shop.get_by_label("Alimentari").check()
    shop.get_by_role("button", name="Incassa il buono").click()
    expect(shop.get_by_test_id("left")).to_be_visible()
    with stack.api("vouchers", "beneficiary", CITIZEN) as vouchers:
        voucher = vouchers.get(f"/vouchers/{code}").json()
    assert voucher["value_cents"] - voucher["remaining_cents"] == 730
    left = cents(shop.get_by_test_id("left").inner_text())
    assert left == voucher["remaining_cents"]

    # The monitor follows the events: the 7,30 € appear without a reload.
    auditor.wait_for_function(
        "([selector, before]) => parseInt(document.querySelector(selector).textContent"
        ".replace(/\\D/g, '')) !== before",
        arg=[f'tr[data-istat="{BIELLA}"] td[data-figure="redeemed_cents"]', before],
        timeout=30_000,
    )
    assert auditor.evaluate("window.bcNotReloaded === true")
    assert cents(redeemed.inner_text()) - before == 730

    auditor.goto("/auditor/audits")
    auditor.get_by_label("Buoni spesa (fondi, bandi, negozi)").check()
    auditor.get_by_role("button", name="Esegui la verifica").click()
    auditor.wait_for_url(re.compile(r"/auditor/audits/[0-9a-f]{32}$"), timeout=90_000)
    verdict = auditor.get_by_test_id("verdict").inner_text()
    assert "Esito: OK" in verdict, auditor.locator("main").inner_text()
