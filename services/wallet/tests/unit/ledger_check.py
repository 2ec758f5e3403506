"""Test helper: rebuild every account of the wallet ledger from the stored events alone, and
check the invariants (zero sum, nothing negative that must not be, legs agree)."""

from __future__ import annotations

from typing import Any

from wallet.application.app import WalletApplication
from wallet.domain.accounts import may_go_negative


def balances_from_store(app: WalletApplication) -> dict[str, int]:
    seen: dict[str, dict[str, Any]] = {}
    balances: dict[str, int] = {}
    start = 1
    for _ in range(100_000):
        batch = app.recorder.select_notifications(start=start, limit=500)
        if not batch:
            break
        for notification in batch:
            event = app.mapper.to_domain_event(notification)
            for t in getattr(event, "transfers", []):
                previous = seen.get(t["transfer_id"])
                if previous is not None:
                    assert previous == t, f"the two legs of {t['transfer_id']} differ"
                    continue
                seen[t["transfer_id"]] = t
                balances[t["from_account"]] = balances.get(t["from_account"], 0) - t["amount_cents"]
                balances[t["to_account"]] = balances.get(t["to_account"], 0) + t["amount_cents"]
        start = batch[-1].id + 1
    return balances


def assert_ledger_sound(app: WalletApplication) -> dict[str, int]:
    balances = balances_from_store(app)
    assert sum(balances.values()) == 0
    negative = {a: b for a, b in balances.items() if b < 0 and not may_go_negative(a)}
    assert not negative, negative
    return balances
