"""``benecomune audit bookings`` on the real broker, after real sagas (catalog, wallet, vouchers
and booking processes): a booking paid with a service voucher, welfare credit and a
co-payment is confirmed, delivered and captured; another is declined by its provider and
compensated (its holds released). The audit, from the topics alone, reconciles both to the
cent and exits 0; its reports are written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from benecomune_cli.main import app as cli
from servicekit.auth import DevIssuer
from typer.testing import CliRunner

from .booking_support import EMPLOYEE, SETTLE, Stack, known_to_booking
from .support import StackConfig, serving, wait_until

pytestmark = pytest.mark.kafka


@pytest.fixture
def stack(stack_config: StackConfig, tmp_path: Path) -> Iterator[Stack]:
    with serving(stack_config, tmp_path, "catalog", "wallet", "vouchers", "booking") as urls:
        yield Stack(urls, DevIssuer("biella", stack_config.keys_dir))


def test_the_booking_audit_reconciles_a_captured_and_a_compensated_booking(
    stack: Stack, stack_config: StackConfig, tmp_path: Path
) -> None:
    wallet_id = stack.employee_wallet()
    round_id = stack.services_round()
    stack.provider("coop-nurse", "0261847001")
    stack.provider("coop-physio", "0261847002")
    wait_until(
        lambda: set(stack.round_accounts(round_id)) == {"coop-nurse", "coop-physio"},
        timeout=SETTLE, what="the accredited providers in the services round",
    )  # fmt: skip
    voucher_id = stack.service_voucher(round_id)
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=30)
    nurse = stack.offering("coop-nurse", 10_000, starts, instant=True)
    physio = stack.offering("coop-physio", 4_000, starts, acceptance_hours=24)
    for offering_id, slot_id in (nurse, physio):
        known_to_booking(stack, offering_id, slot_id)

    split = [
        {"source": "voucher", "account_id": voucher_id, "amount_cents": 3_000},
        {"source": "wallet", "account_id": wallet_id, "amount_cents": 5_000},
        {"source": "co_payment", "amount_cents": 2_000},
    ]
    parts = [{"offering_id": nurse[0], "slot_id": nurse[1]}]
    r = stack.book("mixed-1", parts, {"split": split})
    assert r.status_code == 202, r.text
    captured_id = r.json()["booking_id"]
    parts = [{"offering_id": physio[0], "slot_id": physio[1]}]
    wallet_only = [{"source": "wallet", "account_id": wallet_id, "amount_cents": 4_000}]
    r = stack.book("declined-1", parts, {"split": wallet_only})
    assert r.status_code == 202, r.text
    declined_id = r.json()["booking_id"]

    stack.until(declined_id, "the provider asked", lambda v: v["components"][0]["acceptance"]
                == "requested")  # fmt: skip
    stack.ok("booking", "POST", f"/bookings/{declined_id}/components/1/decline", "provider",
             "coop-physio", json={"note": "malato"})  # fmt: skip
    stack.until(declined_id, "compensated", lambda v: v["status"] == "compensated")

    stack.until(captured_id, "confirmed", lambda v: v["status"] == "confirmed")
    wait_until(lambda: datetime.now(UTC) > starts, timeout=200, what="the slot")
    stack.ok("booking", "POST", f"/bookings/{captured_id}/components/1/delivered", "provider",
             "coop-nurse", json={"note": "fatto"})  # fmt: skip
    stack.ok("booking", "POST", f"/bookings/{captured_id}/components/1/delivery-confirmation",
             "beneficiary", EMPLOYEE)  # fmt: skip
    stack.until(captured_id, "completed", lambda v: v["status"] == "completed")

    out = tmp_path / "audit"
    args = ["audit", "bookings", "--bootstrap", stack_config.bootstrap,
            "--topic-prefix", stack_config.topic_prefix, "--out", str(out)]  # fmt: skip

    def reconciled() -> bool:  # the wallet's release may still be on its way
        result = CliRunner().invoke(cli, args)
        print(result.output)
        assert result.exit_code in (0, 1), result.output
        return result.exit_code == 0

    wait_until(reconciled, timeout=SETTLE, interval=2, what="the booking audit to pass")
    report = json.loads((out / "booking-audit.json").read_text())
    f = report["figures"]
    assert report["ok"] is True and report["violations"] == []
    assert (f["captured_wallet_cents"], f["captured_voucher_cents"], f["co_payment_cents"]) == (
        5_000, 3_000, 2_000,
    )  # fmt: skip
    assert (f["bookings_confirmed"], f["bookings_compensated"], f["holds_open"]) == (1, 1, 0)
    assert f["slots_checked"] is True
    assert (out / "booking-audit.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "booking-audit.csv").read_text().startswith("kind,rule,booking_id")
