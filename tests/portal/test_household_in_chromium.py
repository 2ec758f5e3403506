"""The beneficiary's own pages in Chromium on the real stack, as Lucia Ferrero (``b-biella-001``,
a citizen of Biella and an employee of the mill with a welfare wallet): her wallet with the
fringe cap meter, her vouchers with their QR codes, her inbox, and an application in a round
through the stepper — a wrong fiscal code and a forgotten declaration on the way, a logout in
the middle (the draft waits for her), a double click on send. Every page passes axe-core in
Italian and in English, in both territory themes."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import PortalStack, check_page, set_language

pytestmark = [pytest.mark.browser, pytest.mark.kafka]

LUCIA = "b-biella-001"
BIELLA = "096004"


def both_languages(page: Any, stack: PortalStack, name: str) -> None:
    """Check the page in Italian, then reload it in English (and back to Italian)."""
    check_page(page, f"{name}-it")
    set_language(page, stack, "en")
    page.reload()
    assert page.locator("html").get_attribute("lang") == "en"
    check_page(page, f"{name}-en")
    set_language(page, stack, "it")
    page.reload()


def both_languages_again(page: Any, stack: PortalStack, name: str, button: dict[str, str]) -> None:
    """Check the answer of a form (a POST: not reloaded) in Italian, then send the form again in
    English and back in Italian (``button``: its label in each language)."""
    check_page(page, f"{name}-it")
    set_language(page, stack, "en")
    page.get_by_role("button", name=button["it"], exact=True).click()
    assert page.locator("html").get_attribute("lang") == "en"
    check_page(page, f"{name}-en")
    set_language(page, stack, "it")
    page.get_by_role("button", name=button["en"], exact=True).click()
    assert page.locator("html").get_attribute("lang") == "it"


def test_lucia_reads_her_wallet_vouchers_and_inbox(
    page: Any, login: Any, stack: PortalStack
) -> None:
    login(page, "beneficiary", LUCIA)
    page.goto("/me/wallet")
    assert page.locator("h1").inner_text() == "Il mio borsellino"
    figure = page.get_by_test_id("fringe-figure").inner_text()
    assert re.search(r"usati su 2\.000,00\s€", figure), figure
    expect(page.get_by_role("img", name=re.compile("del tetto usato"))).to_be_visible()
    history = page.get_by_role("table", name=re.compile("Movimenti, dal più recente"))
    assert history.get_by_role("row").count() >= 3
    # The demo's grant (and any other tests gave her meanwhile on the shared stack).
    assert history.get_by_text("Credito dal datore di lavoro").count() >= 1
    both_languages(page, stack, "household-wallet")

    page.get_by_role("navigation", name="Menu principale").get_by_role(
        "link", name="I miei buoni"
    ).click()
    codes = page.get_by_test_id("voucher-code")
    assert codes.count() >= 1
    code = codes.first.inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}-[0-9A-Z]", code), code
    expect(page.get_by_role("img", name=f"Codice QR del buono {code}")).to_be_visible()
    assert page.get_by_text("Ancora da spendere").count() == codes.count()
    movements = page.get_by_text(f"Movimenti del buono {code}")
    movements.click()  # a <details>: opens without JavaScript
    expect(page.get_by_role("table", name=re.compile("Dal più recente")).first).to_be_visible()
    both_languages(page, stack, "household-vouchers")

    page.goto("/me/inbox")
    assert page.get_by_text("I tuoi buoni spesa sono pronti").count() >= 1
    expect(page.get_by_role("heading", name="Come ricevi i messaggi")).to_be_visible()
    set_language(page, stack, "en")
    page.reload()
    assert page.get_by_text("Your food vouchers are ready").count() >= 1  # the notice in English
    check_page(page, "household-inbox-en")
    set_language(page, stack, "it")
    page.reload()
    check_page(page, "household-inbox-it")


def open_round(stack: PortalStack) -> str:
    """A new food round of Biella taking applications (the demo's one has Lucia's already)."""
    title = f"Buoni spesa di prova {uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC).replace(microsecond=0)
    with stack.api("vouchers", "operator") as vouchers:
        funds = vouchers.get("/funds", params={"municipality_istat": BIELLA}).json()
        body = {
            "fund_id": funds[0]["fund_id"],
            "title": title,
            "opens_at": (now - timedelta(minutes=5)).isoformat(),
            "closes_at": (now + timedelta(days=10)).isoformat(),
            "budget_cents": 100_000,
            "rules": {
                "base_cents": 15000,
                "per_extra_member_cents": 5000,
                "per_minor_cents": 5000,
                "cap_cents": 50000,
                "isee_threshold_cents": 936000,
            },
            "validity_days": 90,
        }
        answer = vouchers.post("/rounds", json=body)
        assert answer.status_code == 201, answer.text
    return title


def tick(page: Any, label: str) -> None:
    """Tick a checkbox or a radio button by its label, as a person does (Bootstrap Italia draws
    its own box over the input)."""
    page.locator("label", has_text=re.compile(f"^{re.escape(label)}$")).click()
    expect(page.get_by_label(label, exact=True)).to_be_checked()


def fill(page: Any, label: str, value: str, nth: int = 0) -> None:
    page.get_by_label(label, exact=True).nth(nth).fill(value)


def test_lucia_applies_through_the_stepper_with_a_mistake_and_a_logout_on_the_way(
    page: Any, login: Any, stack: PortalStack
) -> None:
    title = open_round(stack)
    login(page, "beneficiary", LUCIA)
    page.goto("/me/applications")
    both_languages(page, stack, "household-applications")
    page.get_by_role("button", name=f"Presenta domanda nel bando {title}").click()
    expect(page.get_by_text("Passo 1 di 4: Nucleo familiare")).to_be_visible()
    fill(page, "Nome", "Lucia")
    fill(page, "Cognome", "Ferrero")
    fill(page, "Codice fiscale", "FRRLCU84C52A859X")  # a wrong check letter
    fill(page, "Indirizzo del nucleo familiare", "Via Italia 12, 13900 Biella")
    page.get_by_role("button", name="Aggiungi un componente del nucleo").click()
    fill(page, "Nome", "Giulia", nth=1)
    fill(page, "Cognome", "Ferrero", nth=1)
    fill(page, "Codice fiscale", "FRRGLI15H43A859E", nth=1)
    tick(page, "Minorenne")
    page.get_by_role("button", name="Avanti: reddito").click()
    error = page.locator("#f-fiscal_code-error")
    assert "non è valido" in error.inner_text()
    assert page.get_by_label("Codice fiscale", exact=True).first.get_attribute("aria-invalid")
    both_languages_again(
        page,
        stack,
        "household-apply-household-error",
        {"it": "Avanti: reddito", "en": "Next: income"},
    )
    assert "non è valido" in error.inner_text()

    # She logs out before correcting it: the draft waits for her, mistake and all.
    page.get_by_role("button", name="Esci").click()
    login(page, "beneficiary", LUCIA)
    page.goto("/me/applications")
    expect(page.get_by_test_id("draft")).to_be_visible()
    page.get_by_test_id("draft").get_by_role("button", name="Continua la domanda").click()
    assert page.get_by_label("Nome", exact=True).nth(1).input_value() == "Giulia"
    fill(page, "Codice fiscale", "frrlcu84c52a859b")
    page.keyboard.press("Enter")  # Enter goes on (never removes a member)
    expect(page.get_by_text("Passo 2 di 4: Reddito e ISEE")).to_be_visible()
    fill(page, "ISEE del nucleo familiare (€)", "8.450,00")
    tick(page, "No")
    both_languages(page, stack, "household-apply-income")
    fill(page, "ISEE del nucleo familiare (€)", "8.450,00")
    tick(page, "No")
    page.get_by_role("button", name="Avanti: dichiarazioni").click()
    page.get_by_role("button", name="Avanti: riepilogo").click()  # the declaration forgotten
    assert "Spunta la dichiarazione" in page.locator("#f-declared-error").inner_text()
    both_languages_again(
        page,
        stack,
        "household-apply-declarations",
        {"it": "Avanti: riepilogo", "en": "Next: summary"},
    )
    tick(page, "Dichiaro che i dati forniti sono veri (DPR 445/2000).")
    page.get_by_role("button", name="Avanti: riepilogo").click()
    summary = page.locator("main").inner_text().replace("\xa0", " ")
    assert "FRRLCU84C52A859B" in summary
    assert "Giulia Ferrero" in summary and "ISEE: 8.450,00 €" in summary
    both_languages(page, stack, "household-apply-summary")
    page.get_by_role("button", name="Invia la domanda").dblclick()  # a double click
    page.wait_for_url("**/me/applications?sent=*")
    expect(page.get_by_text("La tua domanda è stata inviata")).to_be_visible()
    row = page.get_by_test_id("application").filter(has_text=title)
    assert row.count() == 1 and "Inviata: in attesa di esame" in row.inner_text()
    assert page.get_by_test_id("draft").count() == 0
    with stack.api("vouchers", "beneficiary", LUCIA) as vouchers:
        mine = vouchers.get("/applications/mine").json()
    sent = [a for a in mine if a["isee_cents"] == 845000 and a["members"] == 2]
    assert len(sent) == 1 and sent[0]["minors"] == 1
    check_page(page, "household-applications-sent-it")
