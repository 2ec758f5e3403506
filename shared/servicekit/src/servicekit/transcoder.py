"""eventsourcing's JSON transcoder, writing the same bytes faster with orjson.

Every stored event goes through the transcoder, and on a group-committed redemption the
stdlib's JSON encoder, calling back into Python for each UUID and datetime, was ~12 µs of an
event's ~60 µs. Here the state is first turned into plain JSON values in one Python pass (the
registered transcodings give ``{"_type_": name, "_data_": ...}`` exactly as eventsourcing's
``JSONTranscoder`` does) and orjson writes them.

The stored format is eventsourcing's, byte for byte: stores written before or after this class
read the same, and so does anything that reads them with the library's own transcoder (the
auditor's store replay). orjson and ``json`` write ``str``, ``int`` up to 64 bits, ``bool``,
``None``, dicts with ``str`` keys and lists alike; anything else — a float, a tuple, a ``str``
subclass, a non-``str`` key, a huge int — sends the whole value down the library's own path,
which decides as it always did (tested in ``test_transcoder.py``). Reading is left to the
library: a Python pass to restore the typed values after orjson cost as much as its decoder,
and only loading an aggregate, not the hot path, reads.
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

_SCALARS = frozenset({str, int, bool, type(None)})


class _NotPlain(Exception):
    """A value orjson might write differently from ``json``: use the library's encoder."""


class FastJSONTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj))
        except (_NotPlain, TypeError, RecursionError):  # orjson.JSONEncodeError is a TypeError
            return super().encode(obj)

    def _plain(self, value: Any) -> Any:
        kind = type(value)
        if kind in _SCALARS:
            return value
        if kind is dict:
            plain = {}
            for key, item in value.items():
                if type(key) is not str:
                    raise _NotPlain
                plain[key] = self._plain(item)
            return plain
        if kind is list:
            return [self._plain(item) for item in value]
        transcoding = self.types.get(kind)
        if transcoding is None:
            raise _NotPlain
        return {"_type_": transcoding.name, "_data_": self._plain(transcoding.encode(value))}
