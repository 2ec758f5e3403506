"""Every event the wallet stores leaves as a valid public contract on the wallet topic, the
hash chain over that public form verifies, no personal data leaves, and an edited event is
caught."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from benecomune_contracts import WALLET_TOPIC, parse_event
from benecomune_contracts.chain import ChainVerifier, LedgerEvent
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.contract_mapping import to_contract
from wallet.domain.wallet import Wallet

from .test_wallet_flows import GOOD_CODE_FOR_TESTS, hold, make_plan


def public_events(app: WalletApplication) -> list[LedgerEvent]:
    events = []
    for notification in app.recorder.select_notifications(start=1, limit=10_000):
        public = to_contract(app.mapper.to_domain_event(notification))
        assert isinstance(public, LedgerEvent), notification.topic
        assert public.topic == WALLET_TOPIC.name
        events.append(public)
    return events


def test_the_public_stream_verifies_and_carries_no_fiscal_code(app: WalletApplication) -> None:
    plan_id = make_plan(app, per_employee=150_000)
    app.load_csv(
        plan_id, f"employee_id,fiscal_code,dependent_children\ne1,{GOOD_CODE_FOR_TESTS},yes\n"
    )
    wallet_id = Wallet.id_for(plan_id, "e1")
    h = hold(app, wallet_id, 30_000, "a", "fringe_purchase")
    app.capture(wallet_id, h, cmd.Capture(request_id="c", amount_cents=20_000))
    app.refund(wallet_id, h, cmd.Refund(request_id="r", amount_cents=5_000))
    hold(app, wallet_id, 1_000, "b", expires=datetime(2025, 6, 1, tzinfo=UTC))
    app.expire_holds(datetime(2025, 6, 2, tzinfo=UTC) + timedelta(days=1))
    events = public_events(app)
    assert len(events) >= 10
    verifier = ChainVerifier()
    assert len(verifier.feed_all(events)) == len(events) and not verifier.breaks
    for event in events:
        body = event.to_json_bytes()
        assert GOOD_CODE_FOR_TESTS.encode() not in body
        assert parse_event(event.type_name, body) == event

    n = next(i for i, e in enumerate(events) if getattr(e, "transfers", None))
    edited = events[n].model_copy(update={"transfers": []})
    again = ChainVerifier()
    again.feed_all([*events[:n], edited, *events[n + 1 :]])
    assert [b.kind for b in again.breaks] == ["edited"]
