"""How the catalog's events change the read model's tables (:class:`CatalogProjection`); the kit
(:mod:`servicekit.projection`) records the position in the same transaction as the rows.

The event store stays the truth; these tables are a disposable view of it, rebuilt from the
notification log at any time (delete the file and it comes back).
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from uuid import UUID

from servicekit.projection import Projection
from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection

from catalog.adapters.read_model.full_text import index_offering
from catalog.adapters.read_model.search_text import sort_key
from catalog.adapters.read_model.tables import (
    FTS_DDL,
    PROJECTION,
    SCHEMA_VERSION,
    metadata,
    offering_municipalities,
    offerings,
    packages,
    pg_metadata,
    provider_municipalities,
    providers,
    slot_holds,
    slots,
)
from catalog.domain.offering import Offering
from catalog.domain.package import Package
from catalog.domain.provider import Provider
from catalog.domain.slot import Slot


class CatalogProjection(Projection):
    """How the catalog's events change the read model's tables (the kit keeps the position)."""

    name = PROJECTION
    version = SCHEMA_VERSION
    metadata = metadata

    def create_extra(self, connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            pg_metadata.create_all(connection)
        elif connection.dialect.name == "sqlite":
            connection.execute(text(FTS_DDL))

    def drop_extra(self, connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            pg_metadata.drop_all(connection)
        elif connection.dialect.name == "sqlite":
            connection.execute(text("DROP TABLE IF EXISTS offering_text"))

    # Its own dispatcher: ``Projection.apply.register`` would add these handlers to the one
    # registry every projection of the process shares.
    @singledispatchmethod
    def apply(self, domain_event: object, connection: Connection) -> None:
        """Events the search does not need (refused holds, index entries) are skipped."""

    @apply.register
    def _(self, e: Provider.Applied, connection: Connection) -> None:
        connection.execute(
            insert(providers).values(
                provider_id=e.provider_id,
                aggregate_id=str(e.originator_id),
                legal_name=e.legal_name,
                name_key=sort_key(e.legal_name),
                kind=e.kind,
                status="applied",
                municipalities=" ".join(e.municipalities),
                goods_categories="",
                merchant=False,
                vat_number=e.vat_number,
                certifications="\n".join(e.certifications),
                applied_at=e.timestamp,
                status_since=e.timestamp,
                **_contact_columns(e.contact_email, e.phone, e.website, e.address),
            )
        )
        if e.municipalities:
            connection.execute(
                insert(provider_municipalities),
                [{"provider_id": e.provider_id, "istat": m} for m in sorted(set(e.municipalities))],
            )

    @apply.register
    def _(self, e: Provider.Accredited, connection: Connection) -> None:
        self._provider_status(connection, e.originator_id, "accredited", e.timestamp)

    @apply.register
    def _(self, e: Provider.Reinstated, connection: Connection) -> None:
        self._provider_status(connection, e.originator_id, "accredited", e.timestamp)

    @apply.register
    def _(self, e: Provider.Suspended, connection: Connection) -> None:
        self._provider_status(connection, e.originator_id, "suspended", e.timestamp)

    @apply.register
    def _(self, e: Provider.CertificationAdded, connection: Connection) -> None:
        provider_id = self._provider_id(connection, e.originator_id)
        current = connection.execute(
            select(providers.c.certifications).where(providers.c.provider_id == provider_id)
        ).scalar_one()
        listed = [c for c in str(current).split("\n") if c]
        connection.execute(
            update(providers)
            .where(providers.c.provider_id == provider_id)
            .values(certifications="\n".join([*listed, e.certification]))
        )

    @apply.register
    def _(self, e: Provider.ContactsUpdated, connection: Connection) -> None:
        provider_id = self._provider_id(connection, e.originator_id)
        connection.execute(
            update(providers)
            .where(providers.c.provider_id == provider_id)
            .values(**_contact_columns(e.email, e.phone, e.website, e.address))
        )

    @apply.register
    def _(self, e: Provider.MerchantAffiliated, connection: Connection) -> None:
        provider_id = self._provider_id(connection, e.originator_id)
        connection.execute(
            update(providers)
            .where(providers.c.provider_id == provider_id)
            .values(goods_categories=" ".join(e.goods_categories), merchant=True)
        )

    @staticmethod
    def _provider_id(connection: Connection, aggregate_id: UUID) -> str:
        return str(
            connection.execute(
                select(providers.c.provider_id).where(providers.c.aggregate_id == str(aggregate_id))
            ).scalar_one()
        )

    def _provider_status(
        self, connection: Connection, aggregate_id: UUID, status: str, since: datetime
    ) -> None:
        provider_id = self._provider_id(connection, aggregate_id)
        connection.execute(
            update(providers)
            .where(providers.c.provider_id == provider_id)
            .values(status=status, status_since=since)
        )
        connection.execute(
            update(offerings)
            .where(offerings.c.provider_id == provider_id)
            .values(visible=offerings.c.status == "published" if status == "accredited" else False)
        )

    @apply.register
    def _(self, e: Offering.Drafted, connection: Connection) -> None:
        offering_id = str(e.originator_id)
        row_id = connection.execute(
            insert(offerings).values(
                offering_id=offering_id,
                provider_id=e.provider_id,
                status="draft",
                visible=False,
                category=e.category,
                delivery_mode=e.delivery_mode,
                price_cents=e.price_cents,
                unit=e.unit,
                title_it=e.title.get("it", ""),
                title_en=e.title.get("en", ""),
                title_key=sort_key(e.title.get("it", "")),
                description_it=e.description.get("it", ""),
                description_en=e.description.get("en", ""),
            )
        ).inserted_primary_key
        assert row_id is not None
        if e.municipalities:
            connection.execute(
                insert(offering_municipalities),
                [{"offering_id": offering_id, "istat": m} for m in e.municipalities],
            )
        index_offering(connection, row_id[0], e.title, e.description, e.category)

    @apply.register
    def _(self, e: Offering.Published, connection: Connection) -> None:
        offering_id = str(e.originator_id)
        provider_status = select(providers.c.status).where(
            providers.c.provider_id == offerings.c.provider_id
        )
        connection.execute(
            update(offerings)
            .where(offerings.c.offering_id == offering_id)
            .values(
                status="published",
                published_at=e.timestamp,
                visible=provider_status.scalar_subquery() == "accredited",
            )
        )

    @apply.register
    def _(self, e: Offering.PriceChanged, connection: Connection) -> None:
        connection.execute(
            update(offerings)
            .where(offerings.c.offering_id == str(e.originator_id))
            .values(price_cents=e.price_cents, unit=e.unit)
        )

    @apply.register
    def _(self, e: Offering.Withdrawn, connection: Connection) -> None:
        connection.execute(
            update(offerings)
            .where(offerings.c.offering_id == str(e.originator_id))
            .values(status="withdrawn", visible=False)
        )

    @apply.register
    def _(self, e: Slot.Opened, connection: Connection) -> None:
        connection.execute(
            insert(slots).values(
                slot_id=str(e.originator_id),
                offering_id=str(e.offering_id),
                starts_at=e.starts_at,
                ends_at=e.ends_at,
                capacity=e.capacity,
            )
        )

    @apply.register
    def _(self, e: Slot.Held, connection: Connection) -> None:
        connection.execute(
            insert(slot_holds).values(
                slot_id=str(e.originator_id),
                holder=e.holder,
                request_id=e.request_id,
                quantity=e.quantity,
                status="held",
                expires_at=e.expires_at,
            )
        )

    @apply.register
    def _(self, e: Slot.HoldConfirmed, connection: Connection) -> None:
        self._hold_status(connection, e.originator_id, e.request_id, e.holder, "confirmed")

    @apply.register
    def _(self, e: Slot.Released, connection: Connection) -> None:
        self._hold_status(connection, e.originator_id, e.request_id, e.holder, "released")

    def _hold_status(
        self,
        connection: Connection,
        slot_id: UUID,
        request_id: str,
        holder: str | None,
        status: str,
    ) -> None:
        h = slot_holds
        # Events recorded before request ids were scoped by holder name none: the request id
        # alone was then unique in its slot.
        whose = [h.c.holder == holder] if holder is not None else []
        connection.execute(
            update(h)
            .where(h.c.slot_id == str(slot_id), h.c.request_id == request_id, *whose)
            .values(status=status)
        )

    @apply.register
    def _(self, e: Package.Composed, connection: Connection) -> None:
        connection.execute(
            insert(packages).values(
                package_id=str(e.originator_id),
                title_it=e.title.get("it", ""),
                title_en=e.title.get("en", ""),
                price_cents=e.price_cents,
                status="composed",
                provider_ids=" ".join(sorted({str(p["provider_id"]) for p in e.parts})),
                offering_ids=" ".join(str(p["offering_id"]) for p in e.parts),
            )
        )

    @apply.register
    def _(self, e: Package.Withdrawn, connection: Connection) -> None:
        connection.execute(
            update(packages)
            .where(packages.c.package_id == str(e.originator_id))
            .values(status="withdrawn")
        )


def _contact_columns(
    email: str | None, phone: str | None, website: str | None, address: dict[str, str] | None
) -> dict[str, str | None]:
    return {
        "email": email,
        "phone": phone,
        "website": website,
        "street": address["street"] if address else None,
        "address_istat": address["municipality_istat"] if address else None,
        "postcode": address["postcode"] if address else None,
    }
