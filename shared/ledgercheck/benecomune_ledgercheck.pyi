from typing import Any

class SoundLedgerCheck:
    """The compiled twin of ``servicekit.topic_reader._sound_ledger_item``."""

    def __init__(self, ledger_types: list[str]) -> None: ...
    def __call__(
        self, key: bytes | None, value: Any, headers: Any
    ) -> tuple[int, str, str, bytes, str] | None: ...
