"""Accredited care providers, where service vouchers are spent: the catalogue's
``ProviderAccredited`` records a provider and opens its account in every open services round of
the municipalities it serves (and in those opened later, see ``rounds.open_round``); its
``ProviderSuspended`` and ``ProviderReinstated`` suspend and reinstate those accounts (the
shops' handler does the accounts, this one the provider's record), a reinstated provider
joining the rounds opened meanwhile."""

from __future__ import annotations

from benecomune_contracts import catalog
from eventsourcing.persistence import IntegrityError
from servicekit.domain import NotFound
from servicekit.messages import Processing

from vouchers.application import views
from vouchers.application.store import VouchersStore
from vouchers.domain.merchant import MerchantAccount
from vouchers.domain.programme_provider import ProgrammeProvider
from vouchers.domain.round import Round


def provider_accredited(
    store: VouchersStore, message: catalog.ProviderAccredited, processing: Processing
) -> None:
    if message.kind == "shop":
        return  # a shop takes food vouchers (its MerchantAffiliated), not service vouchers
    municipalities = sorted(set(message.municipalities))
    provider = programme_provider(store, message.provider_id)
    if provider is None:
        provider = ProgrammeProvider(message.provider_id, municipalities)
    else:
        provider.accredit_again(municipalities)
    processing.collect_events(provider, *joined_rounds(store, provider))


def provider_suspended(
    store: VouchersStore, message: catalog.ProviderSuspended, processing: Processing
) -> None:
    provider = programme_provider(store, message.provider_id)
    if provider is not None:
        provider.suspend()
        processing.collect_events(provider)


def provider_reinstated(
    store: VouchersStore, message: catalog.ProviderReinstated, processing: Processing
) -> None:
    provider = programme_provider(store, message.provider_id)
    if provider is not None:
        provider.reinstate()
        processing.collect_events(provider, *joined_rounds(store, provider))


def join_open_rounds(store: VouchersStore) -> int:
    """Open every accredited provider's missing accounts in the open services rounds it serves;
    how many were opened. An accreditation consumed while a services round is being opened
    can miss it, each transaction not seeing the other's change yet (the consumer finds no
    open round, the round no provider): this periodic job closes that gap. An account opened
    meanwhile by another transaction (its id is the round's and provider's) is left alone."""
    opened = 0
    for provider in programme_providers(store):
        if provider.suspended:
            continue
        accounts = joined_rounds(store, provider)
        if not accounts:
            continue
        try:
            store.save(*accounts)
        except IntegrityError:
            continue
        opened += len(accounts)
    return opened


def joined_rounds(store: VouchersStore, provider: ProgrammeProvider) -> list[MerchantAccount]:
    """The provider's new accounts in the open services rounds it serves and has not joined."""
    return [
        provider_account(provider, round_)
        for round_ in open_services_rounds(store)
        if provider.serves(round_.municipality_istat)
        and not has_account(store, round_, provider.provider_id)
    ]


def provider_account(provider: ProgrammeProvider, round_: Round) -> MerchantAccount:
    return MerchantAccount.open_for_provider(
        round_.id, provider.provider_id, list(round_.service_categories)
    )


def programme_provider(store: VouchersStore, provider_id: str) -> ProgrammeProvider | None:
    try:
        provider_key = ProgrammeProvider.id_for(provider_id)
        return store.get_aggregate(provider_key, ProgrammeProvider, "programme provider")
    except NotFound:
        return None


def programme_providers(store: VouchersStore) -> list[ProgrammeProvider]:
    ids = views.programme_provider_ids(store.fresh_read_model())
    return [store.get_aggregate(i, ProgrammeProvider, "programme provider") for i in ids]


def open_services_rounds(store: VouchersStore) -> list[Round]:
    rounds = (store.get_round(i) for i in views.round_ids(store.fresh_read_model()))
    return [r for r in rounds if not r.closed and r.kind == "services"]


def has_account(store: VouchersStore, round_: Round, provider_id: str) -> bool:
    try:
        store.get_aggregate(
            MerchantAccount.id_for(round_.id, provider_id), MerchantAccount, "merchant account"
        )
    except NotFound:
        return False
    return True
