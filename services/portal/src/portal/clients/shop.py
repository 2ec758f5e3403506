"""The vouchers API as an affiliated shop calls it: its accounts in the rounds (the goods it may
sell for vouchers, what it is owed, its claims), a sale at the till, a void, a voucher read by
its code, a reimbursement claim."""

from __future__ import annotations

import re
from typing import Any

from portal.clients.base import Problem, ServiceClient

# A code as printed (XXXX-XXXX-XXXX-XXXX-C), found anywhere in what a QR scanner typed.
_PRINTED = re.compile(r"[0-9A-Za-z]{4}(?:[- ]?[0-9A-Za-z]{4}){3}[- ]?[0-9A-Za-z*~$=]")
_SEPARATORS = re.compile(r"[-\s]")


def code_from_scan(text: str | None) -> str:
    """The voucher code in what was typed or scanned: the code itself, or a QR code's content
    carrying it (a URL ``https://.../v/CODE`` or ``...?code=CODE``, a prefix ``voucher:CODE``).
    Empty when nothing was typed; the text itself when no code is in it (the API explains)."""
    value = (text or "").strip()
    if not value:
        return ""
    query = re.search(r"[?&]code=([^&#\s]+)", value)
    if query:
        value = query.group(1).replace("%2D", "-").replace("%2d", "-")
    compact = _SEPARATORS.sub("", value)
    if len(compact) == 17 and compact.isalnum():
        return value.upper()
    found = _PRINTED.findall(value)
    if found:
        return str(found[-1]).upper()
    tail = re.split(r"[/:=#?]", value)[-1]
    return tail.upper() if tail else value


def code_length_ok(code: str) -> bool:
    """A code has 16 characters and a check character, with or without dashes or spaces."""
    return len(_SEPARATORS.sub("", code)) == 17


class ShopClient:
    def __init__(self, vouchers: ServiceClient, token: str, merchant_id: str) -> None:
        self.vouchers = vouchers
        self.token = token
        self.merchant_id = merchant_id

    async def accounts(self) -> list[dict[str, Any]]:
        """The shop's account in every round it is affiliated to, each with its round."""
        rounds = await self.vouchers.get("/rounds", self.token)
        found: list[dict[str, Any]] = []
        for round_ in rounds:
            if round_.get("kind", "food") != "food":
                continue
            try:
                account = await self.vouchers.get(
                    f"/merchants/{self.merchant_id}/rounds/{round_['round_id']}", self.token
                )
            except Problem as problem:
                if problem.status in (403, 404, 409, 422):  # not affiliated to this round
                    continue
                raise
            found.append({**account, "round": round_})
        return found

    async def redeem(
        self, code: str, amount_cents: int, goods_category: str, request_id: str
    ) -> dict[str, Any]:
        body = {
            "code": code,
            "amount_cents": amount_cents,
            "goods_category": goods_category,
            "request_id": request_id,
        }
        answer: dict[str, Any] = await self.vouchers.post(
            f"/merchants/{self.merchant_id}/redemptions", self.token, json=body
        )
        return answer

    async def void(self, code: str, redemption_id: str) -> dict[str, Any]:
        body = {"code": code, "redemption_id": redemption_id}
        answer: dict[str, Any] = await self.vouchers.post(
            f"/merchants/{self.merchant_id}/voids", self.token, json=body
        )
        return answer

    async def sales(self, since: str, limit: int = 200) -> list[dict[str, Any]]:
        """The shop's sales at its tills since a moment (ISO 8601 with its offset), newest
        first: each with the end of its voucher's code, voided or not, voidable until when."""
        answer: list[dict[str, Any]] = await self.vouchers.get(
            f"/merchants/{self.merchant_id}/redemptions",
            self.token,
            params={"since": since, "limit": limit},
        )
        return answer

    async def voucher(self, code: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self.vouchers.get(f"/vouchers/{code}", self.token)
        return answer

    async def claim(self, round_id: str, period_from: str, period_to: str) -> dict[str, Any]:
        body = {"period_from": period_from, "period_to": period_to}
        answer: dict[str, Any] = await self.vouchers.post(
            f"/merchants/{self.merchant_id}/rounds/{round_id}/claims", self.token, json=body
        )
        return answer
