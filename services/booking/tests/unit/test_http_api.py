"""The booking HTTP API as a beneficiary, a provider and an operator drive it, with their
mistakes: a split that does not add up, a cancel twice, someone else's booking."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from benecomune_contracts import booking as contract
from benecomune_contracts import wallet
from booking.adapters.contract_mapping import to_contract
from booking.application.app import BookingApplication
from booking.service import DEFINITION
from booking.settings import BookingSettings
from eventsourcing.persistence import Tracking
from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.service import ServiceRuntime

from ..answers import funds_held, slot_held

CHAIN: dict[str, Any] = {"sequence": 2, "prev_hash": "0" * 64, "event_hash": "0" * 64}


@dataclass
class Api:
    client: TestClient
    issuer: DevIssuer
    app: BookingApplication
    position: int = 0

    def call(self, method: str, path: str, role: str, subject: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.issuer.mint(role, subject)}"}
        return self.client.request(method, path, headers=headers, **kw)

    def feed(self, message: Any) -> None:
        self.position += 1
        self.app.process_message(message, [Tracking("answers#0", self.position)])

    def published(self, kind: type[Any]) -> list[Any]:
        events = []
        for n in self.app.recorder.select_notifications(start=1, limit=10_000):
            event = to_contract(self.app.mapper.to_domain_event(n))
            if isinstance(event, kind):
                events.append(event)
        return events

    def hold_everything(self) -> None:
        for ask in self.published(contract.SlotHoldRequested):
            self.feed(slot_held(ask))
        for a in self.published(contract.FundsHoldRequested):
            self.feed(funds_held(a))


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = BookingSettings(
        data_dir=tmp_path / "data", keys_dir=tmp_path / "keys", request_facts_fallback=True
    )
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        application = runtime.application
        assert isinstance(application, BookingApplication)
        yield Api(client, DevIssuer(settings.territory, settings.keys_dir), application)


def component(n: int, provider: str, *, days: float = 5, instant: bool = False) -> dict[str, Any]:
    starts = datetime.now(UTC) + timedelta(days=days)
    return {
        "offering_id": f"o-{n}",
        "provider_id": provider,
        "slot_id": f"s-{n}",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "price_cents": 10_000,
        "category": "elderly_care",
        "instant": instant,
        "acceptance_hours": 0 if instant else 24,
    }


def body(**changes: Any) -> dict[str, Any]:
    return {
        "request_id": "r-1",
        "components": [component(1, "p-1"), component(2, "p-2")],
        "funding": {
            "vouchers": [{"voucher_id": "v-1", "available_cents": 5_000}],
            "wallet": {"wallet_id": "w-1", "available_cents": 12_000},
        },
        **changes,
    }


def test_a_beneficiary_books_a_package_and_follows_it_to_confirmed(api: Api) -> None:
    payload = body()
    r = api.call("POST", "/bookings", "beneficiary", "b-1", json=payload)
    assert r.status_code == 202, r.text
    booking_id = r.json()["booking_id"]
    assert r.headers["Location"] == f"/bookings/{booking_id}"
    again = api.call("POST", "/bookings", "beneficiary", "b-1", json=payload)
    assert again.status_code == 202 and again.json()["booking_id"] == booking_id

    view = api.call("GET", f"/bookings/{booking_id}", "beneficiary", "b-1").json()
    assert view["status"] == "requested"
    assert view["split"] == {"voucher:v-1": 5_000, "wallet:w-1": 12_000, "co_payment": 3_000}
    assert view["timeline"][0]["step"] == "requested"

    api.hold_everything()
    pending = api.call("GET", "/providers/p-1/bookings?queue=pending", "provider", "p-1").json()
    assert [b["booking_id"] for b in pending] == [booking_id]
    for index, provider in ((1, "p-1"), (2, "p-2")):
        r = api.call(
            "POST", f"/bookings/{booking_id}/components/{index}/accept", "provider", provider
        )
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed"
    mine = api.call("GET", "/bookings/mine", "beneficiary", "b-1").json()
    assert [(b["booking_id"], b["status"]) for b in mine] == [(booking_id, "confirmed")]
    to_deliver = api.call("GET", "/providers/p-2/bookings?queue=to_deliver", "provider", "p-2")
    assert len(to_deliver.json()) == 1


def test_a_split_that_does_not_add_up_is_refused_with_both_figures(api: Api) -> None:
    split = [{"source": "wallet", "account_id": "w-1", "amount_cents": 15_000}]
    r = api.call("POST", "/bookings", "beneficiary", "b-1", json=body(funding={"split": split}))
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_split"
    assert r.json()["split_total_cents"] == 15_000 and r.json()["price_cents"] == 20_000


def test_the_same_request_id_for_another_booking_is_a_conflict(api: Api) -> None:
    assert api.call("POST", "/bookings", "beneficiary", "b-1", json=body()).status_code == 202
    other = body(components=[component(3, "p-1")])
    r = api.call("POST", "/bookings", "beneficiary", "b-1", json=other)
    assert r.status_code == 409 and r.json()["code"] == "request_id_reused"


def test_nobody_else_sees_or_touches_someone_elses_booking(api: Api) -> None:
    booking_id = api.call("POST", "/bookings", "beneficiary", "b-1", json=body()).json()[
        "booking_id"
    ]
    assert api.call("GET", f"/bookings/{booking_id}", "beneficiary", "b-2").status_code == 403
    assert api.call("GET", f"/bookings/{booking_id}", "provider", "p-9").status_code == 403
    assert api.call("GET", f"/bookings/{booking_id}", "provider", "p-2").status_code == 200
    assert api.call("GET", f"/bookings/{booking_id}", "operator").status_code == 200
    r = api.call(
        "POST", f"/bookings/{booking_id}/cancel", "beneficiary", "b-2", json={"request_id": "x"}
    )
    assert r.status_code == 403
    api.hold_everything()
    r = api.call("POST", f"/bookings/{booking_id}/components/1/accept", "provider", "p-2")
    assert r.status_code == 403
    assert (
        api.call("GET", "/providers/p-1/bookings?queue=pending", "provider", "p-2").status_code
        == 403
    )
    assert (
        api.call(
            "POST", "/bookings", "beneficiary", "b-2", json=body(beneficiary_id="b-1")
        ).status_code
        == 403
    )


def test_a_delegate_named_in_the_wallet_books_for_the_beneficiary(api: Api) -> None:
    api.feed(wallet.DelegateNamed(
        stream_id="f", **CHAIN, transfers=[], employee_id="b-1", delegate_id="d-1",
        named_at=datetime.now(UTC),
    ))  # fmt: skip
    r = api.call("POST", "/bookings", "beneficiary", "d-1", json=body(beneficiary_id="b-1"))
    assert r.status_code == 202, r.text
    booking_id = r.json()["booking_id"]
    view = api.call("GET", f"/bookings/{booking_id}", "beneficiary", "b-1").json()
    assert view["requested_by"] == "delegate" and view["beneficiary_id"] == "b-1"


def test_a_social_worker_books_with_the_consent_reference(api: Api) -> None:
    r = api.call("POST", "/bookings", "social_worker", json=body(beneficiary_id="b-1"))
    assert r.status_code == 422 and r.json()["code"] == "consent_missing"
    ok = body(beneficiary_id="b-1", consent_reference="Prot. 123/2027")
    assert api.call("POST", "/bookings", "social_worker", json=ok).status_code == 202
    assert len(api.call("GET", "/bookings/mine", "social_worker").json()) == 1


def test_a_cancel_shows_its_fee_first_and_a_second_cancel_is_refused(api: Api) -> None:
    late = {"components": [component(1, "p-1", days=1, instant=True)]}
    booking_id = api.call("POST", "/bookings", "beneficiary", "b-1", json=body(**late)).json()[
        "booking_id"
    ]
    api.hold_everything()
    preview = api.call("GET", f"/bookings/{booking_id}/cancellation", "beneficiary", "b-1").json()
    assert preview["fee_cents"] == 5_000  # within 48 hours: 50 %
    assert preview["components"][0]["by_source"] == {"voucher:v-1": 2_500, "wallet:w-1": 2_500}
    wrong = {"request_id": "c-1", "accept_fee_cents": 0}
    r = api.call("POST", f"/bookings/{booking_id}/cancel", "beneficiary", "b-1", json=wrong)
    assert r.status_code == 409 and r.json()["code"] == "fee_changed"
    right = {"request_id": "c-1", "accept_fee_cents": 5_000}
    r = api.call("POST", f"/bookings/{booking_id}/cancel", "beneficiary", "b-1", json=right)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    retry = api.call("POST", f"/bookings/{booking_id}/cancel", "beneficiary", "b-1", json=right)
    assert retry.status_code == 200
    twice = api.call(
        "POST", f"/bookings/{booking_id}/cancel", "beneficiary", "b-1", json={"request_id": "c-2"}
    )
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_transition"


def test_a_provider_declines_and_the_family_is_told_why(api: Api) -> None:
    booking_id = api.call("POST", "/bookings", "beneficiary", "b-1", json=body()).json()[
        "booking_id"
    ]
    api.hold_everything()
    r = api.call(
        "POST", f"/bookings/{booking_id}/components/2/decline", "provider", "p-2",
        json={"note": "nessun operatore disponibile"},
    )  # fmt: skip
    assert r.status_code == 200
    view = r.json()
    assert view["status"] == "compensating"
    assert view["reason"]["code"] == "provider_declined"
    assert view["reason"]["it"].startswith("Il fornitore") and view["reason"]["en"]


def test_a_dispute_goes_to_the_operator_who_decides(api: Api) -> None:
    booking_id = api.call("POST", "/bookings", "beneficiary", "b-1", json=body()).json()[
        "booking_id"
    ]
    api.hold_everything()
    for index, provider in ((1, "p-1"), (2, "p-2")):
        api.call("POST", f"/bookings/{booking_id}/components/{index}/accept", "provider", provider)
    # The slot has not started: the provider cannot mark it delivered yet.
    r = api.call(
        "POST", f"/bookings/{booking_id}/components/1/delivered", "provider", "p-1", json={}
    )
    assert r.status_code == 409
    booking = api.app.get_booking(UUID(booking_id))
    started = booking.component(1).slot.starts_at + timedelta(minutes=1)
    booking.deliver(1, "p-1", "fatto", started)
    api.app.save(booking)
    r = api.call(
        "POST", f"/bookings/{booking_id}/components/1/dispute", "beneficiary", "b-1",
        json={"reason": "l'operatore non è venuto"},
    )  # fmt: skip
    assert r.status_code == 200
    disputed = api.call("GET", "/operator/bookings?view=disputed", "operator").json()
    assert [b["booking_id"] for b in disputed] == [booking_id]
    # The family's reason travels with the disputed component, to the operator who decides,
    # to the family, and to the provider of that component (not to the other provider).
    for role, subject in (("operator", None), ("beneficiary", "b-1"), ("provider", "p-1")):
        seen = api.call("GET", f"/bookings/{booking_id}", role, subject).json()
        first = next(c for c in seen["components"] if c["index"] == 1)
        assert first["dispute"]["reason"] == "l'operatore non è venuto", role
        opened = datetime.fromisoformat(first["dispute"]["opened_at"])
        assert abs(datetime.now(UTC) - opened) < timedelta(minutes=1)
        assert any(
            line["step"] == "disputed" and line["detail"] == "l'operatore non è venuto"
            for line in seen["timeline"]
        )
    other = api.call("GET", f"/bookings/{booking_id}", "provider", "p-2").json()
    assert [c["index"] for c in other["components"]] == [2]
    assert other["components"][0]["dispute"] is None
    assert "l'operatore non è venuto" not in str(other)
    decision = {"decision": "partial_capture", "amount_cents": 5_000}
    r = api.call(
        "POST",
        f"/bookings/{booking_id}/components/1/resolution",
        "beneficiary",
        "b-1",
        json=decision,
    )
    assert r.status_code == 403
    r = api.call(
        "POST", f"/bookings/{booking_id}/components/1/resolution", "operator", json=decision
    )
    assert r.status_code == 200, r.text
    assert r.json()["components"][0]["settlement"] == {
        "voucher:v-1": 1_250,
        "wallet:w-1": 3_000,
        "co_payment": 750,
    }
