from collections.abc import Iterator
from pathlib import Path

import pytest

# The ledger aggregates hash their events in their public form: register the mapping.
import vouchers.contract_mapping  # noqa: F401
from vouchers.application.app import VouchersApplication
from vouchers.settings import VouchersSettings


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
