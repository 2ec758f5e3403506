"""The booking service as the kit runs it."""

from benecomune_contracts import BOOKING_TOPIC, CATALOG_TOPIC, VOUCHERS_TOPIC, WALLET_TOPIC
from servicekit.service import PeriodicJob, ServiceDefinition

import booking.entrypoints.http_api as http_api
from booking.application.app import BookingApplication
from booking.application.handlers import fire_due_deadlines
from booking.settings import BookingSettings

DEFINITION = ServiceDefinition(
    name="booking",
    title="Benecomune — bookings",
    description="Bookings of one offering or a multi-provider package, as a saga: every slot "
    "and every funding source (service vouchers, welfare credit, co-payment) held, every "
    "provider's acceptance, confirmation or compensation; then delivery, its confirmation or "
    "dispute, capture per source to the cent, cancellation with the offering's policy, "
    "no-show and rescheduling.",
    settings_class=BookingSettings,
    application_class=BookingApplication,
    routers=http_api.routers,
    publishes_to=BOOKING_TOPIC.name,
    consumes=[CATALOG_TOPIC.name, WALLET_TOPIC.name, VOUCHERS_TOPIC.name],
    periodic=[
        # Deadlines are data: a booking's due deadlines fire once each, however often this runs.
        PeriodicJob(
            "fire_due_deadlines", lambda app, now: fire_due_deadlines(app, now), every_seconds=30
        ),
    ],
)
