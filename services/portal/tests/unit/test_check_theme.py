"""``python -m portal check-theme``: passes the shipped territories, refuses a bad palette."""

from __future__ import annotations

from pathlib import Path

import pytest
from portal.__main__ import main
from servicekit.settings import ServiceSettings


def test_the_shipped_territories_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-theme"]) == 0
    out = capsys.readouterr().out
    assert "biella: palette passes" in out and "matera: palette passes" in out


def test_a_bad_palette_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = (ServiceSettings().territories_dir / "matera.toml").read_text(encoding="utf-8")
    (tmp_path / "matera.toml").write_text(
        source.replace('primary_color = "#7A4B12"', 'primary_color = "#0066CC"'), "utf-8"
    )
    monkeypatch.setenv("BENECOMUNE_TERRITORIES_DIR", str(tmp_path))
    assert main(["check-theme", "matera"]) == 1
    assert "reserved to central government" in capsys.readouterr().err
