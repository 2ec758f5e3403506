"""Proof: an event saved in one service is published by the relay and produces exactly one effect
in another service — through the real HTTP APIs, Kafka and both stores."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from devstack.ports import free_port
from servicekit.auth import DevIssuer

from .support import ServiceProcess, StackConfig, serving, wait_until

pytestmark = pytest.mark.kafka


def test_a_fund_allocated_in_vouchers_reaches_the_operator_inbox_once(
    stack_config: StackConfig, tmp_path: Path
) -> None:
    issuer = DevIssuer("biella", stack_config.keys_dir)
    operator = {"Authorization": f"Bearer {issuer.mint('operator')}"}
    with serving(stack_config, tmp_path, "vouchers", "notifications") as urls:
        vouchers_url = urls["vouchers"]
        inbox_url = f"{urls['notifications']}/inbox/operator"
        response = httpx.post(
            f"{vouchers_url}/funds",
            json={
                "municipality_istat": "096004",
                "source_kind": "state_transfer",
                "source_reference": "OCDPC 658/2020",
                "amount_cents": 4_250_000,
            },
            headers={**operator, "X-Correlation-ID": "corr-e2e-1"},
        )
        assert response.status_code == 201, response.text
        assert response.headers["X-Correlation-ID"] == "corr-e2e-1"

        notices = wait_until(
            lambda: httpx.get(inbox_url, headers=operator, params={"lang": "it"}).json(),
            timeout=60,
            what="the notice in the operator's inbox",
        )
        time.sleep(1.5)  # a second effect, if there were one, would have arrived by now
        notices = httpx.get(inbox_url, headers=operator, params={"lang": "it"}).json()

    assert len(notices) == 1
    assert notices[0]["text"] == (
        "Nuovo fondo di 42.500,00 € assegnato al comune 096004 (OCDPC 658/2020)."
    )
    assert notices[0]["correlation_id"] == "corr-e2e-1"


def test_bad_input_is_refused_with_a_clear_error_and_changes_nothing(
    stack_config: StackConfig, tmp_path: Path
) -> None:
    port = free_port()
    api = ServiceProcess(
        "vouchers", "api", stack_config.env("vouchers", http_port=port), tmp_path
    ).start()
    base = f"http://127.0.0.1:{port}"
    issuer = DevIssuer("biella", stack_config.keys_dir)
    operator = {"Authorization": f"Bearer {issuer.mint('operator')}"}
    try:
        wait_until(lambda: _answers(base), timeout=60, what="vouchers api")
        unknown_town = httpx.post(
            f"{base}/funds",
            json={
                "municipality_istat": "001272",  # Torino: not in the Biella territory
                "source_kind": "donation",
                "source_reference": "x",
                "amount_cents": 100,
            },
            headers=operator,
        )
        euros_as_float = httpx.post(
            f"{base}/funds",
            json={
                "municipality_istat": "096004",
                "source_kind": "donation",
                "source_reference": "x",
                "amount_cents": 10.5,
            },
            headers=operator,
        )
        anonymous = httpx.post(f"{base}/funds", json={})
        merchant = {"Authorization": f"Bearer {issuer.mint('merchant', 'm-1')}"}
        wrong_role = httpx.post(f"{base}/funds", json={}, headers=merchant)
        metrics = httpx.get(f"{base}/metrics").text
    finally:
        api.stop()

    assert unknown_town.status_code == 422
    problem = unknown_town.json()
    assert (problem["code"], problem["detail"]) == (
        "unknown_municipality",
        "municipality 001272 is not part of territory biella",
    )
    assert euros_as_float.status_code == 422
    assert anonymous.status_code == 401
    assert wrong_role.status_code == 403
    assert "benecomune_events_published_total" in metrics
    # Nothing was stored by any refused command.
    from vouchers.application.app import VouchersApplication
    from vouchers.settings import VouchersSettings

    app = VouchersApplication(VouchersSettings(**stack_config.settings_kwargs("vouchers")))
    assert app.recorder.max_notification_id() in (None, 0)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
