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
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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


EMPLOYEE = "b-biella-001"  # Lucia again: an employee of the mill, with welfare credit
SETTLE = 90.0  # a saga step through Kafka, on a loaded machine


def until(what: str, check: Any, timeout: float = SETTLE) -> Any:
    deadline = time.monotonic() + timeout
    while True:  # bounded by the deadline
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"not {what} after {timeout:.0f} s"
        time.sleep(0.5)


def open_slots_soon(stack: PortalStack, package: dict[str, Any], starts: datetime) -> list[str]:
    """Each part's provider opens a slot starting at ``starts`` (so it can be delivered within
    the test), and the booking service has heard of each (a 1-cent probe is refused as an
    invalid split, not as an unknown slot, and books nothing)."""
    slot_ids = []
    with stack.api("catalog", "operator") as catalog:
        offerings = [catalog.get(f"/offerings/{o}").json() for o in package["offering_ids"]]
    for offering in offerings:
        with stack.api("catalog", "provider", offering["provider_id"]) as catalog:
            opened = catalog.post(
                f"/offerings/{offering['offering_id']}/slots",
                json={
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(hours=1)).isoformat(),
                    "capacity": 1,
                },
            )
            assert opened.status_code == 201, opened.text
            slot_ids.append(opened.json()["id"])
    with stack.api("booking", "beneficiary", EMPLOYEE) as booking:
        for offering, slot_id in zip(offerings, slot_ids, strict=True):
            probe = {
                "request_id": f"probe-{uuid.uuid4().hex[:12]}",
                "components": [{"offering_id": offering["offering_id"], "slot_id": slot_id}],
                "funding": {"split": [{"source": "co_payment", "amount_cents": 1}]},
            }
            until(
                "heard of by the booking service",
                lambda p=probe: (
                    booking.post("/bookings", json=p).json().get("code") == "invalid_split"
                ),
            )
    return slot_ids


def credit_of(stack: PortalStack) -> dict[str, Any]:
    """Lucia's wallet, with 50 € more from her employer when the demo's bookings used it up."""
    with stack.api("wallet", "beneficiary", EMPLOYEE) as wallet:
        mine: dict[str, Any] = wallet.get("/me/wallets").json()[0]
    if max(mine["available_by_category"].values(), default=0) < 2000:
        with stack.api("wallet", "employer", "e-biella-001") as employer:
            path = f"/plans/{mine['plan_id']}/grants"
            granted = employer.post(path, json={"employee_id": EMPLOYEE, "amount_cents": 5000})
            assert granted.status_code == 200, granted.text
            mine = granted.json()
    return mine


def paid_to_providers(page: Any) -> list[int]:
    """The wallet page's "paid to the provider" lines, newest first, in cents (unsigned)."""
    page.goto("/me/wallet")
    history = page.get_by_role("table", name=re.compile("Movimenti, dal più recente"))
    rows = history.get_by_role("row").filter(has_text="Pagato all'ente erogatore").all()
    return [cents(row.locator("td").nth(2).inner_text()) for row in rows]


def test_a_package_of_three_providers_from_booking_to_the_wallet(
    people: People, stack: PortalStack
) -> None:
    with stack.api("catalog", "operator") as catalog:
        package = catalog.get("/packages").json()[0]
    wallet_before = credit_of(stack)
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=75)
    slot_ids = open_slots_soon(stack, package, starts)

    # The employee books the package: a slot per part, 10,00 € from her credit, the rest paid
    # by her (the co-payment), the summary, the confirmation.
    employee = people.page("beneficiary", EMPLOYEE)
    paid_before = paid_to_providers(employee)
    employee.goto(f"/packages/{package['package_id']}")
    employee.get_by_role("link", name="Prenota questo pacchetto").click()
    for slot_id in slot_ids:
        radio = employee.locator(f'input[type="radio"][value="{slot_id}"]')
        employee.locator(f'label[for="{radio.get_attribute("id")}"]').click()
    employee.get_by_role("button", name="Continua al pagamento").click()
    employee.get_by_label("Dal credito welfare (euro)").fill("10,00")
    employee.get_by_role("button", name="Continua al riepilogo").click()
    employee.wait_for_url(re.compile(r"/summary\?"))
    summary = employee.locator("main").inner_text().replace("\xa0", " ")
    assert "10,00 €" in summary
    employee.get_by_role("button", name="Conferma la prenotazione").click()
    employee.wait_for_url(re.compile(r"/me/bookings/[0-9a-f-]+/sent$"))
    booking_id = employee.url.rsplit("/", 2)[-2]

    def view() -> dict[str, Any]:
        with stack.api("booking", "operator") as booking:
            found: dict[str, Any] = booking.get(f"/bookings/{booking_id}").json()
        return found

    asked = until(
        "asked of every provider",
        lambda: (
            (v := view())["status"] != "requested"
            or (
                all(
                    c["acceptance"] in ("requested", "instant", "accepted") for c in v["components"]
                )
                and v
            )
        ),
    )
    components = asked["components"]
    assert len({c["provider_id"] for c in components}) == 3

    # Each provider accepts its part of the request on its own page.
    for c in components:
        if c["acceptance"] != "requested":
            continue  # an instant offering: accepted when its slot was held
        provider = people.page("provider", c["provider_id"])
        provider.goto("/provider/bookings")
        card = provider.get_by_test_id(f"pending-{booking_id}-{c['index']}")
        card.get_by_role("button", name="Accetta").click()
        expect(provider.get_by_role("status")).to_contain_text("La richiesta è stata accettata")
    expect(employee.locator("#booking-status")).to_contain_text("Confermata", timeout=60_000)

    # Once the slots have started, each provider marks its delivery.
    time.sleep(max(0.0, (starts - datetime.now(UTC)).total_seconds()) + 1)
    for c in components:
        provider = people.page("provider", c["provider_id"])
        provider.goto("/provider/bookings")
        delivery = provider.get_by_test_id(f"deliver-{booking_id}-{c['index']}")
        delivery.get_by_role("button", name="Segna come erogato").click()
        expect(provider.get_by_role("status")).to_contain_text("erogazione")

    # The employee confirms each delivery; the booking is settled.
    employee.goto(f"/me/bookings/{booking_id}")
    for _ in components:
        employee.get_by_role("button", name=re.compile("^Conferma l'erogazione")).first.click()
        employee.wait_for_load_state()
    until("captured", lambda: all(c["stage"] == "captured" for c in view()["components"]))

    # The wallet page shows the 10,00 € paid to the providers, newest first.
    with stack.api("wallet", "beneficiary", EMPLOYEE) as wallet:
        after = wallet.get("/me/wallets").json()[0]
    assert wallet_before["total_cents"] - after["total_cents"] == 1000
    paid_now = paid_to_providers(employee)
    new_lines = len(paid_now) - len(paid_before)
    assert new_lines >= 1 and sum(paid_now[:new_lines]) == 1000, (paid_before, paid_now)
