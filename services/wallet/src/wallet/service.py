"""The wallet service as the kit runs it."""

from benecomune_contracts import BOOKING_TOPIC, WALLET_TOPIC
from servicekit.service import PeriodicJob, ServiceDefinition

from wallet.application.app import WalletApplication
from wallet.entrypoints import http_api
from wallet.settings import WalletSettings

DEFINITION = ServiceDefinition(
    name="wallet",
    title="Benecomune — welfare wallets",
    description="Employer welfare plans and employee wallets on a double-entry ledger: grants, "
    "productivity bonuses converted into credit, holds for the employee or a family member "
    "(by the employee or their delegate, or by the booking saga's events), captures, refunds, "
    "the fringe-benefit cap, reminders before credit expires, expiry and carry-over.",
    settings_class=WalletSettings,
    application_class=WalletApplication,
    routers=http_api.routers,
    publishes_to=WALLET_TOPIC.name,
    # The booking saga's requests: holds, captures and releases (source "wallet").
    consumes=[BOOKING_TOPIC.name],
    periodic=[
        # A booking that never confirms must not keep an employee's money held.
        PeriodicJob("expire_holds", lambda app, now: app.expire_holds(now), every_seconds=60),
        # Warn employees 30 and 7 days before their credit expires (once each: idempotent).
        PeriodicJob(
            "remind_expiring_credit",
            lambda app, now: app.remind_expiring_credit(now),
            every_seconds=3600,
        ),
    ],
)
