"""The kit's transcoder writes exactly the bytes eventsourcing's JSONTranscoder writes, so a
store reads the same whichever wrote it."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import event
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from hypothesis import given, settings
from hypothesis import strategies as st
from servicekit.domain import Aggregate
from servicekit.settings import REPO_ROOT, ServiceSettings
from servicekit.store import DateAsISO, ServiceApplication
from servicekit.transcoder import FastJSONTranscoder


class Colour(enum.StrEnum):
    RED = "red"


class Unregistered:
    pass


def transcoders() -> tuple[JSONTranscoder, FastJSONTranscoder]:
    """Both, with the transcodings every service application registers."""
    app = ServiceApplication.__new__(ServiceApplication)
    library, fast = JSONTranscoder(), FastJSONTranscoder()
    for transcoder in (library, fast):
        ServiceApplication.register_transcodings(app, transcoder)
    return library, fast


LIBRARY, FAST = transcoders()


def encoded(transcoder: JSONTranscoder, value: Any) -> bytes | str:
    """The bytes written, or the kind of error raised."""
    try:
        return transcoder.encode(value)
    except Exception as error:
        return type(error).__name__


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),  # past 64 bits orjson refuses
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),  # every code point, lone surrogates and control characters included
    st.uuids(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))])),
    st.dates(),
    st.decimals(allow_nan=False),
    st.just(Colour.RED),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=5), inner, max_size=4),
        st.dictionaries(st.integers(), inner, max_size=2),
    ),
    max_leaves=12,
)


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(st.text(max_size=8), values, max_size=6))
def test_any_event_state_is_written_byte_for_byte_as_the_library_writes_it(
    state: dict[str, Any],
) -> None:
    assert encoded(FAST, state) == encoded(LIBRARY, state)


def test_the_usual_ledger_event_takes_the_fast_path_and_reads_back() -> None:
    state = {
        "timestamp": datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
        "correlation_id": None,
        "redemption_id": UUID("305d0428-babe-5890-ad8d-bb31eac14aca"),
        "merchant_id": "Forno Bianchi — Città",
        "amount_cents": 2_500,
        "period": {"from": date(2026, 11, 1), "to": date(2026, 11, 30)},
        "categories": ["food", "hygiene"],
        "note": 'a "quoted" line\nand a tab\t',
    }
    written = FAST._plain(state)  # no fallback: the orjson path handles it
    assert written["redemption_id"] == {"_type_": "uuid_hex", "_data_": state["redemption_id"].hex}
    assert FAST.encode(state) == LIBRARY.encode(state)
    assert LIBRARY.decode(FAST.encode(state)) == state


def test_an_unregistered_type_is_refused_as_the_library_refuses_it() -> None:
    with pytest.raises(TranscodingNotRegisteredError):
        FAST.encode({"thing": Unregistered()})


class Parcel(Aggregate):
    @event("Sent")
    def __init__(self, to: str, weight_grams: int, due: date, price: Decimal) -> None:
        self.to = to
        self.weight_grams = weight_grams
        self.due = due
        self.price = price


def test_a_store_written_by_the_kit_reads_the_same_through_the_library(tmp_path: Path) -> None:
    settings = ServiceSettings(
        service_name="parcels", data_dir=tmp_path, territories_dir=REPO_ROOT / "territories"
    )
    app = ServiceApplication(settings)
    assert isinstance(app.mapper.transcoder, FastJSONTranscoder)
    parcel = Parcel(to="Biella", weight_grams=1_200, due=date(2026, 12, 1), price=Decimal("4.90"))
    app.save(parcel)

    (stored,) = app.recorder.select_events(parcel.id)
    library = JSONTranscoder()
    app.register_transcodings(library)
    state = library.decode(stored.state)
    assert state["due"] == date(2026, 12, 1)
    assert state["price"] == Decimal("4.90")
    assert state["timestamp"] == parcel.created_on
    read = app.repository.get(parcel.id)
    assert (read.to, read.weight_grams, read.due, read.price) == (
        "Biella",
        1_200,
        date(2026, 12, 1),
        Decimal("4.90"),
    )
    assert isinstance(DateAsISO().encode(read.due), str)
