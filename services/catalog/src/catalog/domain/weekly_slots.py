"""Slots opened from a weekly availability: every weekly time between two dates, in the
territory's local time, minus the exception dates, the times already gone and the slots that
already exist."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol
from uuid import UUID

from catalog.domain.errors import InvalidPackage, InvalidSlot
from catalog.domain.offering import Offering
from catalog.domain.slot import Slot, slot_id_for

MAX_SLOTS_PER_CALL = 1000


class WeeklyTime(Protocol):
    @property
    def weekday(self) -> int: ...  # 0 = Monday … 6 = Sunday

    @property
    def start(self) -> time: ...

    @property
    def duration_minutes(self) -> int: ...


class WeeklySchedule(Protocol):
    @property
    def from_date(self) -> date: ...

    @property
    def to_date(self) -> date: ...

    @property
    def weekly(self) -> Sequence[WeeklyTime]: ...

    @property
    def except_dates(self) -> Sequence[date]: ...

    @property
    def capacity(self) -> int: ...


def weekly_slots(
    offering: Offering,
    schedule: WeeklySchedule,
    zone: tzinfo,
    now: datetime,
    exists: Callable[[UUID], bool],
) -> list[Slot]:
    """The new slots of ``offering`` for ``schedule``; ``exists`` tells whether a slot id is
    already taken (those are skipped)."""
    offering.check_can_open_slots()
    today = now.astimezone(zone).date()
    if schedule.from_date < today:
        raise InvalidSlot(
            f"from_date {schedule.from_date.isoformat()} is in the past: weekly slots open "
            f"from today ({today.isoformat()}) on",
            today=today.isoformat(),
        )
    new: list[Slot] = []
    for starts, ends in weekly_times(schedule, zone):
        if starts <= now or exists(slot_id_for(offering.id, starts)):
            continue  # today's times already gone, or a slot already there
        new.append(
            Slot.open(offering.id, offering.provider_id, starts, ends, schedule.capacity, now)
        )
        if len(new) > MAX_SLOTS_PER_CALL:
            raise InvalidPackage(f"at most {MAX_SLOTS_PER_CALL} slots at a time")
    return new


def weekly_times(schedule: WeeklySchedule, zone: tzinfo) -> Iterator[tuple[datetime, datetime]]:
    """Start and end (UTC) of every weekly time of the schedule, day by day."""
    skip = set(schedule.except_dates)
    day = schedule.from_date
    while day <= schedule.to_date:
        if day not in skip:
            for weekly in schedule.weekly:
                if weekly.weekday == day.weekday():
                    starts = datetime.combine(day, weekly.start, tzinfo=zone).astimezone(UTC)
                    yield starts, starts + timedelta(minutes=weekly.duration_minutes)
        day += timedelta(days=1)
