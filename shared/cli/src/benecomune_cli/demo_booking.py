"""The Biella demo of the booking service, loaded through the services' public HTTP APIs as the
families and the providers of the demo catalogue would drive them (after the catalogue's and
the wallet's demos: the providers, their offerings and the employees' wallets are theirs).

Bookings in every state, each waited for (bounded) while the saga moves through Kafka:

* a **confirmed package** across three providers (home care, after-school club, social
  transport) for Lucia Ferrero (``beneficiary:b-biella-001``), paid with her welfare credit,
  each component accepted by its provider;
* one **compensated** after the home-care cooperative declined it (Chiara Bocca);
* one **delivered and captured** with mixed funding (welfare credit and a co-payment: Marco
  Rondi's social transport), on a slot the provider opens a few seconds ahead so that it can
  be marked delivered and confirmed by the family at once;
* one **cancelled late, with a fee** (Ion Popescu cancels a transport due in less than the
  offering's 48 free hours: half the price).

The demo tokens then have something to see: Lucia her package, ``provider:coop-il-filo`` its
accepted, declined and delivered components and its statement.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from servicekit.auth import DevIssuer

from benecomune_cli.demo_api import DemoApi, DemoDataError
from benecomune_cli.local_services import service_url

HOME_CARE = "coop-il-filo"
AFTER_SCHOOL = "coop-la-bessa"
TRANSPORT = "coop-valle-cervo"
LUCIA, MARCO, CHIARA, ION = "b-biella-001", "b-biella-101", "b-biella-102", "b-biella-103"
SETTLE_SECONDS = 120.0  # a saga step on a loaded laptop; the load fails, to be retried, after


class BookingDemo:
    def __init__(self, client: httpx.Client, issuer: DevIssuer, urls: dict[str, str]) -> None:
        self.booking = DemoApi(client, issuer, "booking")
        self.catalog = DemoApi(
            httpx.Client(base_url=urls["catalog"], timeout=30), issuer, "catalog"
        )
        self.wallet = DemoApi(httpx.Client(base_url=urls["wallet"], timeout=30), issuer, "wallet")

    def close(self) -> None:
        self.catalog.client.close()
        self.wallet.client.close()

    # --- the catalogue and the wallets ----------------------------------------------------------

    def offering(self, provider_id: str, employee_id: str) -> dict[str, Any]:
        """The provider's first published offering (by title) in a category the employee's
        welfare credit can pay for."""
        allowed = {c for c, cents in self.available(employee_id).items() if cents > 0}
        found = self.catalog.call("GET", "/search", "operator", params={"provider_id": provider_id})
        items = sorted(found["items"], key=lambda i: (i.get("title_en") or "", i["offering_id"]))
        for item in items:
            if item["category"] in allowed:
                return dict(item)
        raise DemoDataError(
            f"booking demo data: {provider_id} has no offering {employee_id}'s credit pays for"
        )

    def available(self, employee_id: str) -> dict[str, int]:
        wallet_id = self.wallet_of(employee_id)
        view = self.wallet.call("GET", f"/wallets/{wallet_id}", "beneficiary", employee_id)
        return {str(c): int(v) for c, v in view["available_by_category"].items()}

    def free_slot(self, offering_id: str, after: datetime) -> str:
        slots = self.catalog.call("GET", f"/offerings/{offering_id}/slots", "operator")
        for slot in slots:
            if slot["available"] > 0 and datetime.fromisoformat(slot["starts_at"]) > after:
                return str(slot.get("slot_id") or slot["id"])
        raise DemoDataError(f"booking demo data: offering {offering_id} has no free slot")

    def open_slot(self, provider_id: str, offering_id: str, starts: datetime) -> str:
        body = {
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
            "capacity": 1,
        }
        path = f"/offerings/{offering_id}/slots"
        return str(self.catalog.call("POST", path, "provider", provider_id, json=body)["id"])

    def wallet_of(self, employee_id: str) -> str:
        wallets = self.wallet.call("GET", "/me/wallets", "beneficiary", employee_id)
        if not wallets:
            raise DemoDataError(f"booking demo data: {employee_id} has no wallet")
        return str(wallets[0]["wallet_id"])

    # --- the booking ------------------------------------------------------------------------------

    def book(self, who: str, request_id: str, parts: list[tuple[str, str]], funding: Any) -> str:
        """Book once the booking service knows every offering and slot (it hears them from the
        catalog's topic): until then it answers 422 offering_unknown or slot_unknown."""
        body = {
            "request_id": request_id,
            "components": [{"offering_id": o, "slot_id": s} for o, s in parts],
            "funding": funding,
        }
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            r = self.booking.send("POST", "/bookings", "beneficiary", who, json=body, accept=(422,))
            if r.status_code != 422:
                return str(r.json()["booking_id"])
            code = r.json().get("code", "")
            if not code.endswith("_unknown") or time.monotonic() > deadline:
                raise DemoDataError(f"booking demo data: booking {request_id}: {r.text}")
            time.sleep(0.5)

    def view(self, booking_id: str) -> Any:
        return self.booking.call("GET", f"/bookings/{booking_id}", "operator")

    def until(self, booking_id: str, what: str, check: Callable[[Any], bool]) -> Any:
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            view = self.view(booking_id)
            if check(view):
                return view
            if time.monotonic() > deadline:
                raise DemoDataError(
                    f"booking demo data: booking {booking_id} not {what} after "
                    f"{SETTLE_SECONDS:.0f} s: status {view['status']}"
                )
            time.sleep(0.5)

    def provider_answers(self, booking_id: str, answer: str = "accept", note: str = "") -> None:
        view = self.until(booking_id, "asked of its providers", lambda v: all(
            c["acceptance"] in ("requested", "accepted") for c in v["components"]
        ) or v["status"] == "compensated")  # fmt: skip
        for c in view["components"]:
            if c["acceptance"] == "requested":
                path = f"/bookings/{booking_id}/components/{c['index']}/{answer}"
                body = {"note": note} if note else {}
                self.booking.call("POST", path, "provider", c["provider_id"], json=body)

    # --- the story -------------------------------------------------------------------------------

    def load(self) -> list[str]:
        now = datetime.now(UTC)
        offers = {p: self.offering(p, LUCIA) for p in (HOME_CARE, AFTER_SCHOOL, TRANSPORT)}
        later = now + timedelta(days=3)
        # 1. Lucia's package of three providers, paid with her welfare credit: confirmed.
        parts = [
            (o["offering_id"], self.free_slot(o["offering_id"], later)) for o in offers.values()
        ]
        package = self.book(LUCIA, "demo-package", parts, {"wallet": self._wallet(LUCIA, offers)})
        self.provider_answers(package)
        self.until(package, "confirmed", lambda v: v["status"] == "confirmed")
        # 2. Chiara's home care, declined by the cooperative: compensated.
        care = self.offering(HOME_CARE, CHIARA)
        home = care["offering_id"]
        slot = self.free_slot(home, later + timedelta(days=1))
        declined = self.book(
            CHIARA,
            "demo-declined",
            [(home, slot)],
            {"wallet": self._wallet(CHIARA, {HOME_CARE: care})},
        )
        self.provider_answers(declined, "decline", "Nessun operatore libero quel giorno")
        self.until(declined, "compensated", lambda v: v["status"] == "compensated")
        # 3. Marco's transport, paid with credit and a co-payment: delivered and captured.
        transport = self.offering(TRANSPORT, MARCO)
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=20)
        slot = self.open_slot(TRANSPORT, transport["offering_id"], starts)
        price = int(transport["price_cents"])
        split = [
            {"source": "wallet", "account_id": self.wallet_of(MARCO), "amount_cents": price - 500},
            {"source": "co_payment", "amount_cents": 500},
        ]
        delivered = self.book(MARCO, "demo-delivered", [(transport["offering_id"], slot)],
                              {"split": split})  # fmt: skip
        self.provider_answers(delivered)
        self.until(delivered, "confirmed", lambda v: v["status"] == "confirmed")
        time.sleep(max(0.0, (starts - datetime.now(UTC)).total_seconds()) + 1)
        base = f"/bookings/{delivered}/components/1"
        self.booking.call("POST", f"{base}/delivered", "provider", TRANSPORT,
                          json={"note": "Accompagnato alla visita"})  # fmt: skip
        self.booking.call("POST", f"{base}/delivery-confirmation", "beneficiary", MARCO)
        self.until(delivered, "captured", lambda v: v["status"] == "completed")
        # 4. Ion's transport tomorrow, cancelled inside the 48 free hours: half the price.
        tomorrow = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=20)
        transport = self.offering(TRANSPORT, ION)
        slot = self.open_slot(TRANSPORT, transport["offering_id"], tomorrow)
        late = self.book(ION, "demo-cancelled", [(transport["offering_id"], slot)],
                         {"wallet": self._wallet(ION, {TRANSPORT: transport})})  # fmt: skip
        self.provider_answers(late)
        self.until(late, "confirmed", lambda v: v["status"] == "confirmed")
        self.booking.call("POST", f"/bookings/{late}/cancel", "beneficiary", ION,
                          json={"request_id": "demo-cancel"})  # fmt: skip
        self.until(late, "cancelled, its fee captured", lambda v: v["status"] == "cancelled"
                   and all(f["status"] not in ("capture_requested", "release_requested")
                           for c in v["components"] for f in c["funds"]))  # fmt: skip
        return [package, declined, delivered, late]

    def _wallet(
        self, employee_id: str, offers: dict[str, dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The employee's wallet as a funding source, with what it can pay in every category
        of ``offers`` (the booking takes what it needs; the rest is a co-payment)."""
        available = self.available(employee_id)
        categories = {o["category"] for o in (offers or {}).values()} or set(available)
        cents = min((available.get(c, 0) for c in categories), default=0)
        return {"wallet_id": self.wallet_of(employee_id), "available_cents": cents}


def load(client: httpx.Client, issuer: DevIssuer) -> list[str]:
    """Load the Biella booking demo through the booking API at ``client``'s base URL (the
    catalog and the wallet at their local URLs); returns the booking ids."""
    demo = BookingDemo(client, issuer, {s: service_url(s) for s in ("catalog", "wallet")})
    try:
        return demo.load()
    finally:
        demo.close()
