"""The notifications service as the kit runs it."""

from benecomune_contracts import BOOKING_TOPIC, NOTIFICATIONS_TOPIC, VOUCHERS_TOPIC, WALLET_TOPIC
from servicekit.service import ServiceDefinition

from notifications.application.app import NotificationsApplication
from notifications.entrypoints import http_api
from notifications.settings import NotificationsSettings

DEFINITION = ServiceDefinition(
    name="notifications",
    title="Benecomune — notifications",
    description="Turns domain events into messages for people: in-app inbox, e-mail, SMS.",
    settings_class=NotificationsSettings,
    application_class=NotificationsApplication,
    routers=lambda: [http_api.router],
    publishes_to=NOTIFICATIONS_TOPIC.name,
    consumes=[VOUCHERS_TOPIC.name, WALLET_TOPIC.name, BOOKING_TOPIC.name],
)
