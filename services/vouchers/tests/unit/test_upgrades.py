"""A store written before the household's application was renamed still loads: its events and
index entries name ``vouchers.domain.application:Application`` (and ``...:HouseholdIndexEntry``)
in their topics, and resolve to ``HouseholdApplication`` (registered old topics). And the read
model's ranking is the domain's."""

from __future__ import annotations

import json
from uuid import UUID

import pytest
from vouchers.application import commands as cmd
from vouchers.application import views
from vouchers.application.app import VouchersApplication
from vouchers.domain import issuing
from vouchers.domain.errors import AlreadyApplied
from vouchers.domain.household_application import HouseholdApplication

from ..stories import NOW, open_round
from .test_domain_rules import apply, person

OLD_MODULE = "vouchers.domain.application"
NEW_MODULE = "vouchers.domain.household_application"
RENAMES = {
    f"{NEW_MODULE}:HouseholdApplication": f"{OLD_MODULE}:Application",
    f"{NEW_MODULE}:HouseholdIndexEntry": f"{OLD_MODULE}:HouseholdIndexEntry",
}


def old_topic(topic: str) -> str:
    for new, old in RENAMES.items():
        if topic == new or topic.startswith(new + "."):
            return old + topic[len(new) :]
    return topic


def store_under_the_old_names(app: VouchersApplication) -> int:
    """Rewrite every stored event of the renamed classes as the old code recorded it: its
    topic, and the class topic a creation event carries. Returns how many were rewritten."""
    rewritten = 0
    with app.recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute("SELECT rowid, topic, state FROM stored_events")
        for rowid, topic, state in cursor.fetchall():
            if old_topic(topic) == topic:
                continue
            decoded = json.loads(bytes(state))
            if "originator_topic" in decoded:
                decoded["originator_topic"] = old_topic(decoded["originator_topic"])
            cursor.execute(
                "UPDATE stored_events SET topic = ?, state = ? WHERE rowid = ?",
                (old_topic(topic), json.dumps(decoded).encode(), rowid),
            )
            rewritten += 1
    app.repository.cache = None  # type: ignore[assignment]
    return rewritten


def test_applications_stored_under_the_old_class_name_still_load(app: VouchersApplication) -> None:
    _, round_id = open_round(app)
    served = apply(app, round_id, approve=True)
    rejected = apply(app, round_id)
    app.issue_vouchers(round_id, now=NOW)
    app.reject_application(rejected, cmd.RejectApplication(reason_code="late", reason="x"), "sw")

    assert store_under_the_old_names(app) >= 8  # 2 applications' events, their index entries
    with app.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT topic FROM stored_events")
        topics = {t for (t,) in cursor.fetchall()}
    assert f"{OLD_MODULE}:Application.Submitted" in topics
    assert not any(t.startswith(NEW_MODULE) for t in topics)

    got = app.get_application(served)
    assert isinstance(got, HouseholdApplication)
    assert got.status == "served" and len(got.voucher_ids) == len(app.codes_of(got))
    assert app.get_application(rejected).status == "rejected"
    # The read model, rebuilt from the old events, answers as before.
    before = views.applications_in_round(app.fresh_read_model(), round_id)
    app.rebuild_read_models()
    assert views.applications_in_round(app.fresh_read_model(), round_id) == before


def test_the_one_application_index_stored_under_the_old_name_still_refuses_a_second(
    app: VouchersApplication,
) -> None:
    _, round_id = open_round(app)
    member = person()
    apply(app, round_id, member)
    store_under_the_old_names(app)
    with pytest.raises(AlreadyApplied):
        apply(app, round_id, member, account="another-account")


def test_the_read_models_ranking_is_the_domains(app: VouchersApplication) -> None:
    _, round_id = open_round(app, budget=20_000)
    ids: list[UUID] = [
        apply(app, round_id, isee=300_000, approve=True),
        apply(
            app,
            round_id,
            isee=100_000,
            approve=True,
            other_support=True,
        ),
        apply(app, round_id, isee=100_000, approve=True),
        apply(app, round_id, isee=100_000),  # submitted: not ranked
        apply(app, round_id, isee=0, approve=True),
    ]
    app.issue_vouchers(round_id, now=NOW)  # serves one, waitlists the rest
    everyone = views.applications_in_round(app.fresh_read_model(), round_id)
    assert app.ranking(round_id) == issuing.rank(everyone)
    # The poorest was served; the others wait in ranking order, other support last.
    assert app.get_application(ids[4]).status == "served"
    assert [r.id for r in app.ranking(round_id)] == [ids[2], ids[0], ids[1]]
    assert [r.rank for r in app.ranking(round_id)] == [1, 2, 3]
