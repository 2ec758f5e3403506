"""The auditor's comparison point on PostgreSQL, the production store: the service's figures
once the events up to a notification were stored come from the same notification log the
relay publishes, whatever the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from benecomune_auditor.store_reader import store_records
from benecomune_auditor.vouchers import audit_vouchers, figures_from_store
from vouchers.application import commands as cmd
from vouchers.application.app import VouchersApplication
from vouchers.audit_hook import VouchersLedgerStore
from vouchers.settings import VouchersSettings


@pytest.fixture
def app(postgres_settings: dict[str, str], tmp_path: Path) -> Iterator[VouchersApplication]:
    settings = VouchersSettings(
        store="postgres",
        postgres_host=postgres_settings["host"],
        postgres_port=int(postgres_settings["port"]),
        postgres_dbname=postgres_settings["dbname"],
        postgres_user=postgres_settings["user"],
        postgres_password=postgres_settings["password"],  # type: ignore[arg-type]
        data_dir=tmp_path / "data",
        keys_dir=tmp_path / "keys",
    )
    application = VouchersApplication(settings)
    yield application
    application.close()


def test_the_figures_up_to_a_notification_follow_the_ledger_on_postgres(
    app: VouchersApplication,
) -> None:
    fund_id = app.allocate_fund(
        cmd.AllocateFund(
            municipality_istat="096004",
            source_kind="state_transfer",
            source_reference="OCDPC 658/2020",
            amount_cents=100_000,
        )
    )
    after_allocation = app.last_notification_id()
    app.top_up_fund(
        fund_id,
        cmd.TopUpFund(source_kind="donation", source_reference="Lions", amount_cents=2_500),
    )
    replayed = list(store_records(VouchersLedgerStore(app)))
    app.top_up_fund(  # while the auditor adds up
        fund_id,
        cmd.TopUpFund(source_kind="donation", source_reference="Rotary", amount_cents=700),
    )

    (first,), _ = app.figures_upto(after_allocation)
    (now,), _ = app.figures_upto(app.last_notification_id())
    audit = audit_vouchers(
        replayed,
        source="store",
        figures=lambda upto: figures_from_store(VouchersLedgerStore(app), upto),
    )

    assert first.allocated_cents == 100_000 and now.allocated_cents == 103_200
    assert audit.ok, audit.summary_lines()
    assert audit.tally.fund_figures()[str(fund_id)]["allocated_cents"] == 102_500
