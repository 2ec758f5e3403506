"""The provider's and the operator's pages in Chromium on the real stack: a provider sees a
request a family made through the booking API, tries to decline it without a reason, accepts
it, and marks it delivered once its slot has started; opens a slot after a mistake; the
operator suspends and reinstates a provider, opens a round with amounts typed the Italian way
after a bad one. Every page passes axe-core in Italian and in English."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from .conftest import PortalStack, check_page, set_language

pytestmark = [pytest.mark.browser, pytest.mark.kafka]

PROVIDER = "coop-il-filo"
FAMILY = "b-biella-001"
ROME = ZoneInfo("Europe/Rome")
SETTLE = 90.0  # a saga step through Kafka, on a loaded machine


def until(what: str, check: Callable[[], Any], timeout: float = SETTLE) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} after {timeout:.0f} s")
        time.sleep(0.5)


def request_booking(stack: PortalStack, starts: datetime) -> str:
    """A family's booking of the provider's first offering that needs its acceptance, on a
    slot the provider opens at ``starts`` (through the services' APIs, not the portal)."""
    with (
        stack.api("catalog", "provider", PROVIDER) as catalog,
        stack.api("booking", "beneficiary", FAMILY) as booking,
    ):
        items = catalog.get("/search", params={"provider_id": PROVIDER}).json()["items"]
        offering = next(
            o
            for o in (catalog.get(f"/offerings/{i['offering_id']}").json() for i in items)
            if not o["terms"]["instant"]
        )
        opened = catalog.post(
            f"/offerings/{offering['offering_id']}/slots",
            json={
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "capacity": 1,
            },
        )
        assert opened.status_code == 201, opened.text
        body = {
            "request_id": f"backoffice-{uuid.uuid4().hex[:12]}",
            "components": [
                {"offering_id": offering["offering_id"], "slot_id": opened.json()["id"]}
            ],
        }

        def booked() -> str | None:  # the booking service hears the new slot from Kafka
            answer = booking.post("/bookings", json=body)
            if answer.status_code == 422 and answer.json().get("code", "").endswith("_unknown"):
                return None
            assert answer.status_code == 202, answer.text
            return str(answer.json()["booking_id"])

        booking_id: str = until("booked", booked)
    return booking_id


def component(stack: PortalStack, booking_id: str) -> dict[str, Any]:
    with stack.api("booking", "operator") as booking:
        view = booking.get(f"/bookings/{booking_id}").json()
    return dict(view["components"][0], status=view["status"])


def test_a_provider_accepts_a_request_and_marks_it_delivered(
    page: Any, login: Any, stack: PortalStack
) -> None:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=40)
    booking_id = request_booking(stack, starts)
    until(
        "asked of the provider", lambda: component(stack, booking_id)["acceptance"] == "requested"
    )
    login(page, "provider", PROVIDER)
    page.goto("/provider/bookings")
    card = page.get_by_test_id(f"pending-{booking_id}-1")
    assert "Rispondi entro" in card.inner_text()
    check_page(page, "provider-bookings-it")
    # Declining without a reason: refused next to the field, nothing sent.
    card.get_by_role("button", name="Rifiuta").click()
    card = page.get_by_test_id(f"pending-{booking_id}-1")
    assert card.get_by_role("alert").inner_text() == "Scrivi perché rifiuti: la famiglia lo legge."
    assert component(stack, booking_id)["acceptance"] == "requested"
    card.get_by_role("button", name="Accetta").click()
    assert "La richiesta è stata accettata" in page.get_by_role("status").inner_text()
    page.go_back()  # the form again, submitted twice: the service takes it as the same answer
    page.get_by_test_id(f"pending-{booking_id}-1").get_by_role("button", name="Accetta").click()
    assert "La richiesta è stata accettata" in page.get_by_role("status").inner_text()
    until("confirmed", lambda: component(stack, booking_id)["status"] == "confirmed")
    time.sleep(max(0.0, (starts - datetime.now(UTC)).total_seconds()) + 1)
    set_language(page, stack, "en")
    page.goto("/provider/bookings")
    delivery = page.get_by_test_id(f"deliver-{booking_id}-1")
    delivery.get_by_label("Note for the family (optional)").fill("Visita fatta")
    check_page(page, "provider-bookings-en")
    delivery.get_by_role("button", name="Mark delivered").click()
    assert "The delivery was recorded" in page.get_by_role("status").inner_text()
    assert page.get_by_test_id(f"deliver-{booking_id}-1").count() == 0
    assert component(stack, booking_id)["stage"] == "delivered"

    # The family disputes it; the operator decides: part of the price, after typing too much.
    with stack.api("booking", "beneficiary", FAMILY) as booking:
        path = f"/bookings/{booking_id}/components/1/dispute"
        disputed = booking.post(path, json={"reason": "La visita è durata dieci minuti"})
        assert disputed.status_code == 200, disputed.text
    login(page, "operator")
    page.goto("/operator/bookings")
    dispute = page.get_by_test_id(f"dispute-{booking_id}-1")
    reason = page.get_by_test_id(f"dispute-reason-{booking_id}-1")
    assert "The family's reason" in reason.inner_text()
    assert "La visita è durata dieci minuti" in reason.inner_text()  # the family's own words
    check_page(page, "operator-bookings-dispute-en")
    dispute.locator("label", has_text="Pay the provider part of it").click()
    dispute.get_by_label("Part paid to the provider, in euro").fill("40,00")
    dispute.get_by_role("button", name="Decide").click()
    dispute = page.get_by_test_id(f"dispute-{booking_id}-1")
    assert "less than the price" in dispute.get_by_role("alert").inner_text()
    assert component(stack, booking_id)["stage"] == "disputed"
    dispute.locator("label", has_text="Pay the provider part of it").click()
    dispute.get_by_label("Part paid to the provider, in euro").fill("17,50")
    dispute.get_by_role("button", name="Decide").click()
    assert "The dispute is decided" in page.get_by_role("status").inner_text()
    settled = until(
        "settled",
        lambda: (c := component(stack, booking_id))["stage"] == "captured" and c,
    )
    assert settled["co_payment_due_cents"] == 1750

    # The provider records the family's co-payment as paid on its statement.
    login(page, "provider", PROVIDER)
    page.goto("/provider/statement")
    row = page.get_by_role("row").filter(has_text=booking_id)
    assert "€17.50" in row.inner_text()
    row.get_by_role("button", name="Record as paid").click()
    assert "The co-payment is recorded as paid" in page.get_by_role("status").inner_text()
    assert component(stack, booking_id)["co_payment_paid"] is True


def test_a_provider_opens_a_slot_and_reads_its_statement(
    page: Any, login: Any, stack: PortalStack
) -> None:
    login(page, "provider", PROVIDER)
    page.goto("/provider/offerings")
    check_page(page, "provider-offerings-it")
    form = page.locator("form[data-testid^='slot-form-']").first
    offering_id = str(form.get_attribute("data-testid")).removeprefix("slot-form-")
    day = (datetime.now(UTC) + timedelta(days=20)).date()
    form.get_by_label("Giorno").fill(day.isoformat())
    form.get_by_label("Ora di inizio").fill("10:15")
    form.get_by_label("Durata (minuti)").fill("0")  # a mistake
    form.get_by_role("button", name="Apri la disponibilità").click()
    form = page.locator("form[data-testid^='slot-form-']").first
    assert "La durata è un numero di minuti" in form.get_by_role("alert").inner_text()
    form.get_by_label("Durata (minuti)").fill("45")
    form.get_by_role("button", name="Apri la disponibilità").click()
    assert "La disponibilità è aperta" in page.get_by_role("status").inner_text()
    with stack.api("catalog", "provider", PROVIDER) as catalog:
        slots = catalog.get(f"/offerings/{offering_id}/slots", params={"from_date": str(day)})
    rome = [datetime.fromisoformat(s["starts_at"]).astimezone(ROME) for s in slots.json()]
    assert any(t.date() == day and t.strftime("%H:%M") == "10:15" for t in rome)
    page.goto("/provider/statement")
    check_page(page, "provider-statement-it")
    set_language(page, stack, "en")
    page.goto("/provider/offerings")
    check_page(page, "provider-offerings-en")
    page.goto("/provider/statement")
    assert page.get_by_test_id("captured-total").is_visible()
    check_page(page, "provider-statement-en")


def test_the_operator_suspends_and_reinstates_a_provider_and_opens_a_round(
    page: Any, login: Any, stack: PortalStack
) -> None:
    login(page, "operator")
    page.goto("/operator/providers")
    check_page(page, "operator-providers-it")
    row = page.get_by_test_id("provider-coop-elvo")
    row.get_by_role("button", name="Sospendi").click()  # no reason chosen: refused
    row = page.get_by_test_id("provider-coop-elvo")
    assert "Scegli perché l'ente viene sospeso." in row.get_by_role("alert").inner_text()
    row.get_by_label("Perché sospendere").select_option("insurance_expired")
    row.get_by_label("Spiegazione (facoltativa)").fill("Polizza in rinnovo")
    row.get_by_role("button", name="Sospendi").click()
    assert "L'ente è sospeso" in page.get_by_role("status").inner_text()
    row = page.get_by_test_id("provider-coop-elvo")
    assert "Sospeso" in row.inner_text()
    row.get_by_role("button", name="Riattiva").click()
    assert "L'ente è riattivato" in page.get_by_role("status").inner_text()
    assert "Accreditato" in page.get_by_test_id("provider-coop-elvo").inner_text()
    with stack.api("catalog", "operator") as catalog:
        assert catalog.get("/providers/coop-elvo").json()["status"] == "accredited"

    page.goto("/operator/funds")
    check_page(page, "operator-funds-it")
    fund = page.get_by_label("Fondo")
    fund.select_option(fund.locator("option", has_text="Cossato").get_attribute("value"))
    title = f"Buoni prova {uuid.uuid4().hex[:6]}"
    page.get_by_label("Titolo del bando").fill(title)
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date()
    page.get_by_label("Domande dal").fill(tomorrow.isoformat())
    page.get_by_label("Domande fino al (incluso)").fill((tomorrow + timedelta(days=10)).isoformat())
    page.get_by_label("Budget del bando (€)").fill("millecinquecento")  # a mistake
    page.get_by_label("Importo per nucleo (€)").fill("150")
    page.get_by_label("Massimo per nucleo (€)").fill("300,00")
    page.get_by_role("button", name="Apri il bando").click()
    assert "Questo non è un importo in euro" in page.locator("#r-budget-error").inner_text()
    page.get_by_label("Budget del bando (€)").fill("1.500,00")
    page.get_by_role("button", name="Apri il bando").click()
    assert "Il bando è aperto" in page.get_by_role("status").inner_text()
    assert title in page.get_by_role("table").nth(1).inner_text()
    with stack.api("vouchers", "operator") as vouchers:
        opened = [r for r in vouchers.get("/rounds").json() if r["title"] == title]
    assert [r["budget_cents"] for r in opened] == [150000]

    page.goto("/operator/bookings")
    check_page(page, "operator-bookings-it")
    page.goto("/operator/territory")
    assert "territories/biella.toml" in page.locator("main").inner_text()
    check_page(page, "operator-territory-it")
    set_language(page, stack, "en")
    for name in ("providers", "funds", "bookings", "territory"):
        page.goto(f"/operator/{name}")
        check_page(page, f"operator-{name}-en")
