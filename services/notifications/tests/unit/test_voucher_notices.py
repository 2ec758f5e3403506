"""Households and shops hear about their vouchers: a household when its vouchers are issued
(how many, their total, until when), when it is served from the waitlist and when its
application is rejected; a shop when its reimbursement claim is approved (the promised payment
date) and paid (the amount and the payment reference). In Italian and English, exactly once
each: Kafka redelivering a message, the relay re-publishing it at a new offset, or a copy of
the same event at another position make no second notice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from benecomune_contracts import VOUCHERS_TOPIC, EventEnvelope
from benecomune_contracts.base import ContractEvent
from benecomune_contracts.chain import GENESIS_HASH
from benecomune_contracts.vouchers import (
    ApplicationRejected,
    ApplicationServed,
    ApplicationSubmitted,
    ReimbursementApproved,
    ReimbursementPaid,
)
from eventsourcing.persistence import Tracking
from fastapi.testclient import TestClient
from notifications.application.app import NotificationsApplication
from notifications.domain.templates import render
from notifications.service import DEFINITION
from notifications.settings import NotificationsSettings
from servicekit.auth import DevIssuer
from servicekit.consumer import offset_position_name, upstream_position_name
from servicekit.http import create_http_app
from servicekit.service import ServiceRuntime

TOPIC = VOUCHERS_TOPIC.name
PARTITION = 2
HOUSEHOLD = str(uuid.uuid4())
ROUND = str(uuid.uuid4())
# 2027-03-31 22:30 UTC is already 1 April in Biella (CEST): the household is told its own day.
EXPIRES_AT = datetime(2027, 3, 31, 22, 30, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> NotificationsSettings:
    return NotificationsSettings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")


@pytest.fixture
def app(settings: NotificationsSettings) -> Iterator[NotificationsApplication]:
    application = NotificationsApplication(settings)
    yield application
    application.close()


def served(*, from_waitlist: bool | None = False, **changes: Any) -> ApplicationServed:
    fields: dict[str, Any] = {
        "application_id": str(uuid.uuid4()),
        "round_id": ROUND,
        "household_id": HOUSEHOLD,
        "voucher_count": 3,
        "amount_cents": 12_500,
        "expires_at": EXPIRES_AT,
        "from_waitlist": from_waitlist,
        "served_at": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    }
    return ApplicationServed(**{**fields, **changes})


def submitted(application_id: str, applicant_id: str | None) -> ApplicationSubmitted:
    return ApplicationSubmitted(
        application_id=application_id,
        round_id=ROUND,
        household_id=HOUSEHOLD,
        members=3,
        minors=1,
        submitted_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        applicant_id=applicant_id,
    )


def rejected(application_id: str | None = None) -> ApplicationRejected:
    return ApplicationRejected(
        application_id=application_id or str(uuid.uuid4()),
        round_id=ROUND,
        household_id=HOUSEHOLD,
        reason_code="isee_above_threshold",
        rejected_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    )


def ledger_fields(sequence: int) -> dict[str, Any]:
    return {
        "stream_id": str(uuid.uuid4()),
        "sequence": sequence,
        "prev_hash": GENESIS_HASH,
        "event_hash": "c" * 64,
    }


def approved() -> ReimbursementApproved:
    return ReimbursementApproved(
        **ledger_fields(7),
        account_id=str(uuid.uuid4()),
        claim_id=str(uuid.uuid4()),
        merchant_id="m-alimentari",
        amount_cents=184_050,
        payment_due_on=date(2027, 1, 15),
        approved_at=datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
    )


def paid() -> ReimbursementPaid:
    return ReimbursementPaid(
        **ledger_fields(8),
        account_id=str(uuid.uuid4()),
        claim_id=str(uuid.uuid4()),
        merchant_id="m-alimentari",
        amount_cents=184_050,
        payment_reference="CRO 0401 2026 4471",
        paid_at=datetime(2027, 1, 14, 10, 0, tzinfo=UTC),
    )


def envelope_of(event: ContractEvent, notification_id: int, ce_id: str | None = None) -> Any:
    subject = str(getattr(event, "stream_id", None) or event.application_id)  # type: ignore[attr-defined]
    return EventEnvelope(
        id=ce_id or str(uuid.uuid4()),
        source="/benecomune/biella/vouchers",
        type=event.type_name,
        time=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        subject=subject,
        notification_id=notification_id,
        sequence=getattr(event, "sequence", 1),
    )


def deliver(
    app: NotificationsApplication, event: ContractEvent, envelope: EventEnvelope, offset: int
) -> bool:
    """As the kit's consumer does: the upstream notification id first, then the offset."""
    return app.process_message(
        event,
        [
            Tracking(upstream_position_name(TOPIC, PARTITION), envelope.notification_id),
            Tracking(offset_position_name(TOPIC, PARTITION), offset + 1),
        ],
        envelope,
    )


def texts(app: NotificationsApplication, recipient: str, language: str) -> list[str]:
    return [render(n.template, n.params, language) for n in app.notices_for(recipient)]


def test_the_notifications_service_consumes_the_vouchers_topic() -> None:
    assert TOPIC in DEFINITION.consumes


def test_a_household_is_told_once_how_many_vouchers_it_got_their_total_and_their_expiry(
    app: NotificationsApplication,
) -> None:
    event = served()
    envelope = envelope_of(event, notification_id=40)
    assert deliver(app, event, envelope, offset=100)
    assert not deliver(app, event, envelope, offset=100)  # Kafka redelivered it
    assert not deliver(app, event, envelope, offset=230)  # the relay re-published it
    # The same upstream event (same ce_id) at a later position: still no second notice.
    assert deliver(app, event, envelope.model_copy(update={"notification_id": 41}), offset=231)

    [notice] = app.notices_for(f"household:{HOUSEHOLD}")
    assert notice.template == "vouchers_issued"
    assert notice.source_event_id == envelope.id
    assert texts(app, f"household:{HOUSEHOLD}", "it") == [
        "I tuoi buoni spesa sono pronti: 3 buoni per un totale di 125,00 €, da spendere nei "
        "negozi aderenti entro il 01/04/2027 alle 00:30."
    ]
    assert texts(app, f"household:{HOUSEHOLD}", "en") == [
        "Your food vouchers are ready: 3 vouchers worth €125.00 in total, to spend at the "
        "participating shops by 1 April 2027 at 00:30."
    ]


def test_a_household_served_from_the_waitlist_is_told_so_with_its_figures(
    app: NotificationsApplication,
) -> None:
    event = served(from_waitlist=True, voucher_count=1, amount_cents=5_000)
    assert deliver(app, event, envelope_of(event, 9), offset=9)
    assert texts(app, f"household:{HOUSEHOLD}", "en") == [
        "Money came back to the round and your waitlisted application has been served: 1 food "
        "vouchers worth €50.00 in total, to spend at the participating shops by 1 April 2027 "
        "at 00:30."
    ]
    assert texts(app, f"household:{HOUSEHOLD}", "it")[0].startswith(
        "Si sono liberati dei fondi e la tua domanda in lista d'attesa è stata accolta: 1 buoni "
        "spesa per un totale di 50,00 €"
    )


def test_a_household_served_before_the_figures_were_published_still_hears_of_it(
    app: NotificationsApplication,
) -> None:
    event = served(amount_cents=None, expires_at=None, from_waitlist=None)
    assert deliver(app, event, envelope_of(event, 3), offset=3)
    [notice] = app.notices_for(f"household:{HOUSEHOLD}")
    assert notice.template == "vouchers_issued_briefly"
    assert render(notice.template, notice.params, "it").startswith(
        "Ti sono stati assegnati 3 buoni spesa"
    )


def test_a_rejected_household_is_told_once_with_the_reason_code_only(
    app: NotificationsApplication,
) -> None:
    event = rejected()
    envelope = envelope_of(event, 12)
    assert deliver(app, event, envelope, offset=12)
    assert not deliver(app, event, envelope, offset=77)
    assert texts(app, f"household:{HOUSEHOLD}", "it") == [
        "La tua domanda di buoni spesa non è stata accolta (motivo: isee_above_threshold). Per "
        "conoscere le ragioni o chiedere un riesame, rivolgiti ai servizi sociali del comune."
    ]
    assert texts(app, f"household:{HOUSEHOLD}", "en")[0].startswith(
        "Your application for food vouchers was not accepted (reason: isee_above_threshold)."
    )


def test_a_shop_is_told_once_when_its_claim_is_approved_and_once_when_it_is_paid(
    app: NotificationsApplication,
) -> None:
    approval, payment = approved(), paid()
    approval_envelope = envelope_of(approval, 20)
    assert deliver(app, approval, approval_envelope, offset=20)
    assert not deliver(app, approval, approval_envelope, offset=20)
    payment_envelope = envelope_of(payment, 21)
    assert deliver(app, payment, payment_envelope, offset=21)
    assert not deliver(app, payment, payment_envelope, offset=95)

    assert texts(app, "merchant:m-alimentari", "it") == [  # newest first
        "Il rimborso di 1.840,50 € per i buoni spesa è stato pagato (riferimento del "
        "pagamento: CRO 0401 2026 4471).",
        "La tua richiesta di rimborso di 1.840,50 € per i buoni spesa è stata approvata: il "
        "pagamento è previsto entro il 15/01/2027.",
    ]
    assert texts(app, "merchant:m-alimentari", "en") == [
        "Your reimbursement of €1,840.50 for food vouchers was paid (payment reference: "
        "CRO 0401 2026 4471).",
        "Your reimbursement claim of €1,840.50 for food vouchers was approved: payment is due "
        "by 15 January 2027.",
    ]
    assert app.notices_for(f"household:{HOUSEHOLD}") == []


def test_households_and_shops_read_their_notices_in_their_inbox_over_http(
    settings: NotificationsSettings,
) -> None:
    runtime = ServiceRuntime(DEFINITION, settings)
    issuer = DevIssuer(settings.territory, settings.keys_dir)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        app = runtime.application
        assert isinstance(app, NotificationsApplication)
        application_id = str(uuid.uuid4())
        events = [
            submitted(application_id, "b-bianchi"),
            served(application_id=application_id),
            approved(),
            served(),  # an application submitted before applicants were published
        ]
        for n, event in enumerate(events, start=1):
            deliver(app, event, envelope_of(event, n), offset=n)

        def inbox(recipient: str, role: str, subject: str | None, lang: str = "en") -> Any:
            token = issuer.mint(role, subject)
            return client.get(
                f"/inbox/{recipient}",
                params={"lang": lang},
                headers={"Authorization": f"Bearer {token}"},
            )

        own = inbox("beneficiary:b-bianchi", "beneficiary", "b-bianchi")
        assert own.status_code == 200
        assert [n["template"] for n in own.json()] == ["vouchers_issued"]
        assert "3 vouchers worth €125.00" in own.json()[0]["text"]
        # Another beneficiary reads neither that inbox nor a household's.
        assert inbox("beneficiary:b-bianchi", "beneficiary", "b-rossi").status_code == 403
        assert inbox(f"household:{HOUSEHOLD}", "beneficiary", "b-rossi").status_code == 403
        # Of an application whose applicant is unknown, only the operator reads the notice.
        orphan = inbox(f"household:{HOUSEHOLD}", "operator", None)
        assert [n["template"] for n in orphan.json()] == ["vouchers_issued"]

        shop = inbox("merchant:m-alimentari", "merchant", "m-alimentari", lang="it")
        assert shop.status_code == 200
        assert [n["template"] for n in shop.json()] == ["claim_approved"]
        assert "entro il 15/01/2027" in shop.json()[0]["text"]

        other_shop = inbox("merchant:m-alimentari", "merchant", "m-panificio")
        assert other_shop.status_code == 403
        assert other_shop.json()["code"] == "forbidden"
        assert inbox(f"household:{HOUSEHOLD}", "merchant", "m-alimentari").status_code == 403


def test_a_rejection_goes_to_the_applicant_once_even_if_the_submission_comes_twice(
    app: NotificationsApplication,
) -> None:
    application_id = str(uuid.uuid4())
    first = submitted(application_id, "b-verdi")
    deliver(app, first, envelope_of(first, 1), offset=1)
    deliver(app, first, envelope_of(first, 2), offset=2)  # a copy at another position
    refusal = rejected(application_id)
    deliver(app, refusal, envelope_of(refusal, 3), offset=3)
    assert [n.template for n in app.notices_for("beneficiary:b-verdi")] == ["application_rejected"]
    assert app.notices_for(f"household:{HOUSEHOLD}") == []
