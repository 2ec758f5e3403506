from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from wallet.application.app import WalletApplication
from wallet.settings import WalletSettings


@pytest.fixture
def app(tmp_path: Path) -> Iterator[WalletApplication]:
    application = WalletApplication(
        WalletSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    )
    yield application
    batcher = application.__dict__.get("_batcher")
    if batcher is not None:
        batcher.close()
    application.close()
