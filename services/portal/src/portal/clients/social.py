"""The vouchers API as a municipal social worker calls it: the rounds, a round's applications
(with the households' personal data), approving or rejecting one, issuing a round's vouchers."""

from __future__ import annotations

from typing import Any

from portal.clients.base import ServiceClient

STATUSES = ("submitted", "approved", "waitlisted", "served", "rejected")


class SocialClient:
    def __init__(self, vouchers: ServiceClient, token: str) -> None:
        self.vouchers = vouchers
        self.token = token

    async def rounds(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.vouchers.get("/rounds", self.token)
        return found

    async def round(self, round_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.vouchers.get(f"/rounds/{round_id}", self.token)
        return found

    async def applications(self, round_id: str, status: str | None) -> list[dict[str, Any]]:
        params: dict[str, str | int] = {"limit": 1000}
        if status:
            params["status"] = status
        found: list[dict[str, Any]] = await self.vouchers.get(
            f"/rounds/{round_id}/applications", self.token, params=params
        )
        return found

    async def application(self, application_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.vouchers.get(
            f"/applications/{application_id}", self.token
        )
        return found

    async def approve(self, application_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self.vouchers.post(
            f"/applications/{application_id}/approve", self.token
        )
        return answer

    async def reject(self, application_id: str, reason_code: str, note: str) -> dict[str, Any]:
        body = {"reason_code": reason_code, "reason": note}
        answer: dict[str, Any] = await self.vouchers.post(
            f"/applications/{application_id}/reject", self.token, json=body
        )
        return answer

    async def issue(self, round_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self.vouchers.post(f"/rounds/{round_id}/issue", self.token)
        return answer
