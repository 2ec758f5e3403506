"""The personal-data vault: data sealed for a subject opens only for that subject, and erasing
the subject makes every one of its tokens unreadable for ever (crypto-shredding)."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from servicekit.settings import ServiceSettings
from servicekit.vault import (
    PersonalDataVault,
    SubjectErased,
    UnknownSubject,
    VaultError,
    vault_sqlite_path,
)

HOUSEHOLD = {
    "nome": "Nicolò Verità",
    "cognome": "D'Angelo Perù",
    "codice_fiscale": "DNGNCL80A01A859K",
    "indirizzo": "Via Garibaldi 3, Biella — scala B, 2° piano",
    "componenti": 4,
    "isee_euro_centesimi": 812_345,
    "note": "Più figli minori; è già seguita dai servizi sociali. Perché? Così.",
}


@pytest.fixture
def settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(service_name="vouchers", data_dir=tmp_path / "data")


@pytest.fixture
def vault(settings: ServiceSettings) -> Iterator[PersonalDataVault]:
    with PersonalDataVault.from_settings(settings) as vault:
        yield vault


def stored_keys(settings: ServiceSettings) -> dict[str, bytes | None]:
    with sqlite3.connect(vault_sqlite_path(settings)) as connection:
        rows = connection.execute("SELECT subject_id, key FROM personal_data_keys").fetchall()
    return dict(rows)


def tamper(token: str, position: int) -> str:
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1 :]


def test_sealing_and_opening_round_trips_italian_text_with_accents(
    vault: PersonalDataVault,
) -> None:
    token = vault.seal("household-1", HOUSEHOLD)

    assert token.startswith("v1.")
    assert "Verità" not in token and "DNGNCL80A01A859K" not in token
    assert vault.open("household-1", token) == HOUSEHOLD


def test_the_vault_lives_in_a_file_beside_the_event_store(
    vault: PersonalDataVault, settings: ServiceSettings
) -> None:
    vault.seal("household-1", HOUSEHOLD)

    assert vault_sqlite_path(settings) == settings.data_dir / "vouchers-vault.sqlite"
    assert vault_sqlite_path(settings).parent == settings.sqlite_path.parent
    assert list(stored_keys(settings)) == ["household-1"]


def test_sealing_the_same_data_twice_gives_different_tokens(vault: PersonalDataVault) -> None:
    first, second = vault.seal("household-1", HOUSEHOLD), vault.seal("household-1", HOUSEHOLD)

    assert first != second
    assert vault.open("household-1", first) == vault.open("household-1", second) == HOUSEHOLD


def test_a_uuid_subject_is_the_same_subject_as_its_string(vault: PersonalDataVault) -> None:
    household = uuid.uuid4()
    token = vault.seal(household, {"nome": "Zoë"})

    assert vault.open(str(household), token) == {"nome": "Zoë"}
    assert vault.erase(str(household)) is True
    assert vault.open(household, token) is None


def test_two_subjects_have_different_keys(
    vault: PersonalDataVault, settings: ServiceSettings
) -> None:
    vault.seal("household-1", HOUSEHOLD)
    vault.seal("household-2", HOUSEHOLD)

    keys = stored_keys(settings)
    assert keys["household-1"] is not None and len(keys["household-1"]) == 32
    assert keys["household-2"] is not None and len(keys["household-2"]) == 32
    assert keys["household-1"] != keys["household-2"]


def test_a_token_cannot_be_opened_under_another_subject(vault: PersonalDataVault) -> None:
    token = vault.seal("household-1", HOUSEHOLD)
    vault.seal("household-2", {"nome": "Altro"})

    with pytest.raises(VaultError, match="another subject or it has been altered"):
        vault.open("household-2", token)


def test_a_token_cannot_be_opened_under_a_subject_the_vault_does_not_know(
    vault: PersonalDataVault,
) -> None:
    token = vault.seal("household-1", HOUSEHOLD)

    with pytest.raises(UnknownSubject, match="no key for subject 'household-9'"):
        vault.open("household-9", token)


@pytest.mark.parametrize("position", [3, 10, 20, -20, -1])
def test_tampering_is_detected(vault: PersonalDataVault, position: int) -> None:
    token = vault.seal("household-1", HOUSEHOLD)

    with pytest.raises(VaultError):
        vault.open("household-1", tamper(token, position))


@pytest.mark.parametrize(
    "token",
    ["", "v1.", "v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "v1.AAAA", "v1.não+base64/url=="],
)
def test_a_malformed_token_is_a_clear_error(vault: PersonalDataVault, token: str) -> None:
    vault.seal("household-1", HOUSEHOLD)

    with pytest.raises(VaultError, match="not a vault token"):
        vault.open("household-1", token)


def test_a_truncated_token_is_detected(vault: PersonalDataVault) -> None:
    token = vault.seal("household-1", HOUSEHOLD)

    with pytest.raises(VaultError):
        vault.open("household-1", token[:-4])


def test_only_json_mappings_can_be_sealed(vault: PersonalDataVault) -> None:
    with pytest.raises(TypeError, match="mapping"):
        vault.seal("household-1", ["not", "a", "mapping"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not JSON serializable"):
        vault.seal("household-1", {"when": object()})
    with pytest.raises(ValueError, match="non-empty"):
        vault.seal("", HOUSEHOLD)


def test_erasure_makes_tokens_unreadable_and_is_idempotent(vault: PersonalDataVault) -> None:
    tokens = [vault.seal("household-1", {**HOUSEHOLD, "n": n}) for n in range(3)]
    assert not vault.is_erased("household-1")

    assert vault.erase("household-1") is True

    assert vault.is_erased("household-1")
    assert [vault.open("household-1", token) for token in tokens] == [None, None, None]
    assert vault.erase("household-1") is False
    assert vault.is_erased("household-1")
    assert vault.open("household-1", tokens[0]) is None


def test_nothing_can_be_sealed_for_an_erased_subject(vault: PersonalDataVault) -> None:
    vault.seal("household-1", HOUSEHOLD)
    vault.erase("household-1")

    with pytest.raises(SubjectErased, match="was erased"):
        vault.seal("household-1", HOUSEHOLD)


def test_erasing_a_subject_never_seen_keeps_it_erased(vault: PersonalDataVault) -> None:
    assert vault.erase("household-7") is False

    assert vault.is_erased("household-7")
    with pytest.raises(SubjectErased):
        vault.seal("household-7", HOUSEHOLD)


def test_erasing_one_subject_leaves_others_readable(vault: PersonalDataVault) -> None:
    mine = vault.seal("household-1", HOUSEHOLD)
    theirs = vault.seal("household-2", {"nome": "Lucía"})

    vault.erase("household-1")

    assert vault.open("household-1", mine) is None
    assert vault.open("household-2", theirs) == {"nome": "Lucía"}
    assert not vault.is_erased("household-2")


def test_erasure_leaves_no_copy_of_the_key_in_the_vault_files(
    vault: PersonalDataVault, settings: ServiceSettings
) -> None:
    # Enough rows to fill several pages: without secure_delete the first row's old cell
    # (key included) would stay in the file as free space.
    for n in range(200):
        vault.seal(f"household-{n}", {"n": n})
    erased = ["household-0", "household-100", "household-199"]
    keys = [stored_keys(settings)[subject] for subject in erased]

    for subject in erased:
        vault.erase(subject)

    files = [path for path in settings.data_dir.iterdir() if path.name.startswith("vouchers-")]
    assert vault_sqlite_path(settings) in files
    for subject, key in zip(erased, keys, strict=True):
        assert key is not None
        for path in files:
            assert key not in path.read_bytes(), f"the key of {subject} is still in {path.name}"
        assert stored_keys(settings)[subject] is None


def test_keys_survive_a_new_vault_instance_on_the_same_file(settings: ServiceSettings) -> None:
    with PersonalDataVault.from_settings(settings) as first:
        kept = first.seal("household-1", HOUSEHOLD)
        erased = first.seal("household-2", HOUSEHOLD)
        first.erase("household-2")

    with PersonalDataVault.from_settings(settings) as second:
        assert second.open("household-1", kept) == HOUSEHOLD
        assert second.open("household-2", erased) is None
        assert second.is_erased("household-2")


def test_two_vaults_on_one_file_see_each_others_erasures_at_once(
    settings: ServiceSettings,
) -> None:
    with (
        PersonalDataVault.from_settings(settings) as api,
        PersonalDataVault.from_settings(settings) as worker,
    ):
        token = api.seal("household-1", HOUSEHOLD)
        assert worker.open("household-1", token) == HOUSEHOLD

        worker.erase("household-1")

        assert api.open("household-1", token) is None


def test_eight_threads_sealing_for_the_same_new_subject_end_up_with_one_key(
    settings: ServiceSettings,
) -> None:
    vault = PersonalDataVault.from_settings(settings)
    start = threading.Barrier(8)  # all eight ask for the key at the same moment
    tokens: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def seal(n: int) -> None:
        try:
            start.wait(timeout=30)
            token = vault.seal("household-new", {"n": n, "nome": "Niccolò"})
        except BaseException as error:  # reported below, with the thread's failure
            with lock:
                errors.append(error)
        else:
            with lock:
                tokens.append(token)

    threads = [threading.Thread(target=seal, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(tokens) == 8
    assert len(stored_keys(settings)) == 1
    vault.close()
    with PersonalDataVault.from_settings(settings) as fresh:
        opened = [fresh.open("household-new", token) for token in tokens]
    assert sorted(data["n"] for data in opened if data is not None) == list(range(8))


def test_keys_can_be_wrapped_with_a_master_key(settings: ServiceSettings) -> None:
    master = bytes(range(32))
    with PersonalDataVault.from_settings(settings, master_key=master) as vault:
        token = vault.seal("household-1", HOUSEHOLD)
        assert vault.open("household-1", token) == HOUSEHOLD

    stored = stored_keys(settings)["household-1"]
    assert stored is not None and len(stored) == 12 + 32 + 16

    with PersonalDataVault.from_settings(settings, master_key=master) as again:
        assert again.open("household-1", token) == HOUSEHOLD
        assert again.erase("household-1") is True
        assert again.open("household-1", token) is None


def test_a_wrapped_key_needs_the_right_master_key(settings: ServiceSettings) -> None:
    with PersonalDataVault.from_settings(settings, master_key=b"\x01" * 32) as vault:
        token = vault.seal("household-1", HOUSEHOLD)

    with (
        PersonalDataVault.from_settings(settings, master_key=b"\x02" * 32) as wrong,
        pytest.raises(VaultError, match="wrong master key"),
    ):
        wrong.open("household-1", token)
    with (
        PersonalDataVault.from_settings(settings) as without,
        pytest.raises(VaultError, match="wrapped with a master key"),
    ):
        without.open("household-1", token)


def test_a_wrapped_key_cannot_be_moved_to_another_subject(settings: ServiceSettings) -> None:
    master = b"\x03" * 32
    with PersonalDataVault.from_settings(settings, master_key=master) as vault:
        token = vault.seal("household-1", HOUSEHOLD)
        vault.seal("household-2", HOUSEHOLD)
    with sqlite3.connect(vault_sqlite_path(settings)) as connection:
        connection.execute(
            "UPDATE personal_data_keys SET key = "
            "(SELECT key FROM personal_data_keys WHERE subject_id = 'household-1') "
            "WHERE subject_id = 'household-2'"
        )

    with (
        PersonalDataVault.from_settings(settings, master_key=master) as vault,
        pytest.raises(VaultError, match="cannot be unwrapped"),
    ):
        vault.open("household-2", token)


def test_an_unwrapped_key_is_refused_by_a_vault_with_a_master_key(
    settings: ServiceSettings,
) -> None:
    with PersonalDataVault.from_settings(settings) as vault:
        token = vault.seal("household-1", HOUSEHOLD)

    with (
        PersonalDataVault.from_settings(settings, master_key=b"\x04" * 32) as wrapped,
        pytest.raises(VaultError, match="not wrapped"),
    ):
        wrapped.open("household-1", token)


def test_a_master_key_must_be_256_bits(settings: ServiceSettings) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PersonalDataVault.from_settings(settings, master_key=b"short")


def test_the_table_refuses_a_row_with_neither_key_nor_erasure(
    vault: PersonalDataVault, settings: ServiceSettings
) -> None:
    with (
        sqlite3.connect(vault_sqlite_path(settings)) as connection,
        pytest.raises(sqlite3.IntegrityError, match="CHECK constraint"),
    ):
        connection.execute(
            "INSERT INTO personal_data_keys (subject_id, key, created_at, erased_at) "
            "VALUES ('x', NULL, '2025-01-01', NULL)"
        )
