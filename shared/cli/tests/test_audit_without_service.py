"""``benecomune audit`` imports no service: with no service hook installed (the auditor's own
machine), the service's settings are read from the environment as the service reads them, and
the store cannot be read (exit 2, saying why)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benecomune_auditor import service_hooks
from benecomune_auditor.ledgers import audited_ledger
from benecomune_cli import audit
from benecomune_cli.main import app as cli
from typer.testing import CliRunner


@pytest.fixture
def no_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_hooks, "find_hook", lambda ledger: None)


@pytest.mark.usefixtures("no_service")
def test_the_services_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOUCHERS_HTTP_PORT", "9104")
    monkeypatch.setenv("BENECOMUNE_KAFKA_TOPIC_PREFIX", "rho.")
    settings = audit._settings_of(audited_ledger("vouchers"))()
    assert (settings.service_name, settings.http_port) == ("vouchers", 9104)
    assert settings.topic(audited_ledger("vouchers").topic) == "rho.benecomune.vouchers"
    wallet = audit._settings_of(audited_ledger("wallet"))()
    assert (wallet.service_name, wallet.http_port) == ("wallet", 8002)


@pytest.mark.usefixtures("no_service")
def test_reading_the_store_needs_the_service(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["audit", "wallet", "--from", "store", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "needs the benecomune-wallet service installed" in result.output


def test_an_installed_service_names_its_hook() -> None:
    hook = service_hooks.find_hook("wallet")
    assert hook is not None
    assert hook.settings().service_name == "wallet"
    assert service_hooks.find_hook("no-such-ledger") is None
