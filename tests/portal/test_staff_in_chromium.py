"""The municipal social worker and the affiliated shop on the real stack, in Chromium: the social
worker reviews and approves an application and asks for the round's vouchers; the shop takes a
voucher at the till the way the counter does it (a mistyped code, a QR code's URL, "12,50", an
amount over the balance, a double click), voids the sale, takes it again, and claims its
reimbursement. Every page checked by axe-core, in Italian and English."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import PortalStack, check_page, set_language

pytestmark = [pytest.mark.browser, pytest.mark.kafka]


DEMO_ROUND = "Buoni spesa alimentari — Città di Biella"


def a_fresh_voucher(stack: PortalStack) -> str:
    """A code of Lucia's (b-biella-001) in the demo's round that nobody has spent from yet: 50
    euro (other tests issue her vouchers of newer rounds, whose claims are elsewhere)."""
    with stack.api("vouchers", "beneficiary", "b-biella-001") as vouchers:
        mine = vouchers.get("/vouchers/mine").json()
        rounds = vouchers.get("/rounds").json()
    demo_round = next(r["round_id"] for r in rounds if r["title"] == DEMO_ROUND)
    fresh = [
        v
        for v in mine
        if v["spendable"]
        and v["remaining_cents"] == v["value_cents"]
        and v["round_id"] == demo_round
    ]
    assert fresh, "the demo leaves Lucia vouchers she has not spent from"
    code: str = fresh[-1]["code"]
    return code


def test_the_social_worker_reviews_approves_and_asks_for_the_vouchers(
    page: Any, login: Any, stack: PortalStack
) -> None:
    login(page, "social_worker")
    page.goto("/social/applications")
    assert page.locator("h1").inner_text() == "Domande di buoni spesa"
    check_page(page, "social-applications-it")
    # The demo's round (other tests may have opened newer ones, which the page shows first).
    page.get_by_label("Bando").select_option(label=DEMO_ROUND)
    page.get_by_label("Stato").select_option("submitted")
    page.get_by_role("button", name="Mostra").click()
    assert "status=submitted" in page.url
    round_id = parse_qs(urlsplit(page.url).query)["round"][0]
    page.get_by_role("link", name="Franco Botta").click()
    assert page.locator("h1").inner_text() == "Domanda di Franco Botta"
    assert page.get_by_text("Via Milano 88, 13900 Biella").is_visible()
    check_page(page, "social-review-it")

    # A rejection needs its reason and note: nothing is sent without them.
    page.get_by_role("button", name="Rifiuta la domanda").click()
    assert page.get_by_test_id("status").inner_text() == "Da esaminare"

    page.get_by_role("button", name="Approva la domanda").click()
    assert page.get_by_role("status").inner_text().startswith("La domanda è stata approvata")
    assert page.get_by_test_id("status").inner_text() == "Approvata, in attesa dei buoni"
    assert page.get_by_role("button", name="Approva la domanda").count() == 0
    check_page(page, "social-review-approved-it")

    page.get_by_role("link", name="Torna alle domande").click()
    page.get_by_role("button", name="Emetti i buoni del bando").click()
    issuance = page.get_by_test_id("issuance").inner_text()
    match = re.search(r"Nuclei serviti ora: (\d+)\. In lista d'attesa: (\d+)\.", issuance)
    assert match and int(match[1]) + int(match[2]) >= 1, issuance
    check_page(page, "social-issued-it")
    with stack.api("vouchers", "operator") as vouchers:  # issued once: nothing left to issue
        again = vouchers.post(f"/rounds/{round_id}/issue").json()
    assert again["served"] == 0
    page.goto(f"/social/applications?round={round_id}&status=waitlisted")
    assert page.get_by_role("link", name="Franco Botta").is_visible()

    set_language(page, stack, "en")
    page.goto(f"/social/applications?round={round_id}")
    assert page.locator("h1").inner_text() == "Applications for vouchers"
    check_page(page, "social-applications-en")
    page.get_by_role("link", name="Franco Botta").click()
    assert page.locator("h1").inner_text() == "Application of Franco Botta"
    check_page(page, "social-review-en")


def test_the_shop_takes_voids_and_takes_again_a_voucher_at_the_till(
    page: Any, login: Any, stack: PortalStack
) -> None:
    code = a_fresh_voucher(stack)
    login(page, "merchant", "m-biella-001")
    page.goto("/shop/till")
    expect(page.get_by_test_id("code")).to_be_focused()  # ready for the scanner
    check_page(page, "shop-till-it")
    field = page.get_by_label("Codice del buono")
    amount = page.get_by_label("Importo (€)")
    left = page.get_by_test_id("left")

    # A mistyped code (its check character differs): told at the code, nothing spent.
    field.fill(code[:-1] + ("0" if code[-1] != "0" else "1"))
    amount.fill("12,50")
    page.get_by_label("Alimentari").check()
    page.get_by_role("button", name="Incassa il buono").click()
    expect(page.get_by_test_id("code-error")).to_contain_text("un carattere è sbagliato")
    assert left.count() == 0

    # The QR code's content (a URL carrying the code) lands in the focused field, then Enter.
    field.fill(f"https://biella.benecomune.it/v/{code}")
    amount.fill("12,50")
    amount.press("Enter")
    expect(left).to_have_text("37,50\xa0€")
    expect(page.get_by_test_id("code")).to_be_focused()  # the next customer
    assert field.input_value() == ""
    page.wait_for_function(
        "document.getElementById('bc-announce').textContent.includes('Resta sul buono: 37,50')"
    )
    check_page(page, "shop-till-paid-it")

    # More than what is left: refused at the amount, nothing changes.
    field.fill(code.lower())
    amount.fill("100,00")
    amount.press("Enter")
    error = page.get_by_test_id("amount-error")
    expect(error).to_have_text("L'importo è più di quanto resta sul buono: 37,50\xa0€.")
    expect(amount).to_be_focused()
    check_page(page, "shop-till-refused-it")

    # A double click at the counter takes the voucher once.
    field.fill(code)
    amount.fill("12,50")
    page.get_by_role("button", name="Incassa il buono").dblclick()
    expect(left).to_have_text("25,00\xa0€")
    with stack.api("vouchers", "merchant", "m-biella-001") as vouchers:
        voucher = vouchers.get(f"/vouchers/{code}").json()
    assert voucher["remaining_cents"] == 2500
    assert [h["kind"] for h in voucher["history"]].count("redeemed") == 2

    # Void the last sale (within 30 minutes): the voucher is asked again in its row (another
    # voucher's code is refused there, nothing sent), then take it again.
    # Today's sales are all the shop's (other tills', other tests'): this voucher's rows.
    rows = page.locator("#till tbody tr", has_text="…" + code[-6:])
    expect(rows).to_have_count(2)
    rows.first.get_by_test_id("void-code").fill("AAAA-BBBB-CCCC-DDDD-E")
    rows.first.get_by_role("button", name="Annulla").click()
    expect(page.locator("#till-error")).to_contain_text("Questo non è il buono di questa vendita")
    expect(page.locator("#till-error")).to_be_focused()
    expect(left).to_have_count(0)
    rows.first.get_by_test_id("void-code").fill(code)
    rows.first.get_by_role("button", name="Annulla").click()
    expect(page.locator("#till-answer")).to_contain_text(
        "La vendita di 12,50\xa0€ è stata annullata"
    )
    expect(left).to_have_text("37,50\xa0€")
    expect(rows.first.get_by_text("Annullata")).to_be_visible()
    field.fill(code)
    amount.fill("12,50")
    amount.press("Enter")
    expect(left).to_have_text("25,00\xa0€")
    expect(rows).to_have_count(3)

    page.goto("/shop/claims")
    assert page.locator("h1").inner_text() == "Rimborsi"
    check_page(page, "shop-claims-it")
    page.get_by_role(
        "button", name=f"Chiedi il rimborso delle vendite di questo periodo — {DEMO_ROUND}"
    ).click()
    assert page.get_by_role("status").inner_text().startswith("La richiesta di rimborso")
    assert page.get_by_text("In attesa di approvazione").first.is_visible()

    set_language(page, stack, "en")
    page.goto("/shop/till")
    assert page.locator("h1").inner_text() == "Till"
    check_page(page, "shop-till-en")
    page.goto("/shop/claims")
    assert page.locator("h1").inner_text() == "Reimbursements"
    check_page(page, "shop-claims-en")


def test_the_till_works_without_javascript(browser: Any, login: Any, stack: PortalStack) -> None:
    code = a_fresh_voucher(stack)
    context = browser.new_context(
        locale="it-IT", bypass_csp=True, base_url=stack.portal_url, java_script_enabled=False
    )
    page = context.new_page()
    try:
        login(page, "merchant", "m-biella-001")
        page.goto("/shop/till")
        page.get_by_label("Codice del buono").fill(code)
        page.get_by_label("Importo (€)").fill("7,30")
        page.get_by_role("button", name="Incassa il buono").click()
        assert "/shop/till?done=" in page.url
        assert page.get_by_test_id("left").inner_text() == "42,70\xa0€"
        row = page.locator("#till tbody tr", has_text="…" + code[-6:]).first
        row.get_by_test_id("void-code").fill(code)
        row.get_by_role("button", name="Annulla").click()
        assert "/shop/till?voided=" in page.url
        assert page.get_by_test_id("left").inner_text() == "50,00\xa0€"
    finally:
        context.close()
