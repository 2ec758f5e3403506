"""The wallet service's API as the employer's (HR's) pages call it: the employer's own welfare
plans, a plan's statement and payroll lines, and the bulk load of employees from a CSV file.
Every call carries the employer's own token: the service shows each employer only its plans."""

from __future__ import annotations

from typing import Any

from portal.clients.base import ServiceClient

CSV_LIMIT_BYTES = 5_000_000  # what the wallet accepts per file


async def plans(wallet: ServiceClient, token: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await wallet.get("/plans", token)
    return found


async def plan(wallet: ServiceClient, token: str, plan_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await wallet.get(f"/plans/{plan_id}", token)
    return found


async def plan_report(wallet: ServiceClient, token: str, plan_id: str) -> dict[str, Any]:
    """The plan's statement: where the credit came from and went, and its bulk loads."""
    found: dict[str, Any] = await wallet.get(f"/plans/{plan_id}/report", token)
    return found


async def payroll(wallet: ServiceClient, token: str, year: int) -> list[dict[str, Any]]:
    """The taxable fringe benefits of the employer's employees in ``year``."""
    found: list[dict[str, Any]] = await wallet.get(f"/payroll/{year}", token)
    return found


async def load_employees(
    wallet: ServiceClient, token: str, plan_id: str, content: bytes, load_id: str | None
) -> dict[str, Any]:
    """The file as it is (the service reads UTF-8 or Windows-1252 and Italian amounts) in the
    request body, as ``text/csv``; the service's per-row report. The same file loads once: sent
    again, the report of its first load comes back with ``already_loaded``."""
    report: dict[str, Any] = await wallet.call(
        "POST",
        f"/plans/{plan_id}/employees.csv",
        token,
        params={"load_id": load_id} if load_id else None,
        content=content,
        headers={"Content-Type": "text/csv"},
    )
    return report
