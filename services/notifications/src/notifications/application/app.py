"""The notifications application: turns other services' events into notices, exactly once."""

from __future__ import annotations

from typing import Any

from benecomune_contracts.vouchers import FundAllocated, FundToppedUp
from benecomune_contracts.wallet import CreditExpiring
from eventsourcing.dispatch import singledispatchmethod
from servicekit.messages import Processing
from servicekit.store import ServiceApplication

from notifications.domain.notice import Notice

# The territory's operator sees money arriving in its funds.
OPERATOR = "operator"


class NotificationsApplication(ServiceApplication):
    @singledispatchmethod
    def policy(self, event: Any, processing: Any) -> None:
        """Events nobody needs to hear about are tracked and otherwise ignored."""

    @policy.register
    def _(self, event: FundAllocated, processing: Processing) -> None:
        self.notice(
            processing,
            OPERATOR,
            "fund_allocated",
            {
                "amount_cents": str(event.amount_cents),
                "municipality": event.municipality_istat,
                "source": event.source_reference,
            },
        )

    @policy.register
    def _(self, event: FundToppedUp, processing: Processing) -> None:
        self.notice(
            processing,
            OPERATOR,
            "fund_topped_up",
            {
                "amount_cents": str(event.amount_cents),
                "fund": event.fund_id,
                "source": event.source_reference,
            },
        )

    @policy.register
    def _(self, event: CreditExpiring, processing: Processing) -> None:
        # The employee, whose welfare credit expires soon (their token's subject).
        self.notice(
            processing,
            f"beneficiary:{event.employee_id}",
            "credit_expiring",
            {
                "amount_cents": str(event.amount_cents),
                "expires_on": event.expires_on.isoformat(),
                "threshold_days": str(event.threshold_days),
            },
        )

    def notice(
        self, processing: Processing, recipient: str, template: str, params: dict[str, str]
    ) -> None:
        envelope = processing.envelope
        assert envelope is not None, "notices are only caused by upstream events"
        processing.collect_events(
            Notice(
                recipient=recipient,
                template=template,
                params=params,
                source_event_id=envelope.id,
                source_subject=envelope.subject,
                source_sequence=envelope.sequence,
                source_notification_id=envelope.notification_id,
            )
        )

    def notices_for(self, recipient: str, limit: int = 50) -> list[Notice.Recorded]:
        """The newest notices of a recipient (a scan of the log; a read model comes with the
        inbox features)."""
        found: list[Notice.Recorded] = []
        last = self.recorder.max_notification_id() or 0
        stop = 0
        while last > stop and len(found) < limit:
            start = max(1, last - 499)
            batch = self.recorder.select_notifications(start=start, limit=500, stop=last)
            for notification in reversed(batch):
                domain_event = self.mapper.to_domain_event(notification)
                if (
                    isinstance(domain_event, Notice.Recorded)
                    and domain_event.recipient == recipient
                ):
                    found.append(domain_event)
                    if len(found) == limit:
                        break
            last = start - 1
        return found
