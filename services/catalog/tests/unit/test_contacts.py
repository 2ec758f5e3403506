"""A provider's contacts: the organisation's (public) and its contact person (personal data,
sealed in the vault, never in clear in an event, never on Kafka)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from catalog.adapters.contract_mapping import to_contract
from catalog.application import commands as cmd
from catalog.application.app import CatalogApplication
from catalog.domain.contacts import (
    ContactPerson,
    check_contact_person,
    check_email,
    check_phone,
    check_postcode,
    check_website,
)
from catalog.domain.errors import InvalidContact, UnknownMunicipality
from catalog.domain.provider import Provider
from eventsourcing.persistence import StoredEvent
from pydantic import ValidationError

from ..conftest import VAT_IL_SOLE, VAT_LA_RETE

MARIA = cmd.ContactPersonInput(
    name="Maria Rossi", role="coordinatrice", phone="333 123 4567", email="maria@larete.example"
)
SEAT = cmd.AddressInput(street="Via Italia 12", municipality_istat="096004", postcode="13900")


def application(**changes: Any) -> cmd.RegisterProvider:
    body: dict[str, Any] = {
        "provider_id": "coop-la-rete",
        "legal_name": "Cooperativa Sociale La Rete",
        "kind": "coop_a",
        "vat_number": VAT_LA_RETE,
        "municipalities": ["096004", "096020"],
        "contact_email": "info@larete.example",
        "phone": "015 252 3456",
        "website": "www.larete.example",
        "address": SEAT,
        "contact_person": MARIA,
    }
    body.update(changes)
    return cmd.RegisterProvider(**body)


def stored_states(app: CatalogApplication) -> list[bytes]:
    return [n.state for n in app.recorder.select_notifications(start=1, limit=1000)]


def live_vault_keys(app: CatalogApplication) -> int:
    with app.vault.engine.connect() as connection:
        return int(
            connection.exec_driver_sql(
                "SELECT count(*) FROM personal_data_keys WHERE key IS NOT NULL"
            ).scalar_one()
        )


def vault_subjects(app: CatalogApplication) -> int:
    """Every subject the vault knows, erased ones (tombstones) included."""
    with app.vault.engine.connect() as connection:
        return int(
            connection.exec_driver_sql("SELECT count(*) FROM personal_data_keys").scalar_one()
        )


# --- the checks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("015 252 3456", "+390152523456"),  # Biella landline
        ("+39 015-252.3456", "+390152523456"),
        ("0039 06 6982", "+39066982"),  # Rome, short
        ("(02) 8845 6789", "+390288456789"),
        ("333 123 4567", "+393331234567"),
        ("+39 351 234 5678", "+393512345678"),
        ("800 123 456", "+39800123456"),  # toll-free
    ],
)
def test_an_italian_phone_number_is_accepted_in_its_usual_spellings(
    given: str, normalised: str
) -> None:
    assert check_phone(given) == normalised


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("+41 44 123 45 67", "only Italian"),
        ("0044 20 7946 0000", "only Italian"),
        ("333 12", "mobile number has 9 or 10 digits"),
        ("333 123 456 789", "mobile number has 9 or 10 digits"),
        ("015 1", "landline number has 6 to 11 digits"),
        ("899 123 456", "premium-rate"),
        ("515 123 4567", "not an Italian phone number"),
        ("015 252 34AB", "digits only"),
        ("", "digits only"),
    ],
)
def test_a_phone_number_that_is_not_an_italian_one_is_refused_saying_why(
    given: str, reason: str
) -> None:
    with pytest.raises(InvalidContact, match=reason):
        check_phone(given)


def test_a_postcode_is_five_digits_within_the_italian_range() -> None:
    assert check_postcode("13900") == "13900"
    assert check_postcode(" 00010 ") == "00010"
    for bad in ("1390", "139000", "13 900", "abcde"):
        with pytest.raises(InvalidContact, match="5 digits"):
            check_postcode(bad)
    for outside in ("00000", "00009", "98169", "99999"):
        with pytest.raises(InvalidContact, match="not an Italian postcode"):
            check_postcode(outside)


def test_a_website_gets_https_when_no_scheme_is_given_and_a_lower_case_host() -> None:
    assert check_website("www.LaRete.example") == "https://www.larete.example"
    assert check_website("http://larete.example/servizi?x=1") == "http://larete.example/servizi?x=1"
    for bad in ("ftp://larete.example", "https://localhost", "https://user:pw@larete.example"):
        with pytest.raises(InvalidContact):
            check_website(bad)
    with pytest.raises(InvalidContact, match="website address"):
        check_website("la rete.example")


def test_an_email_address_is_checked_and_its_domain_lower_cased() -> None:
    assert check_email(" Info@LaRete.Example ") == "Info@larete.example"
    for bad in ("info", "info@", "@larete.example", "info@larete", "in fo@larete.example"):
        with pytest.raises(InvalidContact, match="not an e-mail address"):
            check_email(bad)


def test_a_contact_person_needs_a_name_and_a_way_to_be_reached() -> None:
    person = check_contact_person("  Maria   Rossi ", "coordinatrice", "333 123 4567")
    assert person == ContactPerson("Maria Rossi", "coordinatrice", "+393331234567", None)
    with pytest.raises(InvalidContact, match="needs a name"):
        check_contact_person("  123 ", phone="333 123 4567")
    with pytest.raises(InvalidContact, match="phone number or an e-mail"):
        check_contact_person("Maria Rossi")


# --- applying with contacts ----------------------------------------------------------------------


def test_a_provider_applies_with_its_contacts_and_its_contact_person_sealed(
    app: CatalogApplication,
) -> None:
    app.register_provider(application(), by="provider:coop-la-rete")
    provider = app.get_provider("coop-la-rete")
    assert (provider.contact_email, provider.phone, provider.website) == (
        "info@larete.example",
        "+390152523456",
        "https://www.larete.example",
    )
    assert provider.address == {
        "street": "Via Italia 12",
        "municipality_istat": "096004",
        "postcode": "13900",
    }
    assert app.contact_person(provider) == ContactPerson(
        "Maria Rossi", "coordinatrice", "+393331234567", "maria@larete.example"
    )
    assert provider.contact_person_sealed is not None
    assert provider.contact_person_sealed.startswith("v1.")


def test_the_contact_persons_data_is_never_in_clear_in_the_store_nor_on_kafka(
    app: CatalogApplication,
) -> None:
    app.register_provider(application())
    app.accredit_provider("coop-la-rete", "operator")
    app.update_contacts(
        "coop-la-rete",
        cmd.UpdateContacts(
            contact_person=cmd.ContactPersonInput(name="Luca Bianchi", phone="340 555 1234")
        ),
        "provider:coop-la-rete",
    )
    for state in stored_states(app):
        for secret in (b"Maria", b"Rossi", b"3331234567", b"maria@", b"Luca", b"3405551234"):
            assert secret not in state
    published = [
        to_contract(app.mapper.to_domain_event(n))
        for n in app.recorder.select_notifications(start=1, limit=1000)
    ]
    payloads = [c.model_dump_json() for c in published if c is not None]
    assert payloads  # the accreditation leaves the service...
    for payload in payloads:  # ...without any contact
        for secret in ("Rossi", "Bianchi", "3331234567", "0152523456", "larete.example"):
            assert secret not in payload


@pytest.mark.parametrize(
    ("changes", "error", "reason"),
    [
        ({"phone": "899 123 456"}, InvalidContact, "premium-rate"),
        ({"contact_email": "info@larete"}, InvalidContact, "e-mail"),
        ({"website": "ftp://larete.example"}, InvalidContact, "https://"),
        (
            {"address": SEAT.model_copy(update={"postcode": "1390"})},
            InvalidContact,
            "5 digits",
        ),
        (
            {"address": SEAT.model_copy(update={"municipality_istat": "058091"})},
            UnknownMunicipality,
            "058091",
        ),
        (
            {"contact_person": MARIA.model_copy(update={"phone": "12"})},
            InvalidContact,
            "not an Italian phone number",
        ),
        ({"vat_number": "01114601007"}, Exception, "check digit"),
    ],
)
def test_a_refused_application_stores_nothing_and_seals_nothing(
    app: CatalogApplication, changes: dict[str, Any], error: type[Exception], reason: str
) -> None:
    with pytest.raises(error, match=reason):
        app.register_provider(application(**changes))
    assert stored_states(app) == []
    assert vault_subjects(app) == 0  # checked before sealing: not even a tombstone


def test_an_application_refused_as_a_duplicate_leaves_no_key_in_the_vault(
    app: CatalogApplication,
) -> None:
    app.register_provider(application())
    with pytest.raises(Exception, match="already registered"):
        app.register_provider(application(vat_number=VAT_IL_SOLE))
    assert live_vault_keys(app) == 1  # Maria's, of the first application only


# --- updating contacts ---------------------------------------------------------------------------


def test_a_contacts_update_changes_only_the_fields_given_and_says_which(
    app: CatalogApplication,
) -> None:
    app.register_provider(application())
    changed = app.update_contacts(
        "coop-la-rete",
        cmd.UpdateContacts(phone="015 999 8877", website=None),
        "provider:coop-la-rete",
    )
    assert changed == ["phone", "website"]
    provider = app.get_provider("coop-la-rete")
    assert provider.phone == "+390159998877"
    assert provider.website is None
    assert provider.contact_email == "info@larete.example"  # not given: kept
    assert provider.address is not None and provider.address["postcode"] == "13900"
    assert app.contact_person(provider) is not None
    updated = app.repository.event_store.get(provider.id)
    last = list(updated)[-1]
    assert isinstance(last, Provider.ContactsUpdated)
    assert (last.changed, last.by) == (["phone", "website"], "provider:coop-la-rete")


def test_the_same_contacts_sent_again_record_nothing(app: CatalogApplication) -> None:
    app.register_provider(application())
    version = app.get_provider("coop-la-rete").version
    changed = app.update_contacts(
        "coop-la-rete",
        cmd.UpdateContacts(phone="+39 015 252 3456", contact_person=MARIA, address=SEAT),
        "operator",
    )
    assert changed == []
    assert app.get_provider("coop-la-rete").version == version
    assert live_vault_keys(app) == 1


def test_a_replaced_contact_persons_personal_data_is_erased(app: CatalogApplication) -> None:
    app.register_provider(application())
    before = app.get_provider("coop-la-rete")
    old_subject, old_token = before.contact_person_subject, before.contact_person_sealed
    assert old_subject is not None and old_token is not None
    luca = cmd.ContactPersonInput(name="Luca Bianchi", email="luca@larete.example")
    changed = app.update_contacts(
        "coop-la-rete", cmd.UpdateContacts(contact_person=luca), "provider:coop-la-rete"
    )
    assert changed == ["contact_person"]
    after = app.get_provider("coop-la-rete")
    assert app.contact_person(after) == ContactPerson(
        "Luca Bianchi", None, None, "luca@larete.example"
    )
    assert app.vault.is_erased(old_subject)
    assert app.vault.open(old_subject, old_token) is None  # Maria's data is gone for good
    assert live_vault_keys(app) == 1


def test_removing_the_contact_person_erases_their_data(app: CatalogApplication) -> None:
    app.register_provider(application())
    subject = app.get_provider("coop-la-rete").contact_person_subject
    assert subject is not None
    app.update_contacts("coop-la-rete", cmd.UpdateContacts(contact_person=None), "operator")
    provider = app.get_provider("coop-la-rete")
    assert provider.contact_person_subject is None
    assert app.contact_person(provider) is None
    assert app.vault.is_erased(subject)
    assert live_vault_keys(app) == 0


@pytest.mark.parametrize(
    "update",
    [
        {"phone": "0"},
        {"contact_email": "not-an-address"},
        {"address": {"street": "Via Roma 1", "municipality_istat": "058091", "postcode": "00100"}},
        {"contact_person": {"name": "Luca Bianchi"}},
        {"contact_person": {"name": "Luca Bianchi", "phone": "899 000 000"}},
    ],
)
def test_a_refused_contacts_update_changes_nothing(
    app: CatalogApplication, update: dict[str, Any]
) -> None:
    app.register_provider(application())
    version = app.get_provider("coop-la-rete").version
    with pytest.raises((InvalidContact, UnknownMunicipality)):
        app.update_contacts("coop-la-rete", cmd.UpdateContacts(**update), "operator")
    provider = app.get_provider("coop-la-rete")
    assert provider.version == version
    assert provider.phone == "+390152523456"
    assert app.contact_person(provider) is not None
    assert live_vault_keys(app) == vault_subjects(app) == 1


def test_an_empty_contacts_update_is_refused_at_the_edge() -> None:
    with pytest.raises(ValidationError, match="at least one of"):
        cmd.UpdateContacts()
    with pytest.raises(ValidationError):
        cmd.UpdateContacts(fax="015 000")  # type: ignore[call-arg]


# --- events stored before contacts existed -----------------------------------------------------


def test_a_provider_stored_before_contacts_existed_still_loads(app: CatalogApplication) -> None:
    """Version 1 of the events (no phone, website, address, contact person or author) is
    upcast on reading: old stores keep working."""
    provider = Provider.apply("coop-a", "Coop A", "coop_a", VAT_LA_RETE, None, ["096004"])
    provider.accredit("operator")
    provider.add_certification("UNI/PdR 58:2019")
    old: list[StoredEvent] = []
    for domain_event in provider.collect_events():
        stored = app.mapper.to_stored_event(domain_event)
        state = json.loads(stored.state)
        state.pop("class_version", None)
        for new_field in (
            "phone",
            "website",
            "address",
            "contact_person_subject",
            "contact_person_sealed",
            "by",
        ):
            if not isinstance(domain_event, Provider.Accredited):
                state.pop(new_field, None)
        old.append(
            StoredEvent(
                originator_id=stored.originator_id,
                originator_version=stored.originator_version,
                topic=stored.topic,
                state=json.dumps(state).encode(),
            )
        )
    app.recorder.insert_events(old)
    loaded = app.get_provider("coop-a")
    assert (loaded.status, loaded.certifications) == ("accredited", ["UNI/PdR 58:2019"])
    assert (loaded.phone, loaded.website, loaded.address, loaded.contact_person_subject) == (
        None,
        None,
        None,
        None,
    )
    history = app.provider_history("coop-a")
    assert [h["event"] for h in history] == ["applied", "accredited", "certification_added"]
    assert history[0]["by"] is None and history[1]["by"] == "operator"
