from typing import Any

class SoundLedgerCheck:
    """The compiled twin of ``servicekit.topic_reader._sound_ledger_item``, and a reader of
    fetched record sets (``records``)."""

    def __init__(self, ledger_types: list[str]) -> None: ...
    def __call__(
        self, key: bytes | None, value: Any, headers: Any
    ) -> tuple[int, str, str, bytes, str] | None: ...
    def records(self, blob: bytes, start: int, end: int) -> PartitionRecords | None: ...

class PartitionRecords:
    """One partition's record set, read: its sound ledger events handed out in runs."""

    @property
    def next_offset(self) -> int: ...
    def __len__(self) -> int: ...
    def run(
        self, partition: int, last: int
    ) -> tuple[
        list[tuple[Any, ...]],
        tuple[int, bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...]] | None,
    ]: ...

class ChainLink:
    """The replay's chain step for a sound event that links to its stream's head, recorded in
    the verifier's and the claims' own dicts (``servicekit.audit.LedgerReplay``)."""

    def __init__(
        self,
        heads: dict[str, Any],
        chains: dict[str, bytearray],
        scattered: dict[tuple[str, int], bytes],
        anchors: Any = None,
    ) -> None: ...
    def link(
        self, fields: dict[str, Any], type_name: str, computed_hash: str | None
    ) -> bool | None: ...

def plain_heads_text(heads: dict[str, Any]) -> str | None:
    """The seal's heads file as ``servicekit.ledger_seal._plain_rows`` writes it, or None."""
