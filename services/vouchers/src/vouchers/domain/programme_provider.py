"""A care provider the catalogue accredited, as the vouchers service knows it from the
catalogue's ``ProviderAccredited``, ``ProviderSuspended`` and ``ProviderReinstated`` events: the
municipalities it serves and whether it is suspended. The service opens its account in every
services round of those municipalities (open ones when it is accredited or reinstated, new
ones when they open): where service vouchers can be spent. Shops (``kind`` shop) are the
programme's shops, not care providers. Private: it moves no money, so it is not a ledger stream
and is not published."""

from __future__ import annotations

import uuid
from uuid import UUID

from eventsourcing.domain import event
from servicekit.domain import Aggregate

PROVIDER_NAMESPACE = uuid.UUID("6e3a9c17-2d54-4f8b-b0e6-9a4c1f7d2e38")


class ProgrammeProvider(Aggregate):
    class Accredited(Aggregate.Created):
        provider_id: str
        municipalities: list[str]

    class Changed(Aggregate.Event):
        municipalities: list[str]

    class Suspended(Aggregate.Event):
        pass

    class Reinstated(Aggregate.Event):
        pass

    @event(Accredited)
    def __init__(self, provider_id: str, municipalities: list[str]) -> None:
        self.provider_id = provider_id
        self.municipalities = municipalities
        self.suspended = False

    @staticmethod
    def create_id(provider_id: str, municipalities: list[str]) -> UUID:
        return ProgrammeProvider.id_for(provider_id)

    @staticmethod
    def id_for(provider_id: str) -> UUID:
        return uuid.uuid5(PROVIDER_NAMESPACE, provider_id)

    def accredit_again(self, municipalities: list[str]) -> None:
        """The catalogue accredited it again (its municipalities may have changed); a
        suspended provider accredited again is active."""
        if municipalities != self.municipalities:
            self._change(municipalities)
        self.reinstate()

    def suspend(self) -> None:
        if not self.suspended:
            self._suspend()

    def reinstate(self) -> None:
        if self.suspended:
            self._reinstate()

    def serves(self, municipality_istat: str) -> bool:
        """Whether it takes service vouchers of a round of this municipality."""
        return not self.suspended and municipality_istat in self.municipalities

    @event(Changed)
    def _change(self, municipalities: list[str]) -> None:
        self.municipalities = municipalities

    @event(Suspended)
    def _suspend(self) -> None:
        self.suspended = True

    @event(Reinstated)
    def _reinstate(self) -> None:
        self.suspended = False
