"""Booking in Chromium on the real stack, as Lucia Ferrero (``b-biella-001``, an employee with a
welfare wallet): she books an offering with the keyboard alone (a slot, part of the price from
her credit typed the Italian way after a mistake, the summary, a double Enter on "confirm"), the
confirmation page follows the booking while the provider accepts and announces it; she cancels
another booking inside its paid window, the fee shown before she confirms. A social worker books
for a citizen. Every page passes axe-core in Italian and in English, in both territory themes."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import PortalStack, check_page, set_language

pytestmark = [pytest.mark.browser, pytest.mark.kafka]

LUCIA = "b-biella-001"
SETTLE = 60.0


def both_languages(page: Any, stack: PortalStack, name: str) -> None:
    """Check the page (a GET) in Italian, then reloaded in English, and back to Italian."""
    check_page(page, f"booking-{name}-it")
    set_language(page, stack, "en")
    page.reload()
    assert page.locator("html").get_attribute("lang") == "en"
    check_page(page, f"booking-{name}-en")
    set_language(page, stack, "it")
    page.reload()


def main_text(page: Any) -> str:
    """The page's main text, spaces as typed (amounts have a no-break space before the €)."""
    text: str = page.locator("main").inner_text()
    return text.replace("\xa0", " ")


def tab_to(page: Any, target: Any, limit: int = 80) -> None:
    """Press Tab until ``target`` has the focus (the keyboard user's way to reach it)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} never got the focus with Tab")


def bookable(stack: PortalStack) -> tuple[dict[str, Any], int]:
    """An offering with free slots whose category Lucia's credit pays at least 12,50 € of,
    priced above that (so a co-payment is left), and what her credit has for it."""
    with stack.api("wallet", "beneficiary", LUCIA) as wallet:
        mine = wallet.get("/me/wallets").json()[0]
    if max(mine["available_by_category"].values()) < 5000:  # the demo's bookings used it up
        with stack.api("wallet", "employer", "e-biella-001") as employer:
            path = f"/plans/{mine['plan_id']}/grants"
            granted = employer.post(path, json={"employee_id": LUCIA, "amount_cents": 5000})
            assert granted.status_code == 200, granted.text
            mine = granted.json()
    available = mine["available_by_category"]
    with stack.api("catalog", "operator") as catalog:
        items = catalog.get("/search", params={"page_size": 50}).json()["items"]
        for item in sorted(items, key=lambda i: i["price_cents"], reverse=True):
            credit = int(available.get(item["category"], 0))
            if credit >= 1250 and item["price_cents"] > 1250:
                slots = catalog.get(f"/offerings/{item['offering_id']}/slots").json()
                if any(s["available"] > 0 for s in slots):
                    return item, credit
    raise AssertionError(f"no offering Lucia's credit can pay for: {available}")


def wait_for(stack: PortalStack, booking_id: str, what: str, check: Any) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE
    with stack.api("booking", "operator") as booking:
        while True:
            view: dict[str, Any] = booking.get(f"/bookings/{booking_id}").json()
            if check(view):
                return view
            assert time.monotonic() < deadline, f"booking {booking_id} not {what}: {view['status']}"
            time.sleep(0.3)


def providers_accept(stack: PortalStack, booking_id: str) -> None:
    view = wait_for(
        stack,
        booking_id,
        "asked of its provider",
        lambda v: (
            v["status"] != "requested"
            or all(c["acceptance"] in ("requested", "accepted", "instant") for c in v["components"])
        ),
    )
    for c in view["components"]:
        if c["acceptance"] == "requested":
            with stack.api("booking", "provider", c["provider_id"]) as provider:
                path = f"/bookings/{booking_id}/components/{c['index']}/accept"
                assert provider.post(path, json={}).status_code == 200


def my_booking_ids(stack: PortalStack) -> set[str]:
    with stack.api("booking", "beneficiary", LUCIA) as booking:
        return {b["booking_id"] for b in booking.get("/bookings/mine").json()}


def test_lucia_books_an_offering_with_the_keyboard_alone(
    page: Any, login: Any, stack: PortalStack
) -> None:
    offering, _credit = bookable(stack)
    price = offering["price_cents"]
    before = my_booking_ids(stack)
    login(page, "beneficiary", LUCIA)
    page.goto(f"/offerings/{offering['offering_id']}")
    tab_to(page, page.get_by_role("link", name="Prenota questo servizio"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/book/offering/"))
    assert "Passo 1 di 4" in page.locator(".bc-steps").inner_text()
    both_languages(page, stack, "slots")
    # Step 1: the first free slot (Tab into the radio group, Space), Enter on "continue".
    tab_to(page, page.locator('input[name="slot_1"]').first)
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Continua al pagamento"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/funding\?"))
    both_languages(page, stack, "funding")
    # Step 2: a mistake first ("dodici"), then the amount the Italian way.
    credit_field = page.get_by_label("Dal credito welfare (euro)")
    tab_to(page, credit_field)
    page.keyboard.press("Control+A")
    page.keyboard.type("dodici")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.get_by_text("Questo non è un importo in euro")).to_be_visible()
    assert credit_field.get_attribute("aria-invalid") == "true"
    check_page(page, "booking-funding-error-it")
    tab_to(page, credit_field)
    page.keyboard.press("Control+A")
    page.keyboard.type("12,50")
    # As she types, the co-payment left follows (htmx), is announced, and she keeps her place.
    left = price - 1250
    left_text = re.compile(rf"{left // 100},{left % 100:02d}\s€")
    expect(page.locator("#co-payment")).to_contain_text(left_text)
    expect(page.locator("#bc-announce")).to_have_text(left_text)
    assert credit_field.evaluate("element => element === document.activeElement")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/summary\?"))
    # Step 3: everything chosen, who pays what, the cancellation policy.
    summary = main_text(page)
    co_payment = f"{(price - 1250) // 100},{(price - 1250) % 100:02d} €"
    assert "12,50 €" in summary, summary
    assert co_payment in summary, summary
    assert "Annullamento gratuito fino a" in summary
    summary_url = page.url
    both_languages(page, stack, "summary")
    # Back keeps what was chosen, and the summary is where it was.
    tab_to(page, page.get_by_role("link", name="Torna al pagamento"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/funding\?"))
    assert credit_field.input_value() == "12,50"
    page.go_back()
    page.wait_for_url(summary_url)
    # Confirm with a double Enter: one booking.
    tab_to(page, page.get_by_role("button", name="Conferma la prenotazione"))
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/me/bookings/[0-9a-f-]+/sent$"))
    booking_id = page.url.rsplit("/", 2)[-2]
    assert "Passo 4 di 4" in page.locator(".bc-steps").inner_text()
    check_page(page, "booking-sent-it")
    # The provider accepts: the page follows by itself and says so.
    providers_accept(stack, booking_id)
    expect(page.locator("#booking-status")).to_contain_text("Confermata", timeout=30_000)
    expect(page.locator("#bc-announce")).to_have_text("Confermata", timeout=5_000)
    assert my_booking_ids(stack) - before == {booking_id}  # the double Enter: one booking
    set_language(page, stack, "en")
    page.reload()
    check_page(page, "booking-sent-en")
    set_language(page, stack, "it")
    # The booking with its timeline; the pages to move it and to report a problem.
    page.goto(f"/me/bookings/{booking_id}")
    assert "Prenotazione confermata" in page.locator(".bc-timeline").inner_text()
    both_languages(page, stack, "detail")
    page.get_by_role("link", name=re.compile("^Scegli un altro orario")).click()
    page.wait_for_url(re.compile(r"/reschedule$"))
    both_languages(page, stack, "reschedule")
    page.goto(f"/me/bookings/{booking_id}/components/1/dispute")
    both_languages(page, stack, "dispute")


def test_lucia_cancels_a_booking_with_the_fee_shown_first(
    page: Any, login: Any, stack: PortalStack
) -> None:
    offering, _credit = bookable(stack)
    provider, price = offering["provider_id"], offering["price_cents"]
    # A booking tomorrow (inside the 48 free hours): cancelling costs half the price.
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=20)
    with stack.api("catalog", "provider", provider) as catalog:
        created = catalog.post(
            f"/offerings/{offering['offering_id']}/slots",
            json={
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "capacity": 1,
            },
        )
        assert created.status_code == 201, created.text
        slot_id = created.json()["id"]
    body = {
        "request_id": f"test-{uuid.uuid4().hex[:12]}",
        "components": [{"offering_id": offering["offering_id"], "slot_id": slot_id}],
        "funding": {"split": [{"source": "co_payment", "amount_cents": price}]},
    }
    deadline = time.monotonic() + SETTLE
    with stack.api("booking", "beneficiary", LUCIA) as booking:
        while True:  # until the booking service has heard of the new slot
            answer = booking.post("/bookings", json=body)
            if answer.status_code == 202 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert answer.status_code == 202, answer.text
    booking_id = answer.json()["booking_id"]
    providers_accept(stack, booking_id)
    wait_for(stack, booking_id, "confirmed", lambda v: v["status"] == "confirmed")
    login(page, "beneficiary", LUCIA)
    with stack.api("catalog", "operator") as catalog:
        package = catalog.get("/packages").json()[0]
    page.goto(f"/packages/{package['package_id']}")
    page.get_by_role("link", name="Prenota questo pacchetto").click()
    page.wait_for_url(re.compile(r"/book/package/"))
    assert page.locator("fieldset").count() == len(package["offering_ids"])
    both_languages(page, stack, "package-slots")
    page.goto("/me/bookings")
    both_languages(page, stack, "mine")
    page.locator(f'a[href="/me/bookings/{booking_id}"]').click()
    page.get_by_role("link", name="Annulla la prenotazione").click()
    page.wait_for_url(re.compile(r"/cancel$"))
    fee = f"{price // 2 // 100},{price // 2 % 100:02d} €"
    assert f"Annullare ora costa una penale di {fee}" in main_text(page)
    both_languages(page, stack, "cancel")
    page.get_by_role("button", name=re.compile("^Annulla e paga la penale di")).click()
    page.wait_for_url(re.compile(r"\?done=cancelled$"))
    expect(page.get_by_role("status")).to_contain_text("La prenotazione è annullata.")
    expect(page.locator("main")).to_contain_text("Annullata")
    check_page(page, "booking-cancelled-it")


def test_a_social_worker_books_for_a_citizen(page: Any, login: Any, stack: PortalStack) -> None:
    offering, _credit = bookable(stack)
    login(page, "social_worker")
    page.goto("/social/book")
    both_languages(page, stack, "social")
    page.get_by_role("button", name="Continua all'orario").click()
    expect(page.get_by_text("Scrivi il riferimento del consenso del cittadino.")).to_be_visible()
    check_page(page, "booking-social-errors-it")
    page.get_by_label("Codice beneficiario del cittadino").fill(LUCIA)
    page.get_by_label("Riferimento del consenso").fill("PG-2026-0114")
    page.get_by_label("Che cosa prenotare").select_option(f"offering:{offering['offering_id']}")
    page.get_by_role("button", name="Continua all'orario").click()
    page.wait_for_url(re.compile(r"/book/offering/"))
    expect(page.get_by_text("per conto di b-biella-001")).to_be_visible()
    page.locator('label[for="slot_1-1"]').click()
    page.get_by_role("button", name="Continua al pagamento").click()
    page.wait_for_url(re.compile(r"/funding\?"))
    # Lucia's food voucher does not pay for a care service: refused by its field.
    with stack.api("vouchers", "beneficiary", LUCIA) as vouchers:
        food = vouchers.get("/vouchers/mine").json()[0]["code"]
    page.get_by_label("Codice del buono servizio del cittadino (facoltativo)").fill(food)
    page.get_by_label("Da quel buono (euro)").fill("5,00")
    page.get_by_role("button", name="Continua al riepilogo").click()
    expect(page.get_by_text("Questo buono non paga questo servizio.")).to_be_visible()
    check_page(page, "booking-social-funding-error-it")
    page.get_by_label("Codice del buono servizio del cittadino (facoltativo)").fill("")
    page.get_by_label("Da quel buono (euro)").fill("")
    page.get_by_role("button", name="Continua al riepilogo").click()
    page.wait_for_url(re.compile(r"/summary\?"))
    assert "Compartecipazione della famiglia" in page.locator("main").inner_text()
    page.get_by_role("button", name="Conferma la prenotazione").click()
    page.wait_for_url(re.compile(r"/sent$"))
    booking_id = page.url.rsplit("/", 2)[-2]
    view = wait_for(stack, booking_id, "recorded", lambda v: True)
    assert view["beneficiary_id"] == LUCIA and view["requested_by"] == "social_worker"
    page.goto("/social/book")
    expect(page.locator(f'a[href="/me/bookings/{booking_id}"]')).to_have_count(1)


# --- the fringe-benefit cap (TUIR art. 51 c. 3) ------------------------------------------------

ELISA = "b-biella-203"  # Elisa Ramella of the Officine Cossatesi: no fringe spend in the demo
ELISA_EMPLOYER = "e-biella-002"


def fringe_spend(stack: PortalStack, wallet_id: str, cents: int) -> None:
    """Elisa buys fringe vouchers at the shop on the spot (the wallet API, as the till does)."""
    body = {
        "request_id": f"test-{uuid.uuid4().hex[:12]}",
        "provider_id": "m-biella-001",
        "category": "fringe_purchase",
        "amount_cents": cents,
    }
    with stack.api("wallet", "beneficiary", ELISA) as wallet:
        spent = wallet.post(f"/wallets/{wallet_id}/spend", json=body)
        assert spent.status_code == 201, spent.text


def fringe_of(stack: PortalStack, year: int) -> dict[str, Any]:
    with stack.api("wallet", "beneficiary", ELISA) as wallet:
        found: dict[str, Any] = wallet.get(f"/me/fringe/{year}").json()
        return found


def test_elisa_accepts_that_her_fringe_year_becomes_taxable(
    page: Any, login: Any, stack: PortalStack
) -> None:
    """A booking asked without accepting the tax (through the booking API, as another device
    would) is refused by the wallet over the cap: its confirmation page says why and leads back
    to the summary, which warns with the figures; no tick, nothing sent; ticked, the booking
    goes with ``confirm_taxable`` and the whole year becomes taxable."""
    with stack.api("catalog", "operator") as catalog:
        items = catalog.get("/search", params={"page_size": 50}).json()["items"]
        laundry = next(i for i in items if i["category"] == "fringe_purchase")
        slots = catalog.get(f"/offerings/{laundry['offering_id']}/slots").json()
    slot_id = next(s["slot_id"] for s in slots if s["available"] > 0)
    price = laundry["price_cents"]
    with stack.api("wallet", "beneficiary", ELISA) as wallet:
        mine = wallet.get("/me/wallets").json()[0]
    wallet_id, year = mine["wallet_id"], mine["year"]
    # Her employer loads enough credit; a first purchase opens her fringe year with its cap.
    with stack.api("wallet", "employer", ELISA_EMPLOYER) as employer:
        path = f"/plans/{mine['plan_id']}/grants"
        granted = employer.post(path, json={"employee_id": ELISA, "amount_cents": 80_000})
        assert granted.status_code == 200, granted.text
    fringe_spend(stack, wallet_id, 1000)
    before = fringe_of(stack, year)
    cap, used = before["cap_cents"], before["fringe_cents"]
    assert not before["taxable"] and cap - used > price, before
    assert int(granted.json()["available_by_category"]["fringe_purchase"]) >= cap - used
    # 1 € short of the cap with this booking... then 2 € more at the shop: 1 € over.
    fringe_spend(stack, wallet_id, cap - used - price - 100)
    fringe_spend(stack, wallet_id, 200)
    total = cap + 100
    body = {
        "request_id": f"test-{uuid.uuid4().hex[:12]}",
        "components": [{"offering_id": laundry["offering_id"], "slot_id": slot_id}],
        "funding": {
            "split": [{"source": "wallet", "account_id": wallet_id, "amount_cents": price}]
        },
    }
    with stack.api("booking", "beneficiary", ELISA) as booking:
        asked = booking.post("/bookings", json=body)
        assert asked.status_code == 202, asked.text
    refused_id = asked.json()["booking_id"]
    wait_for(stack, refused_id, "compensated", lambda v: v["status"] == "compensated")
    login(page, "beneficiary", ELISA)
    page.goto(f"/me/bookings/{refused_id}/sent")
    expect(page.locator("#booking-status")).to_contain_text("oltre il tetto esente")
    check_page(page, "booking-fringe-refused-it")
    page.get_by_role("link", name="Torna al riepilogo: vedi le cifre e decidi").click()
    page.wait_for_url(re.compile(r"/summary\?"))
    euros = f"{price // 100},{price % 100:02d}"
    figures = main_text(page)
    for line in (
        f"Totale dell'anno: {total // 100_000}.{total // 100 % 1000:03d},{total % 100:02d} €",
        f"Questa prenotazione, pagata con il credito welfare: {euros} €",
        "l'INTERO importo dell'anno",
    ):
        assert line in figures, figures
    both_languages(page, stack, "summary-fringe")

    def elisas_bookings() -> set[str]:
        with stack.api("booking", "beneficiary", ELISA) as booking:
            return {b["booking_id"] for b in booking.get("/bookings/mine").json()}

    # Confirmed without the tick: refused by the box, nothing sent.
    mine_before = elisas_bookings()
    page.get_by_role("button", name="Conferma la prenotazione").click()
    refusal = "Spunta la casella per accettare che diventi imponibile."
    expect(page.get_by_text(refusal)).to_be_visible()
    box = page.get_by_label(re.compile("^Accetto che i miei fringe benefit"))
    assert box.get_attribute("aria-invalid") == "true"
    assert elisas_bookings() == mine_before
    check_page(page, "booking-summary-fringe-error-it")
    page.locator('label[for="f-accept_taxable"]').click()  # Bootstrap Italia draws the box
    assert box.is_checked()
    page.get_by_role("button", name="Conferma la prenotazione").click()
    page.wait_for_url(re.compile(r"/sent$"))
    booking_id = page.url.rsplit("/", 2)[-2]
    assert booking_id not in mine_before
    # The wallet held the credit: the whole year is taxable now, as the payroll will say.
    wait_for(
        stack,
        booking_id,
        "paid by the credit",
        lambda v: any(f["status"] == "held" for c in v["components"] for f in c["funds"]),
    )
    after = fringe_of(stack, year)
    assert after["taxable"] and after["taxable_cents"] == total, after
