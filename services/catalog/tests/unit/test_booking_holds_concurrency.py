"""A slot is never oversold, whoever asks at once: fifty bookings by event for its last place
(handled by two consumer processes on one store), or bookings and HTTP callers together."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.domain.errors import SlotFull
from catalog.settings import CatalogSettings
from eventsourcing.persistence import PersistenceError
from servicekit.domain import Conflict

from ..booking_messages import Booking, answers, deliver
from ..conftest import offer, register, slot


def delivered(app: CatalogApplication, booking: Booking, partition: int) -> None:
    """As the consumer does: a message whose write kept colliding is tried again (the
    supervisor restarts the consumer), until it is stored or known as done."""
    for _ in range(50):
        try:
            deliver(app, booking.hold(), notification_id=1, partition=partition)
            return
        except PersistenceError:  # IntegrityError after five collisions, a locked database...
            continue
    raise AssertionError(f"booking {booking.booking_id} was never handled")


def at_once(jobs: list[Callable[[], None]]) -> None:
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], None]) -> None:
        start.wait(timeout=30)
        job()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)


def test_fifty_bookings_at_once_for_the_last_place_get_one_hold_and_forty_nine_refusals(
    app: CatalogApplication, settings: CatalogSettings
) -> None:
    provider = register(app)
    offering_id = offer(app, provider)
    slot_id = slot(app, offering_id, capacity=3)
    for n in (1, 2):  # two places already held over HTTP: one left
        app.hold_slot(slot_id, cmd.HoldSlot(request_id=f"r{n}"), f"beneficiary:b{n}")
    other = CatalogApplication(settings)  # a second consumer process on the same store
    bookings = [Booking(slot_id, offering_id, provider) for _ in range(50)]
    try:
        at_once(
            [
                (lambda b=b, n=n: delivered(app if n % 2 else other, b, partition=n))
                for n, b in enumerate(bookings)
            ]
        )
    finally:
        other.close()

    said = [a for a in answers(app) if a.holder is not None]  # the HTTP holds name none
    assert Counter(a.request_id for a in said) == {b.request_id: 1 for b in bookings}
    held = [a for a in said if type(a).__name__ == "SlotHeld"]
    refused = [a for a in said if type(a).__name__ == "SlotHoldRefused"]
    assert len(held) == 1 and len(refused) == 49
    assert {a.reason for a in refused} == {"not_enough_places"}
    assert {a.holder for a in said} == {b.holder for b in bookings}
    stored = app.get_slot(slot_id)
    assert stored.taken_at(datetime.now(UTC)) == stored.capacity == 3


def test_bookings_by_event_and_http_callers_at_once_never_oversell_a_slot(
    app: CatalogApplication,
) -> None:
    provider = register(app)
    offering_id = offer(app, provider)
    slot_id = slot(app, offering_id, capacity=2)
    bookings = [Booking(slot_id, offering_id, provider) for _ in range(15)]
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def http_hold(n: int) -> None:
        try:
            app.hold_slot(slot_id, cmd.HoldSlot(request_id=f"r{n}"), f"beneficiary:b{n}")
            outcome = "held"
        except (SlotFull, Conflict):
            outcome = "not held"
        with lock:
            outcomes[outcome] += 1

    jobs: list[Callable[[], None]] = [
        (lambda b=b, n=n: delivered(app, b, partition=n)) for n, b in enumerate(bookings)
    ]
    jobs += [(lambda n=n: http_hold(n)) for n in range(15)]
    at_once(jobs)

    said = answers(app)
    booked = [a for a in said if a.holder is not None]
    assert Counter(a.request_id for a in booked) == {b.request_id: 1 for b in bookings}
    held_by_bookings = sum(1 for a in booked if type(a).__name__ == "SlotHeld")
    assert held_by_bookings + outcomes["held"] <= 2
    stored = app.get_slot(UUID(str(slot_id)))
    assert stored.taken_at(datetime.now(UTC)) == held_by_bookings + outcomes["held"] == 2
