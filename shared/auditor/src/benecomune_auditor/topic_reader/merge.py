"""The producer's order, while fetching: messages of several partitions released in the order
of their notification ids as soon as no partition can still bring an earlier one."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = ["Merge"]


class Merge:
    """The messages of several partitions, added as they are fetched, released in the order
    ``merge_partitions`` gives: by (the notification id so far in the partition, partition,
    offset). A message is released once no unfinished partition can still bring an earlier
    one: the next message of a partition whose fetched messages were all released sorts at
    or after (its notification id so far, its number, its next offset).

    Messages are held and released as *keyed items*: tuples whose first three values are that
    key (unique: a partition and an offset), so they sort by it as they are."""

    def __init__(self, partitions: Iterable[int]) -> None:
        self.queues: dict[int, deque[tuple[Any, ...]]] = {p: deque() for p in partitions}
        self.last = dict.fromkeys(self.queues, 0)
        self.next_offset = dict.fromkeys(self.queues, 0)
        self.open = set(self.queues)
        self.heap: list[tuple[Any, ...]] = []
        """The first held item of each partition that holds any."""

    def add(self, partition: int, offset: int, nid: int | None, item: tuple[Any, ...]) -> None:
        """One message (``item``, without its key) with its notification id, if it has one."""
        last = self.last[partition]
        if nid is not None and nid > last:
            self.last[partition] = last = nid
        self.add_run(partition, [(last, partition, offset, *item)])

    def add_run(self, partition: int, items: Sequence[tuple[Any, ...]]) -> None:
        """Keyed items of ``partition``, in offset order, keyed from its notification id so
        far on (what ``add`` would key them)."""
        if not items:
            return
        queue = self.queues[partition]
        if not queue:
            heapq.heappush(self.heap, items[0])
        queue.extend(items)
        last_key = items[-1]
        self.last[partition] = last_key[0]
        self.next_offset[partition] = last_key[2] + 1

    def finish(self, partition: int) -> None:
        self.open.discard(partition)

    def held(self, partition: int) -> int:
        return len(self.queues[partition])

    def ready(self) -> Iterator[tuple[Any, ...]]:
        """Release what can be released now (everything, once every partition is finished):
        the keyed items."""
        heap, queues = self.heap, self.queues
        bound = min(
            (
                (self.last[p], p, self.next_offset[p])
                for p in self.open
                if not queues[p]  # nothing fetched waits here: the next message may be earlier
            ),
            default=None,
        )
        while heap:
            first = heap[0]
            if bound is not None and first >= bound:
                return
            partition = first[1]
            queue = queues[partition]
            yield queue.popleft()
            if queue:
                heapq.heapreplace(heap, queue[0])
            else:
                heapq.heappop(heap)
                if partition in self.open:
                    limit = (self.last[partition], partition, self.next_offset[partition])
                    if bound is None or limit < bound:
                        bound = limit
