"""The catalog service as the kit runs it."""

from benecomune_contracts import BOOKING_TOPIC, CATALOG_TOPIC
from servicekit.service import ServiceDefinition

from catalog.application.app import CatalogApplication
from catalog.entrypoints import http_api
from catalog.settings import CatalogSettings

DEFINITION = ServiceDefinition(
    name="catalog",
    title="Benecomune — catalog",
    description=(
        "Providers and their accreditation, offerings with price history, time slots held for "
        "bookings (by HTTP, or by the booking saga's events), multi-provider packages, "
        "merchants for vouchers, and search."
    ),
    settings_class=CatalogSettings,
    application_class=CatalogApplication,
    routers=http_api.routers,
    publishes_to=CATALOG_TOPIC.name,
    # The booking saga's requests: slot holds, confirmations and releases.
    consumes=[BOOKING_TOPIC.name],
)
