"""`benecomune token`: development tokens from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from benecomune_cli.main import app
from benecomune_cli.tokens import RoleChoice
from servicekit.auth import ROLES, DevIssuer
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture
def keys_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    keys = tmp_path / "keys"
    monkeypatch.setenv("BENECOMUNE_KEYS_DIR", str(keys))
    monkeypatch.delenv("BENECOMUNE_TERRITORY", raising=False)
    return keys


def test_the_command_line_lists_the_token_commands_when_called_without_arguments() -> None:
    result = runner.invoke(app, [])
    assert "token" in result.output


def test_a_minted_merchant_token_is_accepted_by_the_territorys_verifier(keys_dir: Path) -> None:
    result = runner.invoke(app, ["token", "mint", "--role", "merchant", "--subject", "m-001"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.count(".") == 2
    assert "\n" not in token
    principal = DevIssuer("biella", keys_dir).verifier().verify(token)
    assert principal.subject == "merchant:m-001"
    assert principal.subject_id == "m-001"


def test_a_token_is_minted_for_the_requested_territory_and_lifetime(keys_dir: Path) -> None:
    result = runner.invoke(
        app, ["token", "mint", "--role", "auditor", "--territory", "matera", "--ttl-hours", "1"]
    )
    assert result.exit_code == 0, result.output
    claims = DevIssuer("matera", keys_dir).verifier().decode(result.output.strip())
    assert claims["aud"] == "benecomune:matera"
    assert claims["exp"] - claims["iat"] == 3600


def test_the_territory_comes_from_the_environment_by_default(
    keys_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENECOMUNE_TERRITORY", "sondrio")
    result = runner.invoke(app, ["token", "mint", "--role", "operator"])
    assert result.exit_code == 0, result.output
    assert (
        DevIssuer("sondrio", keys_dir).verifier().verify(result.output.strip()).role == "operator"
    )


def test_a_party_role_without_a_subject_is_refused(keys_dir: Path) -> None:
    result = runner.invoke(app, ["token", "mint", "--role", "merchant"])
    assert result.exit_code == 2
    assert "needs a subject id" in result.output


def test_an_unknown_role_is_refused(keys_dir: Path) -> None:
    result = runner.invoke(app, ["token", "mint", "--role", "janitor"])
    assert result.exit_code == 2
    assert not keys_dir.exists()


def test_a_non_positive_lifetime_is_refused(keys_dir: Path) -> None:
    result = runner.invoke(app, ["token", "mint", "--role", "operator", "--ttl-hours", "0"])
    assert result.exit_code == 2
    assert "must be positive" in result.output


def test_the_demo_table_has_one_valid_token_per_role(keys_dir: Path) -> None:
    result = runner.invoke(app, ["token", "demo"])
    assert result.exit_code == 0, result.output
    verifier = DevIssuer("biella", keys_dir).verifier()
    rows = [line.split() for line in result.output.splitlines()[2:] if line.strip()]
    assert [subject for subject, _ in rows] == [
        "operator",
        "social_worker",
        "merchant:m-biella-001",
        "provider:coop-il-filo",
        "employer:e-biella-001",
        "beneficiary:b-biella-001",
        "auditor",
    ]
    for subject, token in rows:
        assert verifier.verify(token).subject == subject


def test_the_demo_export_lines_can_be_evaluated_by_a_shell(keys_dir: Path) -> None:
    result = runner.invoke(app, ["token", "demo", "--format", "export", "--territory", "rho"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == len(ROLES)
    verifier = DevIssuer("rho", keys_dir).verifier()
    for line, role in zip(lines, ROLES, strict=True):
        name, _, token = line.removeprefix("export ").partition("=")
        assert name == f"BENECOMUNE_TOKEN_{role.upper()}"
        assert verifier.verify(token).role == role


def test_the_role_choices_follow_the_servicekit_roles() -> None:
    assert tuple(choice.value for choice in RoleChoice) == ROLES
