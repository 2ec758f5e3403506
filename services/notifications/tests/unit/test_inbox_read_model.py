"""The inbox is a read model: one recipient's notices come from an index, newest first, the
same after a rebuild from the log, and seen by a second application on the same store."""

from __future__ import annotations

from pathlib import Path

from notifications.application.app import NotificationsApplication
from notifications.settings import NotificationsSettings

from .test_voucher_notices import approved, deliver, envelope_of, paid, served


def test_an_inbox_reads_its_own_notices_newest_first_and_survives_a_rebuild(
    tmp_path: Path,
) -> None:
    settings = NotificationsSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    app = NotificationsApplication(settings)
    other = NotificationsApplication(settings)  # another process on the same store
    try:
        for n, event in enumerate([approved(), served(), paid()], start=1):
            deliver(app, event, envelope_of(event, n), offset=n)
        shop = [n.template for n in app.notices_for("merchant:m-alimentari")]
        assert shop == ["claim_paid", "claim_approved"]
        assert [n.template for n in app.notices_for("merchant:m-alimentari", limit=1)] == [
            "claim_paid"
        ]
        assert [n.template for n in other.notices_for("merchant:m-alimentari")] == shop
        assert app.rebuild_read_models() == 3
        assert [n.template for n in app.notices_for("merchant:m-alimentari")] == shop
    finally:
        other.close()
        app.close()
