from collections.abc import Iterator
from pathlib import Path

import pytest
from servicekit.chain import register_ledger_mapping
from vouchers.adapters.contract_mapping import LEDGER_AGGREGATES, to_contract
from vouchers.application.app import VouchersApplication
from vouchers.settings import VouchersSettings

# The ledger aggregates hash their events in their public form: the application registers the
# mapping when it starts; domain tests make ledger aggregates without one.
register_ledger_mapping(to_contract, *LEDGER_AGGREGATES)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[VouchersApplication]:
    """A vouchers application on an embedded store of its own, closed afterwards."""
    application = VouchersApplication(VouchersSettings(data_dir=tmp_path))
    yield application
    batcher = application.__dict__.get("_batcher")
    if batcher is not None:
        batcher.close()
    application.close()
    application.vault.close()
