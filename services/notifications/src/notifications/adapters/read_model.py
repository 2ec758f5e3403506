"""The inbox read model: every notice, by recipient and time, so that reading one inbox never
scans the log (``servicekit.projection``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from servicekit.projection import Projection, ReadModelStore, UtcDateTime
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, insert, select
from sqlalchemy.engine import Connection

from notifications.domain.notice import Notice

metadata = MetaData()
notices = Table(
    "notices",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", String(36), nullable=False, unique=True),
    Column("recipient", String(200), nullable=False),
    Column("template", String(100), nullable=False),
    Column("params", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("source_event_id", String(200), nullable=False),
    Column("correlation_id", String(200), nullable=True),
    Index("ix_notices_recipient_seq", "recipient", "seq"),
)


@dataclass(frozen=True)
class InboxNotice:
    notice_id: UUID
    recipient: str
    template: str
    params: dict[str, str]
    recorded_at: datetime
    source_event_id: str
    correlation_id: str | None


class InboxProjection(Projection):
    name = "notifications-inbox"
    version = 1
    metadata = metadata

    @singledispatchmethod
    def apply(self, domain_event: object, connection: Connection) -> None:
        pass  # applicants and other private records are not notices

    @apply.register
    def _(self, e: Notice.Recorded, connection: Connection) -> None:
        connection.execute(
            insert(notices).values(
                notice_id=str(e.originator_id),
                recipient=e.recipient,
                template=e.template,
                params=json.dumps(e.params, sort_keys=True),
                recorded_at=e.timestamp,
                source_event_id=e.source_event_id,
                correlation_id=e.correlation_id,
            )
        )


class InboxReadModel(ReadModelStore):
    def __init__(self, url: str, schema: str | None = None) -> None:
        super().__init__(InboxProjection(), url, schema)

    def newest(self, recipient: str, limit: int) -> list[InboxNotice]:
        query = (
            select(notices)
            .where(notices.c.recipient == recipient)
            .order_by(notices.c.seq.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [_notice(row) for row in connection.execute(query).mappings()]


def _notice(row: Any) -> InboxNotice:
    return InboxNotice(
        notice_id=UUID(row["notice_id"]),
        recipient=row["recipient"],
        template=row["template"],
        params=json.loads(row["params"]),
        recorded_at=row["recorded_at"],
        source_event_id=row["source_event_id"],
        correlation_id=row["correlation_id"],
    )
