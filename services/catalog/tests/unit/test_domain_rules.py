"""The rules the handlers ask the domain for, exercised without a store: tax-identity keys,
contacts changed in part, when a price change takes effect, what can be booked or bundled,
the answer to a hold, weekly availability and a provider's history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from catalog.domain.bookability import (
    check_bookable,
    check_may_publish,
    check_not_withdrawn,
    is_bookable,
)
from catalog.domain.contacts import Address
from catalog.domain.errors import (
    HoldNotActive,
    InvalidContact,
    InvalidPackage,
    InvalidPrice,
    InvalidSlot,
    InvalidTransition,
    NotBookable,
    OfferingWithdrawn,
    SlotFull,
)
from catalog.domain.offering import Offering, price_effective_from
from catalog.domain.package import PackagePart
from catalog.domain.provider import Provider, tax_identity_entries, tax_identity_keys
from catalog.domain.provider_history import provider_history
from catalog.domain.slot import Slot, slot_id_for
from catalog.domain.weekly_slots import MAX_SLOTS_PER_CALL, weekly_slots

VAT = "01114601006"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ROME = ZoneInfo("Europe/Rome")


def provider(accredited: bool = True, kind: str = "coop_a") -> Provider:
    p = Provider.apply("coop-la-rete", "Cooperativa La Rete", kind, VAT, None, ["096004"])
    if accredited:
        p.accredit("operator")
    return p


def offering(p: Provider, published: bool = True) -> Offering:
    o = Offering.draft(
        p.provider_id,
        {"it": "Assistenza domiciliare"},
        {"it": "A casa tua"},
        "elderly_care",
        "at_home",
        2200,
        "hour",
        ["096004"],
    )
    if published:
        o.publish()
    return o


def test_a_tax_identity_is_indexed_once_per_number() -> None:
    assert tax_identity_keys(VAT, None) == [f"vat:{VAT}"]
    assert tax_identity_keys(VAT, VAT) == [f"vat:{VAT}"]  # a company's fiscal code is its VAT
    assert tax_identity_keys(None, "RSSMRA80A01H501U") == ["cf:RSSMRA80A01H501U"]
    assert tax_identity_keys(VAT, "RSSMRA80A01H501U") == ["cf:RSSMRA80A01H501U", f"vat:{VAT}"]
    assert [e.provider_id for e in tax_identity_entries(provider())] == ["coop-la-rete"]


def test_contacts_change_in_part_and_only_what_differs_is_recorded() -> None:
    p = Provider.apply(
        "coop-la-rete",
        "Cooperativa La Rete",
        "coop_a",
        VAT,
        None,
        ["096004"],
        contact_email="info@larete.it",
        phone="015 252 3456",
        address=Address("Via Italia 12", "096004", "13900"),
    )
    assert p.change_contacts({"phone": None}, None, None, "operator") == ["phone"]
    assert (p.contact_email, p.phone, p.address) == (
        "info@larete.it",
        None,
        {"street": "Via Italia 12", "municipality_istat": "096004", "postcode": "13900"},
    )
    assert p.change_contacts({"contact_email": "info@larete.it"}, None, None, "operator") == []
    with pytest.raises(InvalidContact):
        p.change_contacts({"fax": "015 1"}, None, None, "operator")


def test_a_price_change_takes_effect_from_now_to_two_years_ahead() -> None:
    assert price_effective_from(None, NOW) == NOW
    assert price_effective_from(NOW - timedelta(minutes=4), NOW) == NOW - timedelta(minutes=4)
    with pytest.raises(InvalidPrice, match="in the past"):
        price_effective_from(NOW - timedelta(minutes=6), NOW)
    with pytest.raises(InvalidPrice, match="days ahead") as refused:
        price_effective_from(NOW + timedelta(days=731), NOW)
    assert refused.value.fields["latest"].startswith("2028-12-06")


def test_the_price_valid_at_a_moment_or_a_refusal() -> None:
    o = offering(provider())
    assert o.price_valid_at(datetime.now(UTC)).price_cents == 2200
    with pytest.raises(InvalidPrice, match="had no price"):
        o.price_valid_at(datetime(2001, 1, 1, tzinfo=UTC))


def test_only_a_published_offering_of_an_accredited_provider_is_bookable() -> None:
    accredited, applied = provider(), provider(accredited=False)
    assert is_bookable(offering(accredited), accredited)
    check_bookable(offering(accredited), accredited)
    assert not is_bookable(offering(accredited, published=False), accredited)
    with pytest.raises(NotBookable, match="is draft"):
        check_bookable(offering(accredited, published=False), accredited)
    with pytest.raises(NotBookable, match="is applied"):
        check_bookable(offering(accredited), applied)
    with pytest.raises(NotBookable, match="only an accredited provider publishes"):
        check_may_publish(applied)
    accredited.suspend("audit", "", "operator")
    assert not is_bookable(offering(provider()), accredited)


def test_a_withdrawn_offering_has_no_slots_to_show() -> None:
    o = offering(provider())
    check_not_withdrawn(o)
    o.withdraw("chiuso")
    with pytest.raises(OfferingWithdrawn):
        check_not_withdrawn(o)


def test_a_package_bundles_only_bookable_offerings() -> None:
    p = provider()
    part = PackagePart.of(offering(p), p, 1, 0, 1, True)
    assert (part.provider_id, part.order, part.required) == ("coop-la-rete", 1, True)
    with pytest.raises(InvalidPackage, match="only bookable"):
        PackagePart.of(offering(p, published=False), p, 1, 0, 1, True)


def test_a_hold_answers_with_its_places_or_why_not() -> None:
    starts = NOW + timedelta(days=2)
    slot = Slot.open(UUID(int=1), "coop-la-rete", starts, starts + timedelta(hours=1), 2, NOW)
    assert slot.asks_new_hold("b-1", "r-1")
    held = slot.hold("r-1", 2, "b-1", NOW, timedelta(minutes=15))
    assert held.granted(slot.id) is held
    assert not slot.asks_new_hold("b-1", "r-1")  # a repeat: same answer, no new check
    with pytest.raises(SlotFull, match="only 0 places left"):
        slot.hold("r-2", 1, "b-2", NOW, timedelta(minutes=15)).granted(slot.id)
    slot.release("r-3", "b-3")  # released before its hold arrived
    assert slot.asks_new_hold("b-3", "r-3")
    with pytest.raises(HoldNotActive, match="released before"):
        slot.hold("r-3", 1, "b-3", NOW, timedelta(minutes=15)).granted(slot.id)


@dataclass
class Weekly:
    weekday: int
    start: time
    duration_minutes: int = 60


@dataclass
class Schedule:
    from_date: date
    to_date: date
    weekly: list[Weekly]
    except_dates: list[date] = field(default_factory=list)
    capacity: int = 3


def test_weekly_slots_are_every_weekly_time_minus_exceptions_the_past_and_existing_ones() -> None:
    o = offering(provider())
    monday = date(2026, 12, 7)  # NOW is Monday 10:00 in Rome
    schedule = Schedule(
        monday,
        monday + timedelta(days=21),
        [Weekly(0, time(9)), Weekly(0, time(15)), Weekly(2, time(9))],
        except_dates=[monday + timedelta(days=9)],
    )
    taken = slot_id_for(o.id, datetime(2026, 12, 14, 8, tzinfo=UTC))
    new = weekly_slots(o, schedule, ROME, NOW, lambda slot_id: slot_id == taken)
    starts = [s.starts_at.astimezone(ROME).strftime("%d %H") for s in new]
    # today 09:00 is gone, the 16th is an exception, the 14th at 09:00 exists already
    assert starts == ["07 15", "09 09", "14 15", "21 09", "21 15", "23 09", "28 09", "28 15"]
    assert {s.capacity for s in new} == {3}


def none_exist(slot_id: UUID) -> bool:
    return False


def test_weekly_slots_refuse_a_past_start_a_withdrawn_offering_and_too_many_slots() -> None:
    o = offering(provider())
    every_hour = [Weekly(d, time(h)) for d in range(7) for h in range(6, 12)]
    with pytest.raises(InvalidSlot, match="in the past"):
        weekly_slots(
            o, Schedule(date(2026, 12, 6), date(2026, 12, 8), every_hour), ROME, NOW, none_exist
        )
    with pytest.raises(InvalidPackage, match=f"at most {MAX_SLOTS_PER_CALL}"):
        weekly_slots(
            o, Schedule(date(2026, 12, 8), date(2027, 12, 1), every_hour), ROME, NOW, none_exist
        )
    o.withdraw()
    with pytest.raises(InvalidTransition):
        weekly_slots(
            o, Schedule(date(2026, 12, 8), date(2026, 12, 9), every_hour), ROME, NOW, none_exist
        )


def test_a_providers_history_names_who_did_what() -> None:
    p = provider()
    p.suspend("quality_audit", "verifica in corso", "operator")
    p.change_contacts({"phone": "015 252 3456"}, None, None, "provider:coop-la-rete")
    history = provider_history(p.collect_events())
    assert [(h["version"], h["event"], h["by"]) for h in history] == [
        (1, "applied", None),
        (2, "accredited", "operator"),
        (3, "suspended", "operator"),
        (4, "contacts_updated", "provider:coop-la-rete"),
    ]
    assert history[2]["details"] == {"reason_code": "quality_audit", "reason": "verifica in corso"}
    assert history[3]["details"] == {"changed": ["phone"]}
