"""CloudEvents metadata in Kafka headers."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from benecomune_contracts import EventEnvelope, MalformedEnvelope, cloudevents
from pydantic import ValidationError

ENVELOPE = EventEnvelope(
    id="0f8c2a6e-6f0e-4d8b-9a55-3c1b8e1f0a01:3",
    source="/benecomune/vouchers",
    type="benecomune.vouchers.FundAllocated.v1",
    time=datetime(2020, 3, 30, 9, 0, 0, 250_000, tzinfo=UTC),
    subject="0f8c2a6e-6f0e-4d8b-9a55-3c1b8e1f0a01",
    notification_id=42,
    correlation_id="req-7",
    sequence=3,
)


def headers_without(name: str) -> list[tuple[str, bytes]]:
    return [(key, value) for key, value in ENVELOPE.to_headers() if key != name]


def headers_with(name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [*headers_without(name), (name, value)]


def test_the_envelope_is_written_as_cloudevents_kafka_headers() -> None:
    assert dict(ENVELOPE.to_headers()) == {
        "ce_specversion": b"1.0",
        "ce_id": b"0f8c2a6e-6f0e-4d8b-9a55-3c1b8e1f0a01:3",
        "ce_source": b"/benecomune/vouchers",
        "ce_type": b"benecomune.vouchers.FundAllocated.v1",
        "ce_time": b"2020-03-30T09:00:00.250000Z",
        "ce_subject": b"0f8c2a6e-6f0e-4d8b-9a55-3c1b8e1f0a01",
        "content-type": b"application/json",
        "ce_notificationid": b"42",
        "ce_sequence": b"3",
        "ce_correlationid": b"req-7",
    }
    assert all(isinstance(value, bytes) for _, value in ENVELOPE.to_headers())


def test_the_envelope_survives_a_round_trip_through_headers() -> None:
    assert EventEnvelope.from_headers(ENVELOPE.to_headers()) == ENVELOPE


def test_the_correlation_id_is_optional() -> None:
    envelope = ENVELOPE.model_copy(update={"correlation_id": None})
    headers = envelope.to_headers()
    assert "ce_correlationid" not in dict(headers)
    assert EventEnvelope.from_headers(headers).correlation_id is None


def test_the_transaction_end_is_optional_and_travels_as_an_extension() -> None:
    assert ENVELOPE.transaction_end is None
    assert "ce_transactionend" not in dict(ENVELOPE.to_headers())
    envelope = ENVELOPE.model_copy(update={"transaction_end": 44})
    headers = envelope.to_headers()
    assert dict(headers)["ce_transactionend"] == b"44"
    assert EventEnvelope.from_headers(headers) == envelope
    assert EventEnvelope.fields_from_headers(headers)["transaction_end"] == 44


def test_the_time_is_normalised_to_utc() -> None:
    rome = timezone(timedelta(hours=2))
    envelope = ENVELOPE.model_copy(update={"time": datetime(2020, 3, 30, 11, tzinfo=rome)})
    assert dict(envelope.to_headers())["ce_time"] == b"2020-03-30T09:00:00Z"
    parsed = EventEnvelope.from_headers(headers_with("ce_time", b"2020-03-30T11:00:00+02:00"))
    assert parsed.time == datetime(2020, 3, 30, 9, tzinfo=UTC)
    assert parsed.time.tzinfo == UTC


def test_the_kafka_key_is_the_subject() -> None:
    assert ENVELOPE.kafka_key() == b"0f8c2a6e-6f0e-4d8b-9a55-3c1b8e1f0a01"


def test_other_headers_are_ignored() -> None:
    headers = [("traceparent", b"00-abc"), *ENVELOPE.to_headers(), ("x-binary", b"\xff")]
    assert EventEnvelope.from_headers(headers) == ENVELOPE


@pytest.mark.parametrize(
    "name",
    [
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_specversion",
        "ce_time",
        "ce_subject",
        "ce_notificationid",
        "ce_sequence",
    ],
)
def test_a_missing_required_header_is_a_malformed_envelope(name: str) -> None:
    with pytest.raises(MalformedEnvelope, match=f"missing CloudEvents header.*{name}") as caught:
        EventEnvelope.from_headers(headers_without(name))
    assert caught.value.header == name
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ce_specversion", b"0.3"),
        ("ce_time", b"yesterday"),
        ("ce_time", b"2020-03-30T09:00:00"),
        ("ce_time", b"2020-03-30"),
        ("ce_time", b"2020-02-30T09:00:00Z"),
        ("ce_notificationid", b"-1"),
        ("ce_notificationid", b"4 2"),
        ("ce_notificationid", b"1_000"),
        ("ce_notificationid", b"x"),
        ("ce_sequence", b""),
        ("ce_sequence", b"+3"),
        ("ce_transactionend", b"-1"),
        ("ce_transactionend", b"x"),
        ("ce_id", b""),
        ("ce_subject", b""),
        ("ce_type", b"\xff\xfe"),
        ("content-type", b"application/xml"),
        ("content-type", b"application/cloudevents+json"),
    ],
)
def test_an_invalid_header_is_a_malformed_envelope(name: str, value: bytes) -> None:
    with pytest.raises(MalformedEnvelope, match=name) as caught:
        EventEnvelope.from_headers(headers_with(name, value))
    assert caught.value.header == name


def test_a_header_without_a_value_is_a_malformed_envelope() -> None:
    headers: list[tuple[str, bytes]] = [*headers_without("ce_id"), ("ce_id", None)]  # type: ignore[list-item]
    with pytest.raises(MalformedEnvelope, match="ce_id has no value"):
        EventEnvelope.from_headers(headers)


def test_a_header_repeated_with_another_value_is_a_malformed_envelope() -> None:
    with pytest.raises(MalformedEnvelope, match="ce_type appears twice"):
        EventEnvelope.from_headers([*ENVELOPE.to_headers(), ("ce_type", b"other")])
    assert EventEnvelope.from_headers([*ENVELOPE.to_headers(), ("ce_id", ENVELOPE.id.encode())])


def test_a_missing_content_type_is_tolerated_and_parameters_are_allowed() -> None:
    assert EventEnvelope.from_headers(headers_without("content-type")) == ENVELOPE
    headers = headers_with("content-type", b"application/json; charset=utf-8")
    assert EventEnvelope.from_headers(headers) == ENVELOPE


def test_an_envelope_cannot_be_built_with_a_naive_time_or_negative_counters() -> None:
    with pytest.raises(ValidationError):
        ENVELOPE.model_validate({**ENVELOPE.model_dump(), "time": datetime(2020, 1, 1)})
    with pytest.raises(ValidationError):
        ENVELOPE.model_validate({**ENVELOPE.model_dump(), "sequence": -1})


def _outcome(read: Any, headers: list[tuple[Any, Any]]) -> tuple[str, Any]:
    try:
        return "ok", read(headers)
    except MalformedEnvelope as error:
        return "malformed", (str(error), error.header)
    except Exception as error:  # what the plain reading raises for a broken header list
        return type(error).__name__, None


def test_the_fast_reading_of_headers_answers_as_the_header_by_header_one() -> None:
    rng = random.Random(658)
    good: list[tuple[Any, Any]] = list(ENVELOPE.to_headers())
    extras: list[tuple[Any, Any]] = [
        ("ce_type", b"benecomune.vouchers.FundToppedUp.v1"),  # repeated, another value
        ("ce_id", ENVELOPE.id.encode()),  # repeated, the same value
        ("ce_source", None),
        ("ce_subject", bytearray(b"0f8c2a6e")),
        ("ce_time", "2020-03-30T09:00:00Z"),  # a str, not bytes
        ("ce_sequence", b"\xff"),
        ("traceparent", b"00-abc"),  # not ours: ignored
        (b"ce_id", b"x"),  # a bytes name: not ours
        ("content-type", b"application/json; charset=utf-8"),
        ("ce_notificationid", b"007"),  # a leading zero
        ("ce_sequence", b"-1"),
        ("ce_time", b"2020-03-30 09:00:00"),  # not RFC 3339
        ("ce_specversion", b"0.3"),
        ("content-type", b"text/plain"),
        ("ce_id", b""),
        ("ce_correlationid", b"\xc3"),
        ("ce_transactionend", b"44"),
        ("ce_transactionend", b"045"),
        ("ce_transactionend", None),
        ("ce_correlationid", None),
    ]

    def envelope(headers: list[tuple[Any, Any]]) -> dict[str, Any]:
        return EventEnvelope.from_headers(headers).model_dump()

    answered = 0
    for _ in range(3_000):
        headers = rng.sample(good, rng.randrange(len(good) - 1, len(good) + 1))
        headers += rng.sample(extras, rng.randrange(0, 3))
        rng.shuffle(headers)
        fast, plain = cloudevents._decode, cloudevents._decode_each
        assert _outcome(fast, headers) == _outcome(plain, headers), headers
        fields = _outcome(EventEnvelope.fields_from_headers, headers)
        assert fields == _outcome(envelope, headers), headers
        assert fields == _outcome(EventEnvelope._checked_fields, headers), headers
        usual = cloudevents._usual_fields(headers)
        assert usual is None or fields == ("ok", usual), headers
        answered += usual is not None
    assert 300 < answered < 2_700  # both ways were exercised


def test_the_fields_read_are_the_envelopes() -> None:
    assert EventEnvelope.fields_from_headers(ENVELOPE.to_headers()) == ENVELOPE.model_dump()
    with pytest.raises(MalformedEnvelope, match="ce_subject") as caught:
        EventEnvelope.fields_from_headers(headers_with("ce_subject", b""))
    assert caught.value.header == "ce_subject"
