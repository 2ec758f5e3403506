"""Who applied for a household: where its notices go.

Vouchers events name a household by its pseudonymous id only; the beneficiary who applied is
named (by their token's subject id) when the application is submitted. The notices about that
application — vouchers issued, served from the waitlist, rejected — go to that beneficiary's
own inbox, which only their token reads.
"""

from __future__ import annotations

import uuid

from eventsourcing.domain import event
from servicekit.domain import Aggregate

APPLICANT_NAMESPACE = uuid.UUID("5d7a1c3e-2b8f-4e61-9a0d-7c4e2f1b8a93")


class Applicant(Aggregate):
    """The beneficiary who submitted one application (its id derived from the application's)."""

    class Recorded(Aggregate.Created):
        application_id: str
        beneficiary_id: str

    @event(Recorded)
    def __init__(self, application_id: str, beneficiary_id: str) -> None:
        self.application_id = application_id
        self.beneficiary_id = beneficiary_id

    @staticmethod
    def create_id(application_id: str, beneficiary_id: str) -> uuid.UUID:
        return Applicant.id_for(application_id)

    @staticmethod
    def id_for(application_id: str) -> uuid.UUID:
        return uuid.uuid5(APPLICANT_NAMESPACE, application_id)
