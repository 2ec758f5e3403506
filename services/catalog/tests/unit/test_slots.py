from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.domain.errors import HoldNotActive, NotBookable, RequestMismatch, SlotFull
from catalog.domain.slot import Slot
from catalog.settings import CatalogSettings
from servicekit.domain import Conflict

from ..conftest import offer, register, slot

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIFTEEN_MINUTES = timedelta(minutes=15)


def new_slot(capacity: int = 2) -> Slot:
    from uuid import uuid4

    starts = NOW + timedelta(days=3)
    return Slot.open(uuid4(), "coop-la-rete", starts, starts + timedelta(hours=1), capacity, NOW)


def test_a_hold_replayed_twice_holds_once() -> None:
    s = new_slot(capacity=2)
    first = s.hold("booking-1/part-1", 1, "beneficiary:b1", NOW, FIFTEEN_MINUTES)
    again = s.hold("booking-1/part-1", 1, "beneficiary:b1", NOW, FIFTEEN_MINUTES)
    assert first.status == again.status == "held"
    assert s.available_at(NOW) == 1
    assert [type(e).__name__ for e in s.collect_events()] == ["Opened", "Held"]


def test_a_refused_hold_stays_refused_when_replayed_after_places_free_up() -> None:
    s = new_slot(capacity=1)
    s.hold("r1", 1, "a", NOW, FIFTEEN_MINUTES)
    assert s.hold("r2", 1, "b", NOW, FIFTEEN_MINUTES).status == "refused"
    s.release("r1", "a")
    assert s.hold("r2", 1, "b", NOW, FIFTEEN_MINUTES).status == "refused"
    assert s.available_at(NOW) == 1


def test_a_request_id_reused_for_another_quantity_is_refused() -> None:
    s = new_slot()
    s.hold("r1", 1, "a", NOW, FIFTEEN_MINUTES)
    with pytest.raises(RequestMismatch, match="use a new request id"):
        s.hold("r1", 2, "a", NOW, FIFTEEN_MINUTES)


def test_confirming_and_releasing_twice_changes_nothing_the_second_time() -> None:
    s = new_slot()
    s.hold("r1", 1, "a", NOW, FIFTEEN_MINUTES)
    s.confirm("r1", NOW, "a")
    s.confirm("r1", NOW, "a")
    s.release("r1", "a")
    s.release("r1", "a")
    names = [type(e).__name__ for e in s.collect_events()]
    assert names == ["Opened", "Held", "HoldConfirmed", "Released"]
    assert s.available_at(NOW) == 2


def test_an_expired_hold_gives_its_places_back_and_cannot_be_confirmed() -> None:
    s = new_slot(capacity=1)
    s.hold("r1", 1, "a", NOW, FIFTEEN_MINUTES)
    later = NOW + timedelta(minutes=16)
    assert s.available_at(later) == 1
    with pytest.raises(HoldNotActive, match="expired"):
        s.confirm("r1", later, "a")
    assert s.hold("r2", 1, "b", later, FIFTEEN_MINUTES).status == "held"


def test_a_release_before_its_hold_leaves_a_tombstone_so_the_late_hold_is_not_granted() -> None:
    s = new_slot()
    s.release("r1", "a")
    assert s.hold("r1", 1, "a", NOW, FIFTEEN_MINUTES).status == "released"
    assert s.available_at(NOW) == 2


def test_the_application_answers_a_replayed_hold_with_the_same_hold(
    app: CatalogApplication,
) -> None:
    offering = offer(app, register(app))
    slot_id = slot(app, offering, capacity=1)
    hold = cmd.HoldSlot(request_id="saga-42", quantity=1)
    first = app.hold_slot(slot_id, hold, "beneficiary:b1")
    second = app.hold_slot(slot_id, hold, "beneficiary:b1")
    assert first == second
    with pytest.raises(SlotFull, match="only 0 places left"):
        app.hold_slot(slot_id, cmd.HoldSlot(request_id="saga-43"), "beneficiary:b2")
    with pytest.raises(SlotFull):  # replayed: the same refusal, even after a release
        app.release_hold(slot_id, "saga-42", "beneficiary:b1")
        app.hold_slot(slot_id, cmd.HoldSlot(request_id="saga-43"), "beneficiary:b2")
    assert app.get_slot(slot_id).version == 4  # opened, held, refused, released: nothing more


def test_a_suspended_providers_slots_cannot_be_held(app: CatalogApplication) -> None:
    provider = register(app)
    slot_id = slot(app, offer(app, provider))
    app.suspend_provider(provider, cmd.SuspendProvider(reason_code="inspection"), "operator")
    with pytest.raises(NotBookable, match="suspended"):
        app.hold_slot(slot_id, cmd.HoldSlot(request_id="r1"), "beneficiary:b1")
    app.reinstate_provider(provider, "operator")
    assert app.hold_slot(slot_id, cmd.HoldSlot(request_id="r1"), "beneficiary:b1").status == "held"


def test_a_draft_offerings_slot_cannot_be_held(app: CatalogApplication) -> None:
    slot_id = slot(app, offer(app, register(app), publish=False))
    with pytest.raises(NotBookable, match="draft"):
        app.hold_slot(slot_id, cmd.HoldSlot(request_id="r1"), "beneficiary:b1")


def test_concurrent_holds_from_two_processes_on_one_sqlite_store_never_oversell(
    app: CatalogApplication, settings: CatalogSettings
) -> None:
    capacity = 5
    slot_id = slot(app, offer(app, register(app)), capacity=capacity)
    other = CatalogApplication(settings)  # a second API process on the same store file
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(24)

    def book(n: int) -> None:
        target = app if n % 2 else other
        start.wait(timeout=30)
        try:
            target.hold_slot(slot_id, cmd.HoldSlot(request_id=f"r{n}"), f"beneficiary:b{n}")
            outcome = "held"
        except SlotFull:
            outcome = "full"
        except Conflict:
            outcome = "conflict"  # too many concurrent retries: refused, nothing held
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=book, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    other.close()
    stored = app.get_slot(slot_id)
    held = [h for h in stored.holds.values() if h.status == "held"]
    assert sum(outcomes.values()) == 24
    assert outcomes["held"] == len(held) <= capacity
    assert stored.taken_at(datetime.now(UTC)) <= capacity
    assert outcomes["held"] >= 1
    assert outcomes["held"] + outcomes["full"] + outcomes["conflict"] == 24


def test_confirmations_and_releases_stored_before_holds_were_scoped_by_holder_still_load(
    app: CatalogApplication, settings: CatalogSettings
) -> None:
    import sqlite3

    offering = offer(app, register(app))
    slot_id = slot(app, offering, capacity=3)
    app.hold_slot(slot_id, cmd.HoldSlot(request_id="old-1", quantity=2), "beneficiary:b1")
    app.confirm_hold(slot_id, "old-1", "beneficiary:b1")
    app.hold_slot(slot_id, cmd.HoldSlot(request_id="old-2"), "beneficiary:b2")
    app.release_hold(slot_id, "old-2", "beneficiary:b2")
    app.release_hold(slot_id, "old-3", "beneficiary:b3")  # a release before its hold
    # Rewrite the confirmation and the releases as version 1 stored them: no holder.
    with sqlite3.connect(settings.sqlite_path) as db:
        (table,) = db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE '%originator_version%'"
        ).fetchone()
        rows = db.execute(
            f"SELECT originator_version, topic, state FROM {table} WHERE originator_id = ?",
            (slot_id.hex,),
        ).fetchall()
        if not rows:  # ids stored as text
            rows = db.execute(
                f"SELECT originator_version, topic, state FROM {table} WHERE originator_id = ?",
                (str(slot_id),),
            ).fetchall()
        rewritten = 0
        for version, topic, state in rows:
            if not topic.endswith(("HoldConfirmed", "Released")):
                continue
            decoded = app.mapper.transcoder.decode(state)
            del decoded["holder"]
            decoded.pop("class_version")
            db.execute(
                f"UPDATE {table} SET state = ? WHERE originator_version = ? AND topic = ?",
                (app.mapper.transcoder.encode(decoded), version, topic),
            )
            rewritten += 1
    assert rewritten == 3
    again = CatalogApplication(settings)
    try:
        stored = again.get_slot(slot_id)
        statuses = {key: h.status for key, h in stored.holds.items()}
        assert statuses == {
            ("beneficiary:b1", "old-1"): "confirmed",
            ("beneficiary:b2", "old-2"): "released",
            ("", "old-3"): "released",
        }
        # The old tombstone still refuses the late hold, whoever sends it.
        with pytest.raises(HoldNotActive):
            again.hold_slot(slot_id, cmd.HoldSlot(request_id="old-3"), "beneficiary:b3")
        assert stored.available_at(datetime.now(UTC)) == 1
    finally:
        again.close()


def test_the_slots_of_an_offering_that_cannot_be_booked_show_no_free_places(
    app: CatalogApplication,
) -> None:
    provider_id = register(app)
    offering_id = offer(app, provider_id, publish=False)
    slot(app, offering_id, capacity=3)
    today = datetime.now(UTC).date()

    def free() -> list[int]:
        return [s["available"] for s in app.slots(offering_id, today)]

    assert free() == [0]  # a draft
    app.publish_offering(offering_id)
    assert free() == [3]
    app.suspend_provider(provider_id, cmd.SuspendProvider(reason_code="audit"), "operator")
    assert free() == [0]
    app.reinstate_provider(provider_id, "operator")
    assert free() == [3]
