"""The calls of the beneficiary's own pages (citizen, employee, delegate), each with the user's
token: the wallet service (``/me/wallets``, ``/me/delegated-wallets``, a wallet's history,
``/me/fringe/{year}``), the vouchers service (``/vouchers/mine``, ``/applications/mine``, the
rounds taking applications, ``POST /applications``) and the notifications service (the
signed-in user's own inbox, ``/inbox/{role:subject}``). Every call raises ``Problem`` for a
refusal and ``ServiceUnavailable`` when the service does not answer (see ``clients.base``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from portal.clients import Services

NOTICE_LANGUAGES = ("it", "en")  # the languages the notifications service writes its notices in


async def my_wallets(services: Services, token: str) -> list[dict[str, Any]]:
    """The employee's own wallets (one per plan and year)."""
    found: list[dict[str, Any]] = await services.wallet.get("/me/wallets", token)
    return found


async def delegated_wallets(services: Services, token: str) -> list[dict[str, Any]]:
    """The wallets of the employees who named the user their delegate."""
    found: list[dict[str, Any]] = await services.wallet.get("/me/delegated-wallets", token)
    return found


async def wallet_history(services: Services, token: str, wallet_id: str) -> list[dict[str, Any]]:
    """A wallet's movements, oldest first, each with the running balance, held and available."""
    found: list[dict[str, Any]] = await services.wallet.get(
        f"/wallets/{quote(wallet_id, safe='')}/history", token
    )
    return found


async def my_fringe(services: Services, token: str, year: int) -> dict[str, Any]:
    """The user's fringe benefits of ``year``: ``fringe_cents`` used, ``cap_cents`` (None when
    no cap is known for that year), ``taxable`` and ``taxable_cents``."""
    found: dict[str, Any] = await services.wallet.get(f"/me/fringe/{int(year)}", token)
    return found


async def my_vouchers(services: Services, token: str) -> list[dict[str, Any]]:
    """The vouchers the user holds or may spend as delegate, with their codes."""
    found: list[dict[str, Any]] = await services.vouchers.get("/vouchers/mine", token)
    return found


async def voucher_detail(services: Services, token: str, code: str) -> dict[str, Any]:
    """A voucher the user holds or spends for, with its history (each entry with the balance
    after it)."""
    found: dict[str, Any] = await services.vouchers.get(f"/vouchers/{quote(code, safe='')}", token)
    return found


async def my_applications(services: Services, token: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await services.vouchers.get("/applications/mine", token)
    return found


async def open_rounds(services: Services, token: str) -> list[dict[str, Any]]:
    """The rounds taking applications now."""
    found: list[dict[str, Any]] = await services.vouchers.get(
        "/rounds", token, params={"accepting_applications": "true"}
    )
    return found


async def round_of(services: Services, token: str, round_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await services.vouchers.get(
        f"/rounds/{quote(round_id, safe='')}", token
    )
    return found


async def submit_application(
    services: Services, token: str, application: dict[str, Any]
) -> dict[str, Any]:
    """``POST /applications``: ``{application_id, status}``; ``Problem`` ``already_applied``
    (409) when this household or this account already applied in the round."""
    found: dict[str, Any] = await services.vouchers.post("/applications", token, application)
    return found


async def inbox(services: Services, token: str, recipient: str, language: str) -> list[Any]:
    """The newest notices of ``recipient`` (``beneficiary:b-001``), written in ``language``
    (Italian or English: the service's two; any other page language reads them in English)."""
    lang = language if language in NOTICE_LANGUAGES else "en"
    found: list[dict[str, Any]] = await services.notifications.get(
        f"/inbox/{quote(recipient, safe=':')}", token, params={"lang": lang, "limit": 100}
    )
    return found
