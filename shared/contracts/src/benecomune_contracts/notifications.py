"""Public events of the notifications service, topic ``benecomune.notifications``.

No personal data in contract events: recipients are role subjects with pseudonymous ids
(``operator``, ``merchant:<id>``), never names, e-mail addresses or phone numbers.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from benecomune_contracts.base import ContractEvent, Identifier, UtcDatetime
from benecomune_contracts.registry import contract
from benecomune_contracts.topics import NOTIFICATIONS_TOPIC

__all__ = ["NoticeRecorded", "RecipientSubject"]

RecipientSubject = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z_]*(:[^\s:][^\s]*)?$", max_length=160),
    Field(
        description=(
            'Who the notice is for: a role ("operator") or a role and a pseudonymous id '
            '("merchant:<id>", "employee:<id>").'
        )
    ),
]


@contract
class NoticeRecorded(ContractEvent):
    """The notifications service put a message in someone's in-app inbox."""

    type_name: ClassVar[str] = "benecomune.notifications.NoticeRecorded.v1"
    topic: ClassVar[str] = NOTIFICATIONS_TOPIC.name

    notice_id: Identifier
    recipient: RecipientSubject
    template: Annotated[
        str,
        StringConstraints(min_length=1, max_length=100),
        Field(description='The template rendered, e.g. "vouchers.fund_allocated".'),
    ]
    source_event_id: Annotated[
        Identifier,
        Field(description="ce_id of the domain event the notice was made for."),
    ]
    recorded_at: UtcDatetime
