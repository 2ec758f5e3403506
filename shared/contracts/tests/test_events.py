"""Contract event models and the registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import ClassVar

import pytest
from benecomune_contracts import (
    ContractEvent,
    FundAllocated,
    FundToppedUp,
    NoticeRecorded,
    UnknownEventType,
    all_contracts,
    contract,
    contracts_for_topic,
    get_contract,
    parse_event,
)
from benecomune_contracts import registry as registry_module
from pydantic import ValidationError

ROME = timezone(timedelta(hours=2))


CHAIN = {
    "stream_id": "fund-3f1c",
    "sequence": 1,
    "prev_hash": "0" * 64,
    "event_hash": "a" * 64,
}


def a_fund_allocated(**changes: object) -> FundAllocated:
    fields: dict[str, object] = {
        **CHAIN,
        "fund_id": "fund-3f1c",
        "municipality_istat": "096004",
        "source_kind": "state_transfer",
        "source_reference": "OCDPC 658/2020",
        "amount_cents": 12_345_600,
        "allocated_at": datetime(2020, 3, 30, 9, 0, tzinfo=UTC),
    }
    fields.update(changes)
    return FundAllocated.model_validate(fields)


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a test register contracts without leaking them into other tests."""
    monkeypatch.setattr(registry_module, "_REGISTRY", dict(registry_module._REGISTRY))


def test_every_contract_has_a_versioned_type_name_published_on_its_services_topic() -> None:
    names = {model.type_name: model.topic for model in all_contracts()}
    assert names["benecomune.notifications.NoticeRecorded.v1"] == "benecomune.notifications"
    assert names["benecomune.vouchers.FundAllocated.v1"] == "benecomune.vouchers"
    assert names["benecomune.wallet.HoldCaptured.v1"] == "benecomune.wallet"
    assert names["benecomune.catalog.SlotHeld.v1"] == "benecomune.catalog"
    for type_name, topic in names.items():
        assert type_name.startswith(topic + ".") and type_name.endswith(".v1")


def test_an_event_survives_a_round_trip_through_json_bytes() -> None:
    event = a_fund_allocated()
    data = event.to_json_bytes()
    assert isinstance(data, bytes)
    assert FundAllocated.from_json_bytes(data) == event
    assert json.loads(data)["amount_cents"] == 12_345_600


def test_times_are_normalised_to_utc_and_written_with_their_offset() -> None:
    event = a_fund_allocated(allocated_at=datetime(2020, 3, 30, 11, 0, tzinfo=ROME))
    assert event.allocated_at == datetime(2020, 3, 30, 9, 0, tzinfo=UTC)
    assert event.allocated_at.utcoffset() == timedelta(0)
    assert json.loads(event.to_json_bytes())["allocated_at"] == "2020-03-30T09:00:00Z"


def test_a_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        a_fund_allocated(allocated_at=datetime(2020, 3, 30, 9, 0))


@pytest.mark.parametrize("amount", [0, -100])
def test_a_fund_cannot_be_allocated_a_zero_or_negative_amount(amount: int) -> None:
    with pytest.raises(ValidationError, match="amount_cents"):
        a_fund_allocated(amount_cents=amount)


@pytest.mark.parametrize("amount", ["100", 100.0, 1.5, True])
def test_amounts_must_be_json_integers_of_cents(amount: object) -> None:
    with pytest.raises(ValidationError, match="amount_cents"):
        a_fund_allocated(amount_cents=amount)


@pytest.mark.parametrize("code", ["96004", "0960040", "A96004", ""])
def test_a_municipality_is_identified_by_a_six_digit_istat_code(code: str) -> None:
    with pytest.raises(ValidationError, match="municipality_istat"):
        a_fund_allocated(municipality_istat=code)


def test_a_fund_source_is_a_state_transfer_or_a_donation() -> None:
    assert a_fund_allocated(source_kind="donation").source_kind == "donation"
    with pytest.raises(ValidationError, match="source_kind"):
        a_fund_allocated(source_kind="loan")


def test_consumers_ignore_fields_they_do_not_know() -> None:
    payload = json.loads(a_fund_allocated().to_json_bytes())
    payload["added_in_a_later_release"] = "anything"
    event = FundAllocated.from_json_bytes(json.dumps(payload).encode())
    assert event == a_fund_allocated()


def test_events_are_immutable() -> None:
    event = a_fund_allocated()
    with pytest.raises(ValidationError):
        event.amount_cents = 1  # type: ignore[misc]


def test_a_top_up_and_a_notice_parse_from_their_json() -> None:
    top_up = FundToppedUp(
        **{**CHAIN, "sequence": 2},
        fund_id="fund-3f1c",
        source_kind="donation",
        source_reference="Donazione Fondazione CRB 2020/17",
        amount_cents=500_000,
        topped_up_at=datetime(2020, 4, 2, tzinfo=UTC),
    )
    notice = NoticeRecorded(
        notice_id="notice-1",
        recipient="merchant:m-42",
        template="vouchers.reimbursement_paid",
        source_event_id="evt-9",
        recorded_at=datetime(2020, 4, 2, tzinfo=UTC),
    )
    for event in (top_up, notice):
        assert parse_event(event.type_name, event.to_json_bytes()) == event


@pytest.mark.parametrize("recipient", ["", "Operator", "merchant:", "merchant: x", "a b"])
def test_a_notice_recipient_is_a_role_subject(recipient: str) -> None:
    with pytest.raises(ValidationError, match="recipient"):
        NoticeRecorded(
            notice_id="notice-1",
            recipient=recipient,
            template="t",
            source_event_id="evt-9",
            recorded_at=datetime(2020, 4, 2, tzinfo=UTC),
        )


def test_parse_event_returns_the_registered_model() -> None:
    event = parse_event("benecomune.vouchers.FundAllocated.v1", a_fund_allocated().to_json_bytes())
    assert isinstance(event, FundAllocated)
    assert get_contract("benecomune.vouchers.FundAllocated.v1") is FundAllocated


def test_parsing_an_unknown_type_raises_unknown_event_type() -> None:
    with pytest.raises(UnknownEventType, match=r"benecomune\.vouchers\.Nope\.v1") as caught:
        parse_event("benecomune.vouchers.Nope.v1", b"{}")
    assert isinstance(caught.value, ValueError)
    assert caught.value.type_name == "benecomune.vouchers.Nope.v1"


@pytest.mark.parametrize("payload", [b"{}", b"not json", b'{"fund_id": 1}', b""])
def test_parsing_a_bad_payload_raises_a_validation_error(payload: bytes) -> None:
    with pytest.raises(ValidationError):
        parse_event("benecomune.vouchers.FundAllocated.v1", payload)


def test_contracts_for_a_topic_are_those_published_on_it() -> None:
    vouchers_contracts = contracts_for_topic("benecomune.vouchers")
    assert FundAllocated in vouchers_contracts and FundToppedUp in vouchers_contracts
    assert all(c.topic == "benecomune.vouchers" for c in vouchers_contracts)
    booking_contracts = contracts_for_topic("benecomune.booking")
    assert booking_contracts and all(c.topic == "benecomune.booking" for c in booking_contracts)


@pytest.mark.usefixtures("scratch_registry")
def test_a_new_contract_registers_under_its_type_name() -> None:
    @contract
    class BookingReviewed(ContractEvent):
        type_name: ClassVar[str] = "benecomune.booking.BookingReviewed.v1"
        topic: ClassVar[str] = "benecomune.booking"
        booking_id: str

    assert get_contract("benecomune.booking.BookingReviewed.v1") is BookingReviewed


@pytest.mark.usefixtures("scratch_registry")
def test_two_classes_cannot_share_a_type_name() -> None:
    with pytest.raises(ValueError, match="already registered"):

        @contract
        class Impostor(ContractEvent):
            type_name: ClassVar[str] = "benecomune.vouchers.FundAllocated.v1"
            topic: ClassVar[str] = "benecomune.vouchers"


def a_contract_class(type_name: str, topic: str) -> type[ContractEvent]:
    namespace = {
        "__annotations__": {"type_name": ClassVar[str], "topic": ClassVar[str]},
        "type_name": type_name,
        "topic": topic,
    }
    return type("FundClosed", (ContractEvent,), namespace)


@pytest.mark.usefixtures("scratch_registry")
@pytest.mark.parametrize(
    ("type_name", "topic", "message"),
    [
        ("benecomune.vouchers.FundClosed", "benecomune.vouchers", "not of the form"),
        ("benecomune.vouchers.fundClosed.v1", "benecomune.vouchers", "not of the form"),
        ("benecomune.vouchers.FundClosed.v0", "benecomune.vouchers", "not of the form"),
        ("vouchers.FundClosed.v1", "benecomune.vouchers", "not of the form"),
        ("benecomune.vouchers.FundClosed.v1", "benecomune.wallet", "not published on"),
        ("benecomune.pets.FundClosed.v1", "benecomune.pets", "unknown topic"),
    ],
)
def test_a_contract_needs_a_versioned_type_name_on_a_known_topic(
    type_name: str, topic: str, message: str
) -> None:
    with pytest.raises((ValueError, KeyError), match=message):
        contract(a_contract_class(type_name, topic))


@pytest.mark.usefixtures("scratch_registry")
def test_a_contract_without_type_name_and_topic_is_refused() -> None:
    class Anonymous(ContractEvent):
        pass

    with pytest.raises(TypeError, match="type_name and topic"):
        contract(Anonymous)
