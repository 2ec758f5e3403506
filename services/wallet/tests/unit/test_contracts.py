"""Every event the wallet stores leaves as a valid public contract on the wallet topic, the
hash chain over that public form verifies, no personal data leaves, and an edited event is
caught."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from benecomune_contracts import WALLET_TOPIC, parse_event
from benecomune_contracts import wallet as c
from benecomune_contracts.chain import ChainVerifier, LedgerEvent, ledger_hash
from wallet.adapters.contract_mapping import to_contract
from wallet.application import commands as cmd
from wallet.application.app import WalletApplication
from wallet.domain.loads import EmployeeLoad
from wallet.domain.wallet import Wallet

from .test_wallet_flows import GOOD_CODE_FOR_TESTS, hold, make_plan


def public_events(app: WalletApplication) -> list[LedgerEvent]:
    """Every stored event but the record of a bulk load (the employer's report of a file,
    private: its grants are the public events)."""
    events = []
    for notification in app.recorder.select_notifications(start=1, limit=10_000):
        domain_event = app.mapper.to_domain_event(notification)
        if isinstance(domain_event, EmployeeLoad.Recorded):
            assert to_contract(domain_event) is None
            continue
        public = to_contract(domain_event)
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
    hold(app, wallet_id, 1_000, "b", expires=datetime(2025, 6, 1, 12, tzinfo=UTC))
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


def test_family_delegate_bonus_and_reminder_events_are_public_and_verify(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False}, bonus=True)
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    app.convert_bonus(
        plan_id,
        cmd.ConvertBonus(request_id="b", employee_id="e1", amount_cents=10_000),
        today=date(2025, 6, 1),
    )
    app.name_family_member("e1", "daughter-1", cmd.NameFamilyMember(relationship="child"))
    app.name_delegate("e1", cmd.NameDelegate(delegate_id="grandma-2"))
    hold(
        app, wallet_id, 1_000, "h", "education_childcare", member="daughter-1", delegate="grandma-2"
    )
    app.remove_family_member("e1", "daughter-1")
    app.revoke_delegate("e1")
    app.remind_expiring_credit(datetime(2025, 12, 20, tzinfo=UTC))
    events = public_events(app)
    types = {type(e) for e in events}
    assert {
        c.BonusConversionAllowed,
        c.PlanBonusConverted,
        c.BonusConverted,
        c.BonusYearOpened,
        c.BonusRecorded,
        c.FamilyOpened,
        c.FamilyMemberNamed,
        c.FamilyMemberRemoved,
        c.DelegateNamed,
        c.DelegateRevoked,
        c.CreditExpiring,
    } <= types
    verifier = ChainVerifier()
    assert len(verifier.feed_all(events)) == len(events) and not verifier.breaks
    for event in events:
        assert parse_event(event.type_name, event.to_json_bytes()) == event


def test_a_funds_held_published_before_member_and_delegate_existed_keeps_its_hash(
    app: WalletApplication,
) -> None:
    plan_id = make_plan(app, employees={"e1": False})
    wallet_id = app.grant(plan_id, cmd.Grant(employee_id="e1"))
    hold(app, wallet_id, 1_000, "plain")
    [held] = [e for e in public_events(app) if isinstance(e, c.FundsHeld)]
    # The message an older producer sent had no member_id nor delegate_id, and its hash was
    # computed over exactly that content.
    old_body = json.loads(held.to_json_bytes())
    del old_body["member_id"], old_body["delegate_id"]
    content = {k: v for k, v in old_body.items() if k != "event_hash"}
    assert ledger_hash(held.type_name, content) == held.event_hash
    read_back = parse_event(held.type_name, json.dumps(old_body).encode())
    assert isinstance(read_back, c.FundsHeld) and read_back.member_id is None
    assert read_back.computed_hash() == held.event_hash
    # When a member is named, the hash covers it: changing it is an edit.
    for_member = held.model_copy(update={"member_id": "someone"})
    assert for_member.computed_hash() != held.event_hash
