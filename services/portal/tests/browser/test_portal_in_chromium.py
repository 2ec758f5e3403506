"""The portal in real headless Chromium: each territory's look, the marketplace search (with
htmx and without JavaScript), an offering's free slots, the language switch, login and logout;
axe-core finds no WCAG 2.1 A/AA violation on any page visited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Catalog, assert_accessible, axe_violations

pytestmark = pytest.mark.browser


def computed(page: Any, selector: str, prop: str) -> str:
    value: str = page.eval_on_selector(
        selector, "(el, prop) => getComputedStyle(el).getPropertyValue(prop)", prop
    )
    return value.strip()


def test_biella_and_matera_have_their_own_look(page: Any, portals: dict[str, str]) -> None:
    looks = {}
    for territory, expected in (("biella", "rgb(0, 103, 107)"), ("matera", "rgb(122, 75, 18)")):
        page.goto(portals[territory] + "/")
        assert page.title().endswith(f"Benecomune {territory.capitalize()}")
        assert (
            page.locator(".it-brand-title").inner_text() == f"Benecomune {territory.capitalize()}"
        )
        header = computed(page, ".it-header-center-wrapper", "background-color")
        button = computed(page, ".bc-hero .btn-primary", "background-color")
        assert header == expected and button == expected
        assert page.locator("img.bc-brand-logo").evaluate("img => img.naturalWidth") > 0
        assert_accessible(page, f"{territory}-home-it")
        looks[territory] = header
    assert looks["biella"] != looks["matera"]
    assert "rgb(0, 102, 204)" not in looks.values()  # never the government blue


def test_the_search_finds_an_offering_and_shows_its_free_slots(
    page: Any, portals: dict[str, str], catalog: Catalog
) -> None:
    page.goto(portals["biella"] + "/search")
    assert_accessible(page, "biella-search-it")
    page.get_by_label("Parole").fill("assistenza domiciliare")
    page.get_by_label("Dove").select_option("at_home")
    page.evaluate("window.samePage = true")  # gone if the browser loaded a new page
    page.get_by_role("button", name="Cerca", exact=True).click()
    page.wait_for_url("**/search?q=assistenza*delivery_mode=at_home*")
    results = page.locator("#results")
    link = results.get_by_role("link", name="Assistenza domiciliare per anziani")
    link.wait_for()
    expect(results.locator("h2")).to_have_text(re.compile(r"^\d+ serviz(io|i) trovat[oi]$"))
    # Only offerings delivered at home: the filter went to the catalog.
    for where in results.locator(".card-body p.mb-0").all_inner_texts():
        assert "A domicilio" in where
    # htmx swapped the results in place, in a live region, and put the query in the address.
    assert page.evaluate("window.samePage") is True
    assert results.get_attribute("aria-live") == "polite"
    assert link.is_visible()
    assert_accessible(page, "biella-search-results-it")
    link.click()
    page.wait_for_url(f"**/offerings/{catalog.offering_ids['home-care']}")
    assert page.locator("h1").inner_text() == "Assistenza domiciliare per anziani"
    assert page.get_by_role("heading", name="Posti liberi").is_visible()
    assert page.locator("table tbody tr").count() > 0
    assert_accessible(page, "biella-offering-it")


def test_the_search_works_without_javascript(browser: Any, portals: dict[str, str]) -> None:
    context = browser.new_context(java_script_enabled=False, locale="it-IT")
    try:
        page = context.new_page()
        page.goto(portals["biella"] + "/search")
        page.get_by_label("Parole").fill("infermiere")
        page.get_by_role("button", name="Cerca", exact=True).click()
        page.wait_for_url("**/search?q=infermiere*")
        expect(page.locator("#results h2")).to_have_text("1 servizio trovato")
        assert page.get_by_role("link", name="Infermiere a domicilio").is_visible()
    finally:
        context.close()


def test_the_language_switch_changes_the_texts(page: Any, portals: dict[str, str]) -> None:
    page.goto(portals["matera"] + "/")
    assert page.locator("html").get_attribute("lang") == "it"
    assert page.locator("h1").inner_text() == "Servizi di welfare a Matera"
    page.get_by_role("button", name="English").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.locator("h1").inner_text() == "Welfare services in Matera"
    assert page.get_by_role("link", name="Find a service").is_visible()
    assert_accessible(page, "matera-home-en")
    page.goto(portals["matera"] + "/login")  # the choice is kept across pages
    assert page.locator("h1").inner_text() == "Log in"
    page.get_by_role("button", name="Italiano").click()
    page.wait_for_function("document.documentElement.lang === 'it'")
    assert page.locator("h1").inner_text() == "Accedi"


def test_a_demo_user_logs_in_and_out(page: Any, portals: dict[str, str]) -> None:
    page.goto(portals["biella"] + "/")
    page.get_by_role("link", name="Accedi").click()
    page.wait_for_url("**/login?next=/")
    assert_accessible(page, "biella-login-it")
    page.get_by_role("button", name="Accedi come Il Filo Società Cooperativa Sociale ONLUS").click()
    signed_in = page.get_by_test_id("signed-in")
    signed_in.wait_for()
    assert "Ente erogatore" in signed_in.inner_text()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["bc_session"]["httpOnly"] and cookies["bc_session"]["sameSite"] == "Lax"
    assert_accessible(page, "biella-home-signed-in-it")
    page.get_by_role("button", name="Esci").click()
    page.get_by_role("link", name="Accedi").wait_for()
    assert "bc_session" not in {c["name"] for c in page.context.cookies()}


def test_axe_does_report_faults(page: Any) -> None:
    """The accessibility check is not vacuous: a page with known faults has violations."""
    page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
    found = {violation["id"] for violation in axe_violations(page)}
    assert {"html-has-lang", "image-alt", "label"} <= found


@pytest.mark.parametrize("territory", ["biella", "matera"])
@pytest.mark.parametrize(("locale", "lang"), [("it-IT", "it"), ("en-GB", "en")])
def test_every_page_is_accessible_in_both_languages_and_themes(
    browser: Any, portals: dict[str, str], catalog: Catalog, territory: str, locale: str, lang: str
) -> None:
    """The browser's language (Accept-Language, from the context's locale) picks the texts;
    axe-core finds nothing on any public page, for both themes."""
    context = browser.new_context(locale=locale, bypass_csp=True)  # to inject axe-core
    try:
        page = context.new_page()
        offering = catalog.offering_ids["home-care"]
        for name, path in [
            ("home", "/"),
            ("search", "/search?q=domicilio"),
            ("offering", f"/offerings/{offering}"),
            ("package", f"/packages/{catalog.package_id}"),
            ("login", "/login"),
            ("not-found", "/offerings/00000000-0000-4000-8000-000000000000"),
        ]:
            page.goto(portals[territory] + path)
            assert page.locator("html").get_attribute("lang") == lang
            assert_accessible(page, f"{territory}-{name}-{lang}")
    finally:
        context.close()


def test_the_content_security_policy_refuses_nothing_the_pages_need(
    browser: Any, portals: dict[str, str]
) -> None:
    """No inline script or style, no other origin: the pages and htmx work under the CSP."""
    context = browser.new_context(locale="it-IT")  # the CSP enforced (no axe-core here)
    try:
        page = context.new_page()
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
        page.goto(portals["matera"] + "/")
        page.goto(portals["biella"] + "/search")
        assert "default-src 'self'" in page.evaluate(
            "async () => (await fetch('/')).headers.get('content-security-policy')"
        )
        page.evaluate("window.samePage = true")
        page.get_by_label("Parole").fill("infermiere")
        page.get_by_role("button", name="Cerca", exact=True).click()
        page.wait_for_url("**/search?q=infermiere*")
        expect(page.locator("#results h2")).to_have_text("1 servizio trovato")
        assert page.evaluate("window.samePage") is True  # htmx ran under the CSP
        page.get_by_role("link", name="Infermiere a domicilio").click()
        page.get_by_role("heading", name="Posti liberi").wait_for()
        assert refused == [], refused
    finally:
        context.close()


def test_the_search_with_the_keyboard_alone_keeps_the_focus(
    page: Any, portals: dict[str, str]
) -> None:
    """Skip link, type, Enter: the results change in place and the focus stays in the field."""
    page.goto(portals["biella"] + "/search")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Vai al contenuto"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("fisioterapia")  # no such offering in this catalogue
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=fisioterapia*")
    expect(page.locator("#results h2")).to_have_text("0 servizi trovati")
    assert page.evaluate("document.activeElement.id") == "q"


def test_a_package_shows_each_part_with_its_free_slots(
    page: Any, portals: dict[str, str], catalog: Catalog
) -> None:
    page.goto(portals["biella"] + "/")
    page.get_by_role("link", name="Dimissioni protette: 30 giorni a casa dopo il ricovero").click()
    page.wait_for_url(f"**/packages/{catalog.package_id}")
    parts = page.locator("main ol > li")
    expect(parts).to_have_count(3)
    assert parts.nth(0).locator("h3").inner_text() == "Infermiere a domicilio"  # in order
    assert "facoltativo" in parts.nth(2).inner_text()  # the meals
    assert page.get_by_text("Primi posti liberi:").count() == 3
    assert_accessible(page, "biella-package-it")
