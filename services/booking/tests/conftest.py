from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from booking.application.app import BookingApplication
from booking.settings import BookingSettings


@pytest.fixture
def app(tmp_path: Path) -> Iterator[BookingApplication]:
    """A booking application on an embedded store of its own, closed afterwards."""
    application = BookingApplication(
        BookingSettings(
            data_dir=tmp_path / "data", keys_dir=tmp_path / "keys", request_facts_fallback=True
        )
    )
    yield application
    application.close()
