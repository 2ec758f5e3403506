"""``benecomune audit wallet`` end to end: a wallet service process (API, relay and consumer)
on the real broker, driven over HTTP as employers, employees and providers do; the auditor's
command replays the wallet topic from offset 0 and the store, rebuilds every account and finds
every figure equal to the service's; an edited event in the store makes it fail and be named."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from benecomune_auditor.kafka_copy import read_kafka
from benecomune_cli.main import app as cli
from benecomune_contracts import WALLET_TOPIC
from devstack.ports import free_port
from servicekit.auth import DevIssuer
from servicekit.italian_ids import fiscal_code_check_character
from typer.testing import CliRunner

from .support import ServiceProcess, StackConfig, wait_until

EMPLOYEES = [f"E{n:03d}" for n in range(12)]


@dataclass
class Wallets:
    url: str
    config: StackConfig
    issuer: DevIssuer
    service: ServiceProcess
    events_written: int

    def data_dir(self) -> Path:
        return self.config.root / "wallet"


def _fiscal_code(n: int) -> str:
    body = f"RSSMRA85T{10 + n:02d}A562"
    return body + fiscal_code_check_character(body)


def _drive(url: str, issuer: DevIssuer) -> None:
    """Two employers' plans, a CSV load, holds captured, released and refunded, a fringe spend
    over the cap confirmed by the employee."""

    def call(method: str, path: str, role: str, subject: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {issuer.mint(role, subject)}"}
        headers.update(kw.pop("headers", {}))
        response = httpx.request(method, url + path, headers=headers, timeout=30, **kw)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()

    year = datetime.now(UTC).year
    expires = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    for employer, vat in (("acme", "06363391001"), ("bottega", "00743110157")):
        plan = call(
            "POST",
            "/plans",
            "employer",
            employer,
            json={
                "vat_number": vat,
                "year": year,
                "starts_on": f"{year}-01-01",
                "ends_on": f"{year}-12-31",
                "budget_cents": 2_000_000,
                "credit_per_employee_cents": 120_000,
                "categories": ["services_no_cap", "transport", "fringe_purchase"],
                "end_policy": "reset",
            },
        )
        rows = "".join(
            f"{employer}-{e},{_fiscal_code(n)},{'yes' if n % 3 == 0 else 'no'}\n"
            for n, e in enumerate(EMPLOYEES)
        )
        report = call(
            "POST",
            f"/plans/{plan['plan_id']}/employees.csv",
            "employer",
            employer,
            content=("employee_id,fiscal_code,dependent_children\n" + rows).encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert not report["rejected"], report["rejected"]
        for n, row in enumerate(report["loaded"]):
            wallet_id, employee = row["wallet_id"], row["employee_id"]
            hold = call(
                "POST",
                f"/wallets/{wallet_id}/holds",
                "beneficiary",
                employee,
                json={
                    "request_id": f"booking-{n}",
                    "provider_id": f"coop-{n % 3}",
                    "category": "services_no_cap",
                    "amount_cents": 10_000 + 500 * n,
                    "expires_at": expires,
                },
            )
            path = f"/wallets/{wallet_id}/holds/{hold['hold_id']}"
            if n % 4 == 0:
                call("POST", path + "/release", "operator", json={"request_id": f"cancel-{n}"})
                continue
            call("POST", path + "/capture", "operator", json={"request_id": f"deliver-{n}"})
            if n % 4 == 1:
                call(
                    "POST",
                    path + "/refund",
                    "operator",
                    json={"request_id": f"refund-{n}", "amount_cents": 2_000},
                )
        # One employee buys vouchers a cent over the fringe cap, confirming it becomes taxable.
        first = report["loaded"][1]
        call(
            "POST",
            f"/wallets/{first['wallet_id']}/spend",
            "beneficiary",
            first["employee_id"],
            json={
                "request_id": "shopping",
                "provider_id": "shop-1",
                "category": "fringe_purchase",
                "amount_cents": 100_001,
                "confirm_taxable": True,
            },
        )


def _stored_events(data_dir: Path) -> int:
    """The stored events the relay publishes: those the contract mapping maps (a private
    event, such as an employees.csv load recorded, never leaves the service)."""
    from wallet.adapters.contract_mapping import to_contract

    public = {f"{kind.__module__}:{kind.__qualname__}" for kind in to_contract.registry}
    with sqlite3.connect(data_dir / "wallet.sqlite") as db:
        counts = db.execute("SELECT topic, count(*) FROM stored_events GROUP BY topic").fetchall()
    return sum(int(n) for topic, n in counts if topic in public)


@pytest.fixture
def wallets(stack_config: StackConfig, tmp_path: Path) -> Any:
    port = free_port()
    service = ServiceProcess(
        "wallet", "serve", stack_config.env("wallet", http_port=port), tmp_path
    ).start()
    url = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            try:
                return httpx.get(url + "/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=60, what="the wallet service")
        issuer = DevIssuer("biella", stack_config.keys_dir)
        _drive(url, issuer)
        written = _stored_events(stack_config.root / "wallet")
        topic = stack_config.topic_prefix + WALLET_TOPIC.name
        # The relay publishes every stored event (duplicates are allowed, gaps are not).
        wait_until(
            lambda: (
                len(read_kafka(stack_config.bootstrap, topic, timeout_seconds=30).messages)
                >= written
            ),
            timeout=60,
            interval=1,
            what="the relay to publish the wallet ledger",
        )
        yield Wallets(url, stack_config, issuer, service, written)
    finally:
        service.stop()


def _audit(*args: str, config: StackConfig) -> Any:
    return CliRunner().invoke(
        cli,
        ["audit", "wallet", *args],
        env={"BENECOMUNE_KEYS_DIR": str(config.keys_dir)},
    )


def test_the_command_line_replays_the_wallet_topic_and_agrees_with_the_running_api(
    wallets: Wallets, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    config = wallets.config
    result = _audit(
        "--from",
        "kafka",
        "--bootstrap",
        config.bootstrap,
        "--topic-prefix",
        config.topic_prefix,
        "--service-url",
        wallets.url,
        "--out",
        str(out),
        config=config,
    )
    print(result.output)
    assert result.exit_code == 0, result.output
    assert "2 plan(s), every figure matches to the cent" in result.output
    report = json.loads((out / "wallet-audit.json").read_text())
    assert report["ok"] is True and report["chain"]["intact"] is True
    assert report["chain"]["ledger_events"] == wallets.events_written
    assert sum(report["accounts"].values()) == 0
    assert len(report["plans"]) == 2
    for figures in report["plans"].values():
        assert figures["loaded_cents"] == 120_000 * len(EMPLOYEES)
        assert figures["spent_cents"] > 0 and figures["held_cents"] == 0
    # The employee who crossed the 1,000 EUR cap owes tax on all of it.
    taxable = [line for line in report["taxable_fringe"] if line["taxable_cents"] > 0]
    assert [line["taxable_cents"] for line in taxable] == [100_001, 100_001]
    rows = (out / "wallet-audit.csv").read_text().splitlines()
    assert rows[0] == "level,subject,plan_id,employer_id,year,figure,cents"
    assert sum(row.startswith("plan,") for row in rows) == 2 * 10


def test_an_event_edited_in_the_store_fails_the_store_audit_and_is_named(
    wallets: Wallets,
) -> None:
    wallets.service.stop()
    data_dir = str(wallets.data_dir())
    sound = _audit(
        "--from", "store", "--data-dir", data_dir, "--compare", "store", config=wallets.config
    )
    assert sound.exit_code == 0, sound.output

    with sqlite3.connect(wallets.data_dir() / "wallet.sqlite") as db:
        originator, version, state = db.execute(
            "SELECT originator_id, originator_version, state FROM stored_events "
            "WHERE topic LIKE '%HoldCaptured' ORDER BY rowid LIMIT 1"
        ).fetchone()
        edited = bytes(state).replace(b'"amount_cents":', b'"amount_cents":9', 1)
        assert edited != bytes(state)
        db.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (edited, originator, version),
        )
    result = _audit(
        "--from", "store", "--data-dir", data_dir, "--compare", "none", config=wallets.config
    )
    print(result.output)
    assert result.exit_code == 1
    assert "hash chain: BROKEN" in result.output
    assert "HoldCaptured" in result.output and "RESULT: FAILED" in result.output
