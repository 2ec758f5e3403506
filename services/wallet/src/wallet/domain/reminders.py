"""Reminders before a wallet's credit expires: 30, then 7 days before (once per threshold)."""

from __future__ import annotations

EXPIRY_REMINDER_DAYS: tuple[int, ...] = (30, 7)
"""Days before the credit expires when the employee is reminded, once per threshold."""


def reminder_threshold(days_left: int) -> int | None:
    """The most urgent reminder threshold crossed with ``days_left`` days to go, or None."""
    crossed = [d for d in EXPIRY_REMINDER_DAYS if 0 <= days_left <= d]
    return min(crossed) if crossed else None


def due_reminder(days_left: int, reminded_days: list[int]) -> int | None:
    """The threshold due with ``days_left`` to go, unless it or a more urgent one was sent."""
    threshold = reminder_threshold(days_left)
    if threshold is None or any(sent <= threshold for sent in reminded_days):
        return None
    return threshold
