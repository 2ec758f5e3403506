"""The booking service's HTTP API as the portal calls it (the family's side: book, follow,
cancel with the fee shown first, move, confirm a delivery, dispute), and what the booking
pages read from the other services: an offering or a package with its free slots (catalog),
what the user's welfare credit (wallet) and service vouchers (vouchers) can pay."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from portal.clients import Services
from portal.clients.base import Problem
from portal.labels import N_


@dataclass(frozen=True)
class Part:
    """One offering of what is being booked: the offering alone, or a part of a package."""

    order: int
    offering: dict[str, Any]
    required: bool
    free: list[dict[str, Any]]

    @property
    def offering_id(self) -> str:
        return str(self.offering["offering_id"])

    @property
    def price_cents(self) -> int:
        return int(self.offering["price_cents"])

    @property
    def category(self) -> str:
        return str(self.offering.get("category", ""))

    def slot(self, slot_id: str) -> dict[str, Any] | None:
        return next((s for s in self.free if s.get("slot_id") == slot_id), None)


@dataclass(frozen=True)
class Voucher:
    voucher_id: str
    code: str
    available_cents: int
    expires_at: str


@dataclass(frozen=True)
class Sources:
    """What can pay for the chosen categories: one wallet and up to three service vouchers."""

    wallet_id: str | None = None
    wallet_available: dict[str, int] = field(default_factory=dict)
    vouchers: list[Voucher] = field(default_factory=list)
    members: dict[str, str] = field(default_factory=dict)  # family member id -> relationship
    wallet_year: int | None = None  # the plan's year: the fringe year its spends count on

    def wallet_max(self, categories: set[str]) -> int:
        """What the credit can pay for every one of ``categories`` (0 if one is not allowed)."""
        if self.wallet_id is None or not categories:
            return 0
        return min(self.wallet_available.get(c, 0) for c in categories)


# --- the catalog --------------------------------------------------------------------------------


async def offering_part(services: Services, offering_id: str, token: str | None) -> list[Part]:
    offering, slots = await asyncio.gather(
        services.catalog.get(f"/offerings/{offering_id}", token),
        services.catalog.get(f"/offerings/{offering_id}/slots", token),
    )
    return [Part(1, offering, True, _free(slots))]


async def package_parts(
    services: Services, package_id: str, token: str | None
) -> tuple[dict[str, Any], list[Part]]:
    package = await services.catalog.get(f"/packages/{package_id}", token)
    parts = sorted(package.get("parts", []), key=lambda p: p.get("order", 0))
    offerings = await asyncio.gather(
        *(services.catalog.get(f"/offerings/{p['offering_id']}", token) for p in parts)
    )
    slots = await asyncio.gather(
        *(services.catalog.get(f"/offerings/{p['offering_id']}/slots", token) for p in parts)
    )
    return package, [
        Part(int(p.get("order", i + 1)), o, bool(p.get("required", True)), _free(s))
        for i, (p, o, s) in enumerate(zip(parts, offerings, slots, strict=True))
    ]


async def free_slots(services: Services, offering_id: str, token: str | None) -> list[Any]:
    return _free(await services.catalog.get(f"/offerings/{offering_id}/slots", token))


async def offering_titles(
    services: Services, offering_ids: set[str], token: str | None
) -> dict[str, dict[str, Any]]:
    """The offerings of some bookings, by id (one missing or withdrawn is left out)."""

    async def one(offering_id: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await services.catalog.get(f"/offerings/{offering_id}", token)
        except Problem:
            return None
        return found

    ids = sorted(offering_ids)
    found = await asyncio.gather(*(one(i) for i in ids))
    return {i: f for i, f in zip(ids, found, strict=True) if f is not None}


def _free(slots: Any) -> list[dict[str, Any]]:
    return [s for s in slots or [] if int(s.get("available", 0)) > 0]


# --- what pays ----------------------------------------------------------------------------------


async def sources_of(services: Services, token: str, categories: set[str]) -> Sources:
    """The signed-in beneficiary's open wallet and the service vouchers whose round pays for
    every one of ``categories``."""
    wallets, vouchers, rounds, family = await asyncio.gather(
        services.wallet.get("/me/wallets", token),
        services.vouchers.get("/vouchers/mine", token),
        services.vouchers.get("/rounds", token),
        _family(services, token),
    )
    members = {
        str(m["member_id"]): str(m.get("relationship", ""))
        for m in (family or {}).get("members", [])
    }
    wallet = next((w for w in wallets or [] if not w.get("closed")), None)
    paying_rounds = {
        str(r["round_id"])
        for r in rounds or []
        if r.get("kind") == "services" and categories <= set(r.get("service_categories") or [])
    }
    usable = [
        Voucher(
            voucher_id=str(v["voucher_id"]),
            code=str(v.get("code") or ""),
            available_cents=int(v["remaining_cents"]) - int(v.get("held_cents", 0)),
            expires_at=str(v.get("expires_at", "")),
        )
        for v in vouchers or []
        if v.get("spendable") and str(v.get("round_id")) in paying_rounds
    ]
    usable = [v for v in usable if v.available_cents > 0][:3]
    if wallet is None:
        return Sources(vouchers=usable, members=members)
    available = {str(c): int(v) for c, v in (wallet.get("available_by_category") or {}).items()}
    year = wallet.get("year")
    return Sources(
        str(wallet["wallet_id"]),
        available,
        usable,
        members,
        int(year) if isinstance(year, int) else None,
    )


async def _family(services: Services, token: str) -> Any:
    """The family members an employee named in the wallet (whom the credit may care for)."""
    try:
        return await services.wallet.get("/me/family", token)
    except Problem:
        return {}


async def voucher_by_code(services: Services, token: str, code: str) -> dict[str, Any]:
    """A voucher a social worker was given the code of (its balance and holder)."""
    found: dict[str, Any] = await services.vouchers.get(f"/vouchers/{code}", token)
    return found


_CODE = re.compile(r"^[0-9A-Z*~$=-]{4,40}$")  # Crockford's symbols and check symbols


async def voucher_of_citizen(
    services: Services, token: str, code: str, beneficiary: str, categories: set[str]
) -> tuple[Sources, str | None]:
    """A service voucher a social worker was given the code of, if it is the citizen's (held
    or delegated), still spendable and of a round paying for ``categories``; else why not (a
    message for the person). A social worker reads a voucher by its code, never a citizen's
    list of vouchers nor their wallet."""
    if not _CODE.match(code):
        return Sources(), N_("No voucher has this code.")
    try:
        found = await services.vouchers.get(f"/vouchers/{quote(code, safe='-')}", token)
    except Problem:
        return Sources(), N_("No voucher has this code.")
    if beneficiary not in (found.get("holder"), found.get("delegate_id")):
        return Sources(), N_("This voucher is not the citizen's.")
    if not found.get("spendable"):
        return Sources(), N_("This voucher can no longer be spent.")
    paying = await services.vouchers.get(f"/rounds/{found['round_id']}", token)
    if paying.get("kind") != "services" or not categories <= set(
        paying.get("service_categories") or []
    ):
        return Sources(), N_("This voucher does not pay for this service.")
    available = int(found["remaining_cents"]) - int(found.get("held_cents", 0))
    if available <= 0:
        return Sources(), N_("Nothing is left on this voucher.")
    voucher = Voucher(str(found["voucher_id"]), code, available, str(found.get("expires_at", "")))
    return Sources(vouchers=[voucher]), None


FRINGE = "fringe_purchase"  # TUIR art. 51 c. 3: tax-free up to the year's cap, then all taxable


@dataclass(frozen=True)
class FringeStatement:
    """The signed-in employee's fringe benefits of a year, as the wallet (and the payroll)
    counts them: ``cap_cents`` is None while the year has no fringe spend yet."""

    year: int
    cap_cents: int | None
    fringe_cents: int
    taxable: bool


async def fringe_statement(services: Services, token: str, year: int) -> FringeStatement | None:
    """``GET /me/fringe/{year}`` of the wallet; None if it refuses (the wallet still decides
    when the booking's hold arrives)."""
    try:
        found = await services.wallet.get(f"/me/fringe/{year}", token)
    except Problem:
        return None
    cap = found.get("cap_cents")
    return FringeStatement(
        year=int(found.get("year", year)),
        cap_cents=int(cap) if cap is not None else None,
        fringe_cents=int(found.get("fringe_cents") or 0),
        taxable=bool(found.get("taxable")),
    )


# --- the booking service ------------------------------------------------------------------------


async def request_booking(services: Services, token: str, body: dict[str, Any]) -> dict[str, Any]:
    accepted: dict[str, Any] = await services.booking.post("/bookings", token, json=body)
    return accepted


async def my_bookings(services: Services, token: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await services.booking.get(
        "/bookings/mine", token, params={"limit": 100}
    )
    return found


async def booking(services: Services, token: str, booking_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await services.booking.get(f"/bookings/{booking_id}", token)
    return found


async def cancellation(services: Services, token: str, booking_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await services.booking.get(
        f"/bookings/{booking_id}/cancellation", token
    )
    return found


async def cancel(
    services: Services, token: str, booking_id: str, request_id: str, fee_cents: int
) -> dict[str, Any]:
    body = {"request_id": request_id, "accept_fee_cents": fee_cents}
    done: dict[str, Any] = await services.booking.post(
        f"/bookings/{booking_id}/cancel", token, json=body
    )
    return done


async def reschedule(
    services: Services, token: str, booking_id: str, request_id: str, component: int, slot_id: str
) -> dict[str, Any]:
    body = {"request_id": request_id, "component": component, "slot_id": slot_id}
    done: dict[str, Any] = await services.booking.post(
        f"/bookings/{booking_id}/reschedule", token, json=body
    )
    return done


async def confirm_delivery(
    services: Services, token: str, booking_id: str, index: int
) -> dict[str, Any]:
    done: dict[str, Any] = await services.booking.post(
        f"/bookings/{booking_id}/components/{index}/delivery-confirmation", token
    )
    return done


async def dispute(
    services: Services, token: str, booking_id: str, index: int, reason: str
) -> dict[str, Any]:
    done: dict[str, Any] = await services.booking.post(
        f"/bookings/{booking_id}/components/{index}/dispute", token, json={"reason": reason}
    )
    return done
