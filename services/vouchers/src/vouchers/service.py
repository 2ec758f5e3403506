"""The vouchers service as the kit runs it."""

from benecomune_contracts import BOOKING_TOPIC, CATALOG_TOPIC, VOUCHERS_TOPIC
from servicekit.service import PeriodicJob, ServiceDefinition

from vouchers.application.app import VouchersApplication
from vouchers.entrypoints import http_api
from vouchers.settings import VouchersSettings

DEFINITION = ServiceDefinition(
    name="vouchers",
    title="Benecomune — vouchers (Cura Italia)",
    description="Funds, voucher rounds, applications, vouchers, redemptions, reimbursements.",
    settings_class=VouchersSettings,
    application_class=VouchersApplication,
    routers=http_api.routers,
    publishes_to=VOUCHERS_TOPIC.name,
    # Shops the catalogue admits to the voucher programme join the food rounds of their
    # municipalities without an operator affiliating them round by round, accredited care
    # providers the services rounds; the booking saga holds, captures and releases service
    # vouchers.
    consumes=[CATALOG_TOPIC.name, BOOKING_TOPIC.name],
    # Expired vouchers give their value back to the round (and so to the waitlist) without
    # waiting for an operator; hourly is enough for validities counted in days.
    periodic=[
        PeriodicJob(
            "expire_vouchers",
            lambda app, now: app.expire_due_vouchers(now),
            every_seconds=3600,
        ),
        # An accreditation consumed while a services round was being opened can miss it
        # (neither transaction sees the other's change): the provider's account is opened here.
        PeriodicJob("join_open_rounds", lambda app, now: app.join_open_rounds(), every_seconds=60),
    ],
)
