"""Territory configuration files: territories/<id>.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from servicekit.settings import REPO_ROOT
from servicekit.territory import (
    TerritoryConfigError,
    TerritoryNotFoundError,
    available_territories,
    load_territory,
)

TERRITORIES = REPO_ROOT / "territories"


def write_territory(directory: Path, territory_id: str, content: str) -> Path:
    path = directory / f"{territory_id}.toml"
    path.write_text(content, encoding="utf-8")
    return path


VALID = """
id = "{id}"
name = "Test"
region = "Piemonte"
languages = ["it"]
municipalities = [{{ istat_code = "{code}", name = "Somewhere" }}]

[branding]
primary_color = "{colour}"
secondary_color = "#ffffff"
logo = "https://example.org/logo.svg"
"""


def test_biella_loads_with_its_municipalities_languages_and_rules() -> None:
    biella = load_territory("biella", TERRITORIES)
    assert biella.id == "biella"
    assert biella.region == "Piemonte"
    assert biella.default_language == "it"
    assert "en" in biella.languages
    assert biella.currency == "EUR"
    assert biella.timezone == "Europe/Rome"
    assert biella.municipality("096004") is not None
    assert biella.municipality("096004").name == "Biella"  # type: ignore[union-attr]
    assert biella.covers("096020")  # Cossato
    assert not biella.covers("001272")  # Torino is another territory
    assert all(m.istat_code.startswith("096") for m in biella.municipalities)
    assert biella.branding.primary_color.startswith("#")
    assert biella.rules.vouchers.denominations_cents == [1000, 2000, 2500, 5000]
    assert biella.rules.vouchers.validity_days > 0
    assert biella.rules.fringe_benefits.cap_for(2025) == 100_000
    assert biella.rules.fringe_benefits.cap_for(2025, with_children=True) == 200_000
    assert biella.rules.fringe_benefits.cap_for(1999) is None


def test_a_bad_istat_code_is_refused_naming_the_file_and_the_field(tmp_path: Path) -> None:
    path = write_territory(
        tmp_path, "test", VALID.format(id="test", code="96004", colour="#000000")
    )
    with pytest.raises(TerritoryConfigError) as refused:
        load_territory("test", tmp_path)
    message = str(refused.value)
    assert str(path) in message
    assert "municipalities.0.istat_code" in message
    assert "6 digits" in message
    assert "'96004'" in message


def test_a_bad_colour_is_refused_with_the_expected_format(tmp_path: Path) -> None:
    write_territory(tmp_path, "test", VALID.format(id="test", code="096004", colour="blue"))
    with pytest.raises(TerritoryConfigError, match=r"branding\.primary_color: .*#RRGGBB"):
        load_territory("test", tmp_path)


def test_colours_are_normalised_to_upper_case(tmp_path: Path) -> None:
    write_territory(tmp_path, "test", VALID.format(id="test", code="096004", colour="#0066cc"))
    territory = load_territory("test", tmp_path)
    assert territory.branding.primary_color == "#0066CC"
    assert territory.branding.logo_is_url


def test_an_unknown_territory_lists_the_available_ones(tmp_path: Path) -> None:
    for territory_id in ("matera", "biella"):
        write_territory(
            tmp_path, territory_id, VALID.format(id=territory_id, code="096004", colour="#000000")
        )
    with pytest.raises(TerritoryNotFoundError, match=r"'sondrio'.*available: biella, matera"):
        load_territory("sondrio", tmp_path)
    assert available_territories(tmp_path) == ["biella", "matera"]


def test_an_unknown_territory_in_an_empty_directory_says_there_are_none(tmp_path: Path) -> None:
    with pytest.raises(TerritoryNotFoundError, match=r"available: none"):
        load_territory("biella", tmp_path / "missing")


def test_a_territory_id_that_is_not_a_plain_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TerritoryNotFoundError, match="not a valid territory id"):
        load_territory("../etc/passwd", tmp_path)


def test_a_file_whose_id_differs_from_its_name_is_refused(tmp_path: Path) -> None:
    write_territory(tmp_path, "rho", VALID.format(id="napoli", code="096004", colour="#000000"))
    with pytest.raises(TerritoryConfigError, match="declares id 'napoli'"):
        load_territory("rho", tmp_path)


def test_a_file_that_is_not_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = write_territory(tmp_path, "broken", "id = [unterminated")
    with pytest.raises(TerritoryConfigError, match="not valid TOML") as refused:
        load_territory("broken", tmp_path)
    assert str(path) in str(refused.value)


def test_unknown_rule_tables_are_kept_for_later_services(tmp_path: Path) -> None:
    content = VALID.format(id="test", code="096004", colour="#000000")
    content += "\n[rules.booking]\ncancellation_hours = 48\n"
    write_territory(tmp_path, "test", content)
    territory = load_territory("test", tmp_path)
    assert territory.rules.extra_table("booking") == {"cancellation_hours": 48}
    assert territory.rules.extra_table("absent") == {}
    assert territory.rules.vouchers.denominations_cents == [1000, 2000, 2500, 5000]


def test_unknown_top_level_keys_are_refused_as_likely_typos(tmp_path: Path) -> None:
    content = VALID.format(id="test", code="096004", colour="#000000").replace(
        'region = "Piemonte"', 'region = "Piemonte"\nlanguage = ["it"]'
    )
    write_territory(tmp_path, "test", content)
    with pytest.raises(TerritoryConfigError, match="language"):
        load_territory("test", tmp_path)


@pytest.mark.parametrize(
    ("original", "replacement", "message"),
    [
        ('languages = ["it"]', "languages = []", "languages"),
        ('languages = ["it"]', 'languages = ["ita"]', "ISO 639-1"),
        ('languages = ["it"]', 'languages = ["it", "it"]', "must not repeat"),
        ('region = "Piemonte"', 'region = "Piemonte"\ntimezone = "Europe/Biella"', "time zone"),
        ('region = "Piemonte"', 'region = "Piemonte"\ncurrency = "USD"', "currency"),
        (
            'municipalities = [{ istat_code = "096004", name = "Somewhere" }]',
            "municipalities = []",
            "municipalities",
        ),
    ],
)
def test_other_invalid_values_are_refused(
    tmp_path: Path, original: str, replacement: str, message: str
) -> None:
    content = VALID.format(id="test", code="096004", colour="#000000")
    assert original in content
    write_territory(tmp_path, "test", content.replace(original, replacement))
    with pytest.raises(TerritoryConfigError, match=message):
        load_territory("test", tmp_path)


def test_a_duplicated_municipality_is_refused(tmp_path: Path) -> None:
    content = VALID.format(id="test", code="096004", colour="#000000").replace(
        'municipalities = [{ istat_code = "096004", name = "Somewhere" }]',
        'municipalities = [{ istat_code = "096004", name = "A" }, '
        '{ istat_code = "096004", name = "B" }]',
    )
    write_territory(tmp_path, "test", content)
    with pytest.raises(TerritoryConfigError, match="listed twice"):
        load_territory("test", tmp_path)


def test_demo_users_are_optional_and_read_with_their_notes(tmp_path: Path) -> None:
    plain = VALID.format(id="plain", code="096004", colour="#00676B")
    directory = write_territory(tmp_path, "plain", plain).parent
    assert load_territory("plain", directory).demo_users == []
    listed = (
        plain.replace('id = "plain"', 'id = "listed"')
        + """
[[demo_users]]
role = "beneficiary"
subject_id = "b-001"
name = "Lucia Ferrero"
note = { it = "Cittadina", en = "Citizen" }

[[demo_users]]
role = "auditor"
name = "Revisore"
"""
    )
    territory = load_territory("listed", write_territory(tmp_path, "listed", listed).parent)
    lucia = territory.demo_user("beneficiary", "b-001")
    assert lucia is not None and lucia.name == "Lucia Ferrero"
    assert lucia.note_in("en") == "Citizen" and lucia.note_in("de", fallback="it") == "Cittadina"
    auditor = territory.demo_user("auditor", "")
    assert auditor is not None and auditor.subject_id is None and auditor.note_in("it") == ""
    assert territory.demo_user("beneficiary", "b-002") is None
    assert territory.demo_user("auditor", "someone") is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('role = "provider"\nname = "X"', "needs a subject id"),
        ('role = "auditor"\nsubject_id = "a-1"\nname = "X"', "takes no subject id"),
        ('role = "mayor"\nname = "X"', "unknown role"),
        ('role = "merchant"\nsubject_id = "m 1"\nname = "X"', "must be 1-128"),
        ('role = "operator"\nname = "X"\nnote = { italian = "x" }', "ISO 639-1"),
    ],
)
def test_a_bad_demo_user_is_refused_naming_the_problem(
    tmp_path: Path, entry: str, message: str
) -> None:
    content = VALID.format(id="bad", code="096004", colour="#00676B") + "\n[[demo_users]]\n" + entry
    with pytest.raises(TerritoryConfigError, match=message) as refused:
        load_territory("bad", write_territory(tmp_path, "bad", content).parent)
    assert "demo_users.0" in str(refused.value)


def test_a_demo_user_listed_twice_is_refused(tmp_path: Path) -> None:
    twice = '\n[[demo_users]]\nrole = "operator"\nname = "A"\n' * 2
    content = VALID.format(id="twice", code="096004", colour="#00676B") + twice
    with pytest.raises(TerritoryConfigError, match="listed twice"):
        load_territory("twice", write_territory(tmp_path, "twice", content).parent)


def test_the_sample_territories_list_their_demo_users() -> None:
    biella = load_territory("biella", TERRITORIES)
    assert biella.demo_user("beneficiary", "b-biella-015") is not None
    assert {u.subject_id for u in biella.demo_users if u.role == "provider"} == {
        "coop-il-filo",
        "coop-mucrone",
        "telecura-biellese",
    }
    assert all(u.note_in("it") and u.note_in("en") for u in biella.demo_users)
    assert load_territory("matera", TERRITORIES).demo_users
    deployed = REPO_ROOT / "deploy" / "k8s" / "overlays" / "biella" / "territories" / "biella.toml"
    assert deployed.read_text(encoding="utf-8") == (TERRITORIES / "biella.toml").read_text(
        encoding="utf-8"
    ), "the Kubernetes overlay's copy of biella.toml is out of step"
