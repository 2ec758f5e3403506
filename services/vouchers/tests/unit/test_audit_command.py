"""`benecomune audit vouchers --from store --compare store` on a damaged store: the replay is
reported, the audit fails, and no traceback reaches the auditor."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from benecomune_cli.main import app as cli
from servicekit.italian_ids import fiscal_code_check_character
from typer.testing import CliRunner
from vouchers.application import commands as cmd
from vouchers.application.app import VouchersApplication

from ..stories import open_round


def a_shop_with_three_sales(app: VouchersApplication) -> None:
    _, round_id = open_round(app, base=5_000, cap=5_000, now=datetime.now(UTC))
    body = "RSSMRA80A01A859"
    application = app.submit_application(
        cmd.SubmitApplication(
            round_id=str(round_id),
            applicant=cmd.Person(
                fiscal_code=body + fiscal_code_check_character(body),
                first_name="Mario",
                last_name="Rossi",
            ),
            address="Via Italia 1, Biella",
            isee_cents=500_000,
            other_public_support=False,
            self_declaration=True,
        ),
        applicant="b-rossi",
    )
    app.approve_application(application, "social_worker")
    app.issue_vouchers(round_id)
    app.affiliate_merchant(
        round_id,
        cmd.AffiliateMerchant(
            merchant_id="m-1", vat_number="06363391001", goods_categories=["food"]
        ),
    )
    (code,) = app.codes_of(app.get_application(application))[:1]
    for n in range(3):
        app.redeem(
            "m-1",
            cmd.Redeem(code=code, amount_cents=500, goods_category="food", request_id=f"s-{n}"),
        )


def test_a_store_the_service_cannot_read_back_fails_the_audit_without_a_traceback(
    app: VouchersApplication, tmp_path: Path
) -> None:
    a_shop_with_three_sales(app)
    app.close()
    store = tmp_path / "vouchers.sqlite"
    with sqlite3.connect(store) as db:  # the shop's second credit, deleted
        ((rowid,),) = db.execute(
            "SELECT rowid FROM stored_events WHERE topic LIKE '%MerchantAccount.Credited' "
            "ORDER BY rowid LIMIT 1 OFFSET 1"
        ).fetchall()
        db.execute("DELETE FROM stored_events WHERE rowid = ?", (rowid,))

    secrets = [tmp_path / "vouchers-vault.sqlite", tmp_path / "vouchers-index.pepper"]
    for secret in secrets:  # an auditor's copy of the store holds the ledger alone
        secret.unlink()
    command = ["audit", "vouchers", "--from", "store", "--data-dir", str(tmp_path)]
    result = CliRunner().invoke(
        cli, [*command, "--compare", "store", "--out", str(tmp_path / "report")]
    )

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not a traceback
    assert "missing" in result.output  # the replay named the gap
    assert "FAILED: the service cannot compute its own figures from this store" in result.output
    assert (tmp_path / "report" / "vouchers-audit.json").exists()
    assert not any(secret.exists() for secret in secrets)  # the audit created no secrets
