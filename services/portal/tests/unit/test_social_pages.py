"""The social worker's pages in-process, the vouchers API faked: the applications queue of a
round filtered by status, an application's review (approve; reject with a reason code and a
note), and issuing the round's vouchers with the result shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from portal.app import create_app

from ..conftest import CSRF, faked_portal, portal_settings, sign_in

OLD_ROUND = "11111111-1111-4111-8111-111111111111"
ROUND = "5523e7cf-3922-4f45-aba8-51416e61e5d6"
APPLICATION = "8dcaf320-c2e4-4ef4-862b-fedf85e54665"


def a_round(round_id: str, title: str) -> dict[str, Any]:
    return {
        "round_id": round_id,
        "kind": "food",
        "title": title,
        "budget_cents": 150000,
        "issued_cents": 145000,
        "available_cents": 5000,
        "households_served": 5,
        "rules": {"isee_threshold_cents": 936000},
    }


def an_application(status: str = "submitted", **changes: Any) -> dict[str, Any]:
    return {
        "application_id": APPLICATION,
        "round_id": ROUND,
        "applicant": "b-biella-012",
        "status": status,
        "submitted_at": "2026-12-07T19:34:51Z",
        "members": 3,
        "minors": 1,
        "isee_cents": 420000,
        "other_public_support": False,
        "entitlement_cents": 0,
        "voucher_values_cents": [],
        "priority": 0,
        "waitlist_rank": None,
        "rejection_reason": None,
        "voucher_ids": [],
        "personal_data": {
            "members": [
                {
                    "fiscal_code": "RSSMRA80A01A859X",
                    "first_name": "Mario",
                    "last_name": "Rossi",
                    "minor": False,
                },
                {
                    "fiscal_code": "RSSGLI15H43A859E",
                    "first_name": "Giulia",
                    "last_name": "Rossi",
                    "minor": True,
                },
            ],
            "address": "Via Italia 1, 13900 Biella",
        },
        "personal_data_erased": False,
        **changes,
    }


class FakeVouchers:
    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.refusal: tuple[int, dict[str, Any]] | None = None

    def posts(self) -> list[httpx.Request]:
        return [r for r in self.seen if r.method == "POST"]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path
        if request.method == "POST" and self.refusal is not None:
            status, body = self.refusal
            return httpx.Response(status, json={"status": status, "title": "refused", **body})
        if path == "/rounds":
            return httpx.Response(
                200, json=[a_round(OLD_ROUND, "Old round"), a_round(ROUND, "Buoni spesa Biella")]
            )
        if path.startswith("/rounds/") and path.endswith("/applications"):
            status = request.url.params.get("status")
            found = [
                an_application(),
                an_application("served", entitlement_cents=35000, application_id="a2"),
            ]
            return httpx.Response(200, json=[a for a in found if status in (None, a["status"])])
        if path == f"/rounds/{ROUND}":
            return httpx.Response(200, json=a_round(ROUND, "Buoni spesa Biella"))
        if path == f"/rounds/{ROUND}/issue":
            return httpx.Response(200, json={"served": 1, "waitlisted": 3})
        if path == f"/applications/{APPLICATION}":
            return httpx.Response(200, json=an_application())
        if path.startswith(f"/applications/{APPLICATION}/"):
            return httpx.Response(200, json=an_application("approved"))
        return httpx.Response(404, json={"code": "not_found", "status": 404})


@pytest.fixture
def fake() -> FakeVouchers:
    return FakeVouchers()


@pytest.fixture
def worker(tmp_path: Path, fake: FakeVouchers) -> Iterator[TestClient]:
    with faked_portal(tmp_path, fake) as client:
        sign_in(client, tmp_path, "social_worker", lang="en")
        yield client


def test_the_queue_shows_the_newest_round_and_filters_by_status(
    worker: TestClient, fake: FakeVouchers
) -> None:
    page = worker.get("/social/applications")
    assert page.status_code == 200
    assert f"/rounds/{ROUND}/applications" in str(fake.seen[-1].url)
    assert "Mario Rossi" in page.text and "To review" in page.text
    assert "Vouchers issued" in page.text and "2 applications" in page.text
    assert f'href="/social/applications/{APPLICATION}"' in page.text
    filtered = worker.get(f"/social/applications?round={ROUND}&status=submitted")
    assert fake.seen[-1].url.params["status"] == "submitted"
    assert "1 application<" in filtered.text
    worker.get(f"/social/applications?round={ROUND}&status=nonsense")
    assert "status" not in fake.seen[-1].url.params


def test_the_review_shows_the_household(worker: TestClient) -> None:
    page = worker.get(f"/social/applications/{APPLICATION}")
    assert page.status_code == 200
    for seen in (
        "Application of Mario Rossi",
        "RSSGLI15H43A859E",
        "Via Italia 1",
        "€4,200.00",
        "threshold €9,360.00",
        "Approve the application",
        "Reject the application",
        "isee_above_threshold",
    ):
        assert seen in page.text, seen


def test_approving_posts_and_comes_back_with_a_notice(
    worker: TestClient, fake: FakeVouchers
) -> None:
    done = worker.post(
        f"/social/applications/{APPLICATION}/approve",
        data={"csrf_token": CSRF},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert fake.posts()[0].url.path == f"/applications/{APPLICATION}/approve"
    assert "was approved" in worker.get(done.headers["location"]).text


def test_rejecting_sends_the_reason_code_and_the_note(
    worker: TestClient, fake: FakeVouchers
) -> None:
    form = {
        "csrf_token": CSRF,
        "reason_code": "incomplete_documents",
        "note": " No identity document ",
    }
    done = worker.post(
        f"/social/applications/{APPLICATION}/reject", data=form, follow_redirects=False
    )
    assert done.status_code == 303
    assert json.loads(fake.posts()[0].content) == {
        "reason_code": "incomplete_documents",
        "reason": "No identity document",
    }
    assert "was rejected" in worker.get(done.headers["location"]).text


def test_a_rejection_without_reason_or_note_calls_nothing(
    worker: TestClient, fake: FakeVouchers
) -> None:
    for form in (
        {"reason_code": "", "note": "x"},
        {"reason_code": "other", "note": "  "},
        {"reason_code": "made_up", "note": "x"},
    ):
        refused = worker.post(
            f"/social/applications/{APPLICATION}/reject", data={"csrf_token": CSRF, **form}
        )
        assert refused.status_code == 422 and "Choose a reason and write a note" in refused.text
    assert fake.posts() == []


def test_a_refused_approval_is_explained(worker: TestClient, fake: FakeVouchers) -> None:
    fake.refusal = (422, {"code": "not_eligible", "detail": "ISEE above"})
    refused = worker.post(f"/social/applications/{APPLICATION}/approve", data={"csrf_token": CSRF})
    assert refused.status_code == 422 and "not eligible" in refused.text


def test_issuing_shows_the_result(worker: TestClient, fake: FakeVouchers) -> None:
    done = worker.post(
        f"/social/rounds/{ROUND}/issue", data={"csrf_token": CSRF}, follow_redirects=False
    )
    assert done.status_code == 303
    assert fake.posts()[0].url.path == f"/rounds/{ROUND}/issue"
    page = worker.get(done.headers["location"])
    assert "Households served now: 1. On the waiting list: 3." in page.text


def test_issuing_refused_for_the_role_is_told(worker: TestClient, fake: FakeVouchers) -> None:
    fake.refusal = (403, {"code": "forbidden", "detail": "operator only"})
    refused = worker.post(f"/social/rounds/{ROUND}/issue", data={"csrf_token": CSRF})
    assert refused.status_code == 422
    assert "Only the territory's operator may issue" in refused.text


def test_an_unknown_application_is_not_found(worker: TestClient) -> None:
    assert worker.get("/social/applications/nope").status_code == 404


def test_other_roles_get_403_and_visitors_the_login(tmp_path: Path, fake: FakeVouchers) -> None:
    with faked_portal(tmp_path, fake) as shop:
        sign_in(shop, tmp_path, "merchant", "m-biella-001", lang="en")
        assert shop.get("/social/applications").status_code == 403
        assert (
            shop.post(
                f"/social/applications/{APPLICATION}/approve", data={"csrf_token": CSRF}
            ).status_code
            == 403
        )
        assert (
            shop.post(f"/social/rounds/{ROUND}/issue", data={"csrf_token": CSRF}).status_code == 403
        )
    with TestClient(create_app(portal_settings(tmp_path)), base_url="http://127.0.0.1") as nobody:
        answer = nobody.get("/social/applications", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert fake.posts() == []


def test_a_post_without_the_csrf_token_is_refused(worker: TestClient, fake: FakeVouchers) -> None:
    refused = worker.post(f"/social/applications/{APPLICATION}/approve", data={})
    assert refused.status_code == 403 and fake.posts() == []
