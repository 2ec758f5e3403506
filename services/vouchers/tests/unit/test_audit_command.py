"""`benecomune audit vouchers --from store --compare store` on a damaged store: the replay is
reported, the audit fails, and no traceback reaches the auditor; events cut off the end of the
ledger since an earlier audit are named against that audit's seal (--since)."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from benecomune_auditor.records import AuditRecord
from benecomune_auditor.store_reader import store_records
from benecomune_auditor.vouchers import audit_vouchers, figures_from_store
from benecomune_cli.main import app as cli
from click.testing import Result
from servicekit.domain import LedgerBehind
from servicekit.italian_ids import fiscal_code_check_character
from typer.testing import CliRunner
from vouchers.application import commands as cmd
from vouchers.application.app import VouchersApplication
from vouchers.audit_hook import VouchersLedgerStore
from vouchers.domain.household_application import HouseholdApplication

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


def audit_store(data_dir: Path, *options: str) -> Result:
    command = ["audit", "vouchers", "--from", "store", "--data-dir", str(data_dir)]
    return CliRunner().invoke(cli, [*command, "--compare", "store", *options])


def seal_in(output: str) -> str:
    (line,) = [line for line in output.splitlines() if "seal of this ledger:" in line]
    return line.split("seal of this ledger:")[1].split()[0]


def delete_the_last(store: Path, event_topic: str) -> str:
    """Delete the last stored event of that type, which ends its stream; its stream id."""
    with sqlite3.connect(store) as db:
        ((rowid, stream_id, version),) = db.execute(
            "SELECT rowid, originator_id, originator_version FROM stored_events "
            "WHERE topic LIKE ? ORDER BY rowid DESC LIMIT 1",
            (f"%{event_topic}",),
        ).fetchall()
        ((last,),) = db.execute(
            "SELECT max(originator_version) FROM stored_events WHERE originator_id = ?",
            (stream_id,),
        ).fetchall()
        assert last == version  # the end of its stream
        db.execute("DELETE FROM stored_events WHERE rowid = ?", (rowid,))
    return str(uuid.UUID(bytes=stream_id) if isinstance(stream_id, bytes) else uuid.UUID(stream_id))


def test_a_sale_cut_off_the_end_of_the_ledger_is_found_with_the_earlier_audits_seal(
    app: VouchersApplication, tmp_path: Path
) -> None:
    a_shop_with_three_sales(app)
    app.close()
    earlier = audit_store(tmp_path, "--out", str(tmp_path / "march"))
    assert earlier.exit_code == 0, earlier.output
    seal = seal_in(earlier.output)
    heads = tmp_path / "march" / "vouchers-heads.csv"
    assert hashlib.sha256(heads.read_bytes()).hexdigest() == seal

    # The last sale erased from both of its streams: the voucher's and the shop's.
    voucher = delete_the_last(tmp_path / "vouchers.sqlite", "Voucher.Redeemed")
    account = delete_the_last(tmp_path / "vouchers.sqlite", "MerchantAccount.Credited")

    alone = audit_store(tmp_path)
    march = ("--since", str(tmp_path / "march"), "--since-seal", seal)
    checked = audit_store(tmp_path, *march, "--out", str(tmp_path / "april"))
    later = audit_store(tmp_path, "--since", str(tmp_path / "april"))

    assert alone.exit_code == 0, alone.output  # what is left adds up and links up
    assert seal_in(alone.output) != seal
    assert checked.exit_code == 1, checked.output
    redeemed, credited = "benecomune.vouchers.VoucherRedeemed.v1", "MerchantCredited.v1"
    assert f"deleted: {redeemed} stream {voucher} sequence 4" in checked.output
    assert f"{credited} stream {account} sequence 4" in checked.output
    assert f"checked against an earlier audit's seal {seal}" in checked.output
    assert "the chain is BROKEN: publish this seal only with this report" in checked.output
    assert later.exit_code == 1 and f"stream {voucher} sequence 4" in later.output  # not forgiven


def test_an_earlier_seal_that_is_not_its_heads_file_is_a_usage_error(
    app: VouchersApplication, tmp_path: Path
) -> None:
    a_shop_with_three_sales(app)
    app.close()
    assert audit_store(tmp_path, "--out", str(tmp_path / "march")).exit_code == 0
    heads = tmp_path / "march" / "vouchers-heads.csv"

    wrong_seal = audit_store(tmp_path, "--since", str(heads), "--since-seal", "0" * 64)
    abbreviated = audit_store(tmp_path, "--since", str(heads), "--since-seal", "4172")
    heads.write_text(heads.read_text() + "x,0,T,zz\n")
    damaged = audit_store(tmp_path, "--since", str(heads))
    seal_alone = audit_store(tmp_path, "--since-seal", "0" * 64)

    assert wrong_seal.exit_code == 2 and "is not the heads file sealed by" in wrong_seal.output
    assert damaged.exit_code == 2 and "line " in damaged.output and "expected" in damaged.output
    assert seal_alone.exit_code == 2 and "give both" in seal_alone.output
    assert abbreviated.exit_code == 2 and "give all 64 hex digits" in abbreviated.output


def test_a_service_that_moved_on_during_the_replay_is_compared_where_the_replay_ended(
    app: VouchersApplication,
) -> None:
    a_shop_with_three_sales(app)
    replayed = list(store_records(VouchersLedgerStore(app)))  # what the replay read ...
    (submitted,) = app.events_of(HouseholdApplication.Submitted)
    (code,) = app.codes_of(app.get_application(submitted.originator_id))[:1]
    app.redeem(  # ... and a sale at the till while it was being added up
        "m-1", cmd.Redeem(code=code, amount_cents=700, goods_category="food", request_id="s-9")
    )

    where_it_ended = audit_vouchers(
        replayed,
        source="store",
        figures=lambda at: figures_from_store(VouchersLedgerStore(app), at),
    )
    live = audit_vouchers(
        replayed, source="store", figures=figures_from_store(VouchersLedgerStore(app))
    )

    assert where_it_ended.ok, where_it_ended.summary_lines()
    assert where_it_ended.comparison is not None and where_it_ended.comparison.merchants == 1
    assert live.comparison is not None
    assert {(d.figure, d.service_cents) for d in live.comparison.differences} >= {
        ("redeemed_cents", 2_200)  # the live figure counts the sale the replay never read
    }


def test_figures_asked_beyond_the_store_are_refused(app: VouchersApplication) -> None:
    a_shop_with_three_sales(app)
    last = app.last_notification_id()

    with pytest.raises(LedgerBehind, match=f"log ends at {last}; the audited ledger reaches"):
        app.figures_upto(last + 1)


def test_a_stream_end_missing_from_the_replayed_copy_still_differs_from_the_service(
    app: VouchersApplication,
) -> None:
    a_shop_with_three_sales(app)
    replayed = list(store_records(VouchersLedgerStore(app)))
    # The fund's last event (its budget for the round) lost from the copy, later events kept:
    # the fund's chain is intact, but the service's figures up to that point count it.
    (lost,) = [
        i
        for i, item in enumerate(replayed)
        if isinstance(item, AuditRecord) and type(item.event).__name__ == "FundBudgetAssigned"
    ]
    del replayed[lost]

    result = audit_vouchers(
        replayed,
        source="copy",
        figures=lambda upto: figures_from_store(VouchersLedgerStore(app), upto),
    )

    assert result.replay.intact
    assert result.comparison is not None
    assert ("assigned_to_rounds_cents", 0, 600_00) in {
        (d.figure, d.tally_cents, d.service_cents) for d in result.comparison.differences
    }
