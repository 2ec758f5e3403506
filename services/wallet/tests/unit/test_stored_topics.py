"""Stored events and snapshots name their class by topic (``module:Qualname``): the classes of
the wallet's aggregates and events must keep answering to the topics stores already hold,
however the domain's modules are split (an event declared in ``wallet_events.py`` is still
``wallet.domain.wallet:Wallet.<Name>``; a class moved for good needs its old topic registered
with ``eventsourcing.utils.register_topic``)."""

from __future__ import annotations

import json
from typing import Any

from benecomune_contracts.chain import ChainVerifier
from eventsourcing.utils import get_topic, resolve_topic
from wallet.adapters.contract_mapping import to_contract
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.domain.bonus import BonusYear
from wallet.domain.family import Family
from wallet.domain.fringe import FringeYear
from wallet.domain.loads import EmployeeLoad
from wallet.domain.plan import Plan
from wallet.domain.refusals import RequestRefusal
from wallet.domain.wallet import Wallet

from .test_wallet_flows import hold, make_plan

STORED_TOPICS: dict[type[Any], tuple[str, ...]] = {
    Plan: (
        "Created",
        "EmployeesEnrolled",
        "CreditAllocated",
        "CreditReturned",
        "Closed",
        "BonusConversionAllowed",
        "BonusConverted",
    ),
    Wallet: (
        "Opened",
        "CreditGranted",
        "FundsHeld",
        "HoldCaptured",
        "HoldReleased",
        "HoldExpired",
        "Refunded",
        "HoldRefused",
        "CreditExpired",
        "CreditCarriedOver",
        "CreditCarriedIn",
        "CreditExpiring",
        "BonusConverted",
    ),
    FringeYear: ("Opened", "Recorded", "CapWarning", "BecameTaxable"),
    BonusYear: ("Opened", "Recorded"),
    Family: ("Opened", "MemberNamed", "MemberRemoved", "DelegateNamed", "DelegateRevoked"),
    EmployeeLoad: ("Recorded",),
    RequestRefusal: ("Refused",),
}
AGGREGATE_TOPICS = {
    Plan: "wallet.domain.plan:Plan",
    Wallet: "wallet.domain.wallet:Wallet",
    FringeYear: "wallet.domain.fringe:FringeYear",
    BonusYear: "wallet.domain.bonus:BonusYear",
    Family: "wallet.domain.family:Family",
    EmployeeLoad: "wallet.domain.loads:EmployeeLoad",
    RequestRefusal: "wallet.domain.refusals:RequestRefusal",
}


def test_every_aggregate_and_event_class_answers_to_the_topic_stores_hold() -> None:
    for aggregate, topic in AGGREGATE_TOPICS.items():
        assert get_topic(aggregate) == topic
        assert resolve_topic(topic) is aggregate
        for name in STORED_TOPICS[aggregate]:
            event_class = getattr(aggregate, name)
            assert get_topic(event_class) == f"{topic}.{name}"
            assert resolve_topic(f"{topic}.{name}") is event_class


def test_a_store_holding_every_kind_of_wallet_event_loads_by_its_topics(
    app: WalletApplication,
) -> None:
    """The rows a store holds, read back by their stored topics and state alone (a fresh
    application, no cache), rebuild the same wallet and verify their chain."""
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    h = hold(app, wallet_id, 1_000, "a")
    app.capture(wallet_id, h, cmd.Capture(request_id="c", amount_cents=600))
    app.refund(wallet_id, h, cmd.Refund(request_id="r", amount_cents=100))
    app.release(wallet_id, hold(app, wallet_id, 500, "b"), cmd.Release(request_id="x"))
    with app.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(
            "SELECT topic, state FROM stored_events WHERE originator_id = ?", (wallet_id.hex,)
        )
        rows = cursor.fetchall()
    topics = [row[0] for row in rows]
    assert topics[:2] == [
        "wallet.domain.wallet:Wallet.Opened",
        "wallet.domain.wallet:Wallet.CreditGranted",
    ]
    assert all(json.loads(bytes(row[1])) for row in rows)
    fresh = WalletApplication(app.settings)
    try:
        wallet = fresh.get_wallet(wallet_id)
        assert wallet.balances == app.get_wallet(wallet_id).balances
        public: list[Any] = [to_contract(e) for e in fresh.events.get(wallet_id)]
        verifier = ChainVerifier()
        assert len(verifier.feed_all(public)) == len(topics) and not verifier.breaks
    finally:
        fresh.close()
