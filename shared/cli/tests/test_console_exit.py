"""The console script exits as the app does; after an audit has written everything it skips
the interpreter's teardown (``os._exit``) with the same exit code."""

from __future__ import annotations

import pytest
from benecomune_cli import audit, main


class Exited(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def test_after_a_finished_audit_the_script_exits_at_once_with_the_audits_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def finished_audit() -> None:
        monkeypatch.setattr(audit, "finished", True)
        raise SystemExit(1)

    def exit_now(code: int) -> None:
        raise Exited(code)

    monkeypatch.setattr(main, "app", finished_audit)
    monkeypatch.setattr(main.os, "_exit", exit_now)

    with pytest.raises(Exited) as exited:
        main.main()

    assert exited.value.code == 1


def test_any_other_command_exits_through_the_usual_teardown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def other_command() -> None:
        raise SystemExit(2)

    def exit_now(code: int) -> None:
        raise AssertionError("no teardown skipped outside a finished audit")

    monkeypatch.setattr(audit, "finished", False)
    monkeypatch.setattr(main, "app", other_command)
    monkeypatch.setattr(main.os, "_exit", exit_now)

    with pytest.raises(SystemExit) as done:
        main.main()

    assert done.value.code == 2
