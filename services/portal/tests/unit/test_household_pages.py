"""The beneficiary's own pages in-process, the services faked: the wallet (credit per category,
history with its running figures, the fringe cap meter with its warning and its over-the-cap
message), the vouchers with their code and QR code and expiry in local time, the inbox in the
page's language, and the application's stepper (mistakes shown by field with nothing sent, the
draft kept across a logout and only for its own account, the summary before sending, a double
submit); who may see them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from portal.routes.household import FringeMeter
from portal.routes.household_apply import DRAFT_COOKIE, Draft
from portal.security import SESSION_COOKIE

from ..conftest import CSRF, RecordingServices, sign_in, text_of

LUCIA = "b-biella-001"
WALLET = "5ce79c3f-3a35-5bdb-849e-2cedc7000137"
ROUND = "5523e7cf-3922-4f45-aba8-51416e61e5d6"
APPLICATION = "8dcaf320-c2e4-4ef4-862b-fedf85e54665"
CODE = "4BMQ-GSAZ-3ABC-HGRK-E"
STEP = "/me/applications/apply"


def wallet_of(employee: str = LUCIA) -> dict[str, Any]:
    return {
        "wallet_id": WALLET if employee == LUCIA else "0e0e0e0e-0000-4000-8000-000000000002",
        "plan_id": "a53523d1-26e0-406e-b372-3af0f4a69290",
        "employee_id": employee,
        "year": 2026,
        "expires_on": "2026-12-31",
        "balance_by_category": {"general": 23000},
        "available_by_category": {"elderly_care": 4200, "fringe_purchase": 4200},
        "held_cents": 18800,
        "total_cents": 23000,
        "bonus_converted_cents": 0,
        "holds": [],
        "closed": False,
    }


HISTORY = [
    {
        "sequence": 2,
        "type": "CreditGranted",
        "at": "2026-12-07T09:00:00Z",
        "amount_cents": 80000,
        "balance_cents": 80000,
        "held_cents": 0,
        "available_cents": 80000,
        "hold_id": None,
        "category": "general",
    },
    {
        "sequence": 3,
        "type": "HoldCaptured",
        "at": "2026-12-07T10:00:00Z",
        "amount_cents": -32000,
        "balance_cents": 48000,
        "held_cents": 0,
        "available_cents": 48000,
        "hold_id": "h1",
        "category": "education_childcare",
    },
]


class FakeServices(RecordingServices):
    """The services as the pages of this module use them."""

    def __init__(self) -> None:
        super().__init__()
        self.fringe_cents = 25000
        self.delegated: list[dict[str, Any]] = []
        self.applications: list[dict[str, Any]] = []
        self.notices = [
            {
                "notice_id": "n1",
                "template": "vouchers_issued",
                "text": "I tuoi buoni spesa sono pronti",
                "recorded_at": "2026-12-07T19:34:51Z",
                "source_event_id": "e1",
                "correlation_id": None,
            },
            {
                "notice_id": "n2",
                "template": "application_received",
                "text": "Domanda ricevuta",
                "recorded_at": "2026-12-06T08:00:00Z",
                "source_event_id": "e2",
                "correlation_id": None,
            },
        ]

    def round(self) -> dict[str, Any]:
        return {
            "round_id": ROUND,
            "title": "Buoni spesa alimentari — Città di Biella",
            "closes_at": "2026-12-30T19:34:51Z",
            "accepting_applications": True,
            "rules": {"isee_threshold_cents": 936000, "cap_cents": 50000},
        }

    def application(self, status: str = "submitted") -> dict[str, Any]:
        return {
            "application_id": APPLICATION,
            "round_id": ROUND,
            "status": status,
            "submitted_at": "2026-12-07T19:34:51Z",
            "members": 3,
            "minors": 2,
            "isee_cents": 845000,
            "entitlement_cents": 0,
            "waitlist_rank": None,
            "rejection_reason": None,
        }

    def answer(self, service: str, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        key = (service, request.method, path)
        if key == ("wallet", "GET", "/me/wallets"):
            return httpx.Response(200, json=[wallet_of()])
        if key == ("wallet", "GET", "/me/delegated-wallets"):
            return httpx.Response(200, json=self.delegated)
        if service == "wallet" and path.endswith("/history"):
            return httpx.Response(200, json=HISTORY)
        if key == ("wallet", "GET", "/me/fringe/2026"):
            fringe = {"employee_id": LUCIA, "year": 2026, "cap_cents": 200000}
            taxable = self.fringe_cents > 200000
            return httpx.Response(
                200,
                json={
                    **fringe,
                    "fringe_cents": self.fringe_cents,
                    "taxable": taxable,
                    "taxable_cents": self.fringe_cents if taxable else 0,
                },
            )
        if key == ("vouchers", "GET", "/vouchers/mine"):
            voucher = {
                "voucher_id": "v1",
                "code": CODE,
                "round_id": ROUND,
                "value_cents": 5000,
                "remaining_cents": 370,
                "held_cents": 0,
                "status": "active",
                "expires_at": "2027-03-07T19:34:51Z",
                "spendable": True,
                "holder": LUCIA,
                "delegate_id": None,
                "held_as": "holder",
            }
            return httpx.Response(200, json=[voucher])
        if key == ("vouchers", "GET", f"/vouchers/{CODE}"):
            history = [
                {"at": "2026-12-07T19:34:51Z", "kind": "issued", "amount_cents": 5000}
                | {"balance_cents": 5000},
                {"at": "2026-12-08T16:05:00Z", "kind": "redeemed", "amount_cents": 4630}
                | {"balance_cents": 370, "merchant_id": "m-biella-001"},
            ]
            return httpx.Response(200, json={"voucher_id": "v1", "code": CODE, "history": history})
        if key == ("vouchers", "GET", "/rounds"):
            return httpx.Response(200, json=[self.round()])
        if key == ("vouchers", "GET", f"/rounds/{ROUND}"):
            return httpx.Response(200, json=self.round())
        if key == ("vouchers", "GET", "/applications/mine"):
            return httpx.Response(200, json=self.applications)
        if key == ("vouchers", "POST", "/applications"):
            if self.applications:
                problem = {"code": "already_applied", "title": "Already applied", "status": 409}
                return httpx.Response(409, json=problem)
            self.applications.append(self.application())
            return httpx.Response(201, json={"application_id": APPLICATION, "status": "submitted"})
        if service == "notifications" and path.startswith("/inbox/"):
            return httpx.Response(200, json=self.notices)
        return super().answer(service, request)


@pytest.fixture
def fake() -> FakeServices:
    return FakeServices()


PAGES = ("/me/wallet", "/me/vouchers", "/me/applications", "/me/inbox", f"{STEP}/household")


def test_no_session_goes_to_the_login_and_another_role_is_refused(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    for path in PAGES:
        gone = portal.get(path, follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login?next="), path
    sign_in(portal, tmp_path, "merchant", "m-biella-001")
    for path in PAGES:
        assert portal.get(path).status_code == 403, path
    form = {"csrf_token": CSRF, "round_id": ROUND}
    assert portal.post("/me/applications/start", data=form).status_code == 403
    assert fake.sent == []


def test_the_wallet_shows_credit_by_category_and_the_history_with_running_figures(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    token = sign_in(portal, tmp_path, "beneficiary", LUCIA)
    page = portal.get("/me/wallet")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Credito generico (qualsiasi categoria) 230,00 €" in text
    assert "Assistenza ad anziani e persone non autosufficienti 42,00 €" in text
    # newest first, each line with what followed it
    assert text.index("Pagato all'ente erogatore") < text.index("Credito dal datore di lavoro")
    assert "-320,00 € 480,00 € 0,00 € 480,00 €" in text
    assert "+800,00 € 800,00 €" in text
    assert "7 dicembre 2026, 11:00" in text  # 10:00 UTC in Rome
    assert "fino al 31 dicembre 2026" in text
    calls = {(s, p) for s, m, p, _b, _r in fake.sent}
    assert ("wallet", f"/wallets/{WALLET}/history") in calls
    assert all(r.headers["Authorization"] == f"Bearer {token}" for *_x, r in fake.sent)


def test_the_fringe_meter_warns_before_the_cap_and_says_when_it_is_over(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "beneficiary", LUCIA)
    text = text_of(portal.get("/me/wallet").text)
    assert "250,00 € usati su 2.000,00 € (12%)" in text
    assert "1.750,00 € ancora prima del tetto" in text
    assert "Attenzione" not in text
    fake.fringe_cents = 170000  # 85%: warned before the cap
    page = portal.get("/me/wallet")
    text = text_of(page.text)
    assert "1.700,00 € usati su 2.000,00 € (85%)" in text
    assert "Attenzione: sei vicino al tetto" in text and "300,00 €" in text
    assert 'width="255"' in page.text  # 85% of the meter's 300
    fake.fringe_cents = 210000
    page = portal.get("/me/wallet")
    text = text_of(page.text)
    assert "Oltre il tetto" in text and "2.100,00 €" in text
    assert 'width="300"' in page.text  # the bar stops at the meter's end
    assert 'role="img"' in page.text and "105% del tetto usato" in page.text


def test_the_meter_levels() -> None:
    assert FringeMeter(2026, 159_999, 200_000, 0).level == "ok"
    assert FringeMeter(2026, 160_000, 200_000, 0).level == "warning"
    assert FringeMeter(2026, 200_000, 200_000, 0).level == "warning"  # at the cap: tax-free
    assert FringeMeter(2026, 200_001, 200_000, 200_001).level == "over"


def test_a_delegate_sees_the_wallet_they_spend_for(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "beneficiary", LUCIA)
    fake.delegated = [wallet_of("b-biella-015")]
    text = text_of(portal.get("/me/wallet").text)
    assert "Borsellino di b-biella-015 2026 (sei il suo delegato)" in text


def test_the_vouchers_show_the_code_its_qr_code_and_the_expiry_in_local_time(
    portal: TestClient, tmp_path: Path
) -> None:
    sign_in(portal, tmp_path, "beneficiary", LUCIA)
    page = portal.get("/me/vouchers")
    assert page.status_code == 200
    assert f'data-testid="voucher-code">{CODE}<' in page.text
    svg = re.search(r"<svg [^>]*class=\"bc-qr\"[^>]*>", page.text)
    assert svg is not None and 'role="img"' in svg.group(0)
    assert f'aria-label="Codice QR del buono {CODE}"' in svg.group(0)
    assert "style=" not in page.text  # the CSP refuses inline styles
    text = text_of(page.text)
    assert "3,70 €" in text and "domenica 7 marzo 2027, 20:34" in text
    assert f"Movimenti del buono {CODE}" in text
    # newest first: spent on 8 December at 17:05 in Biella, 3,70 € left
    assert "martedì 8 dicembre 2026, 17:05 Speso 46,30 € 3,70 €" in text
    assert text.index("Speso") < text.index("Emesso")


def test_the_inbox_reads_the_users_own_notices_in_the_page_language(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "beneficiary", LUCIA, lang="en")
    page = portal.get("/me/inbox")
    assert page.status_code == 200
    ((_s, _m, path, _b, request),) = [x for x in fake.sent if x[0] == "notifications"]
    assert path == f"/inbox/beneficiary:{LUCIA}" and request.url.params["lang"] == "en"
    text = text_of(page.text)
    assert text.index("I tuoi buoni spesa") < text.index("Domanda ricevuta")
    assert "No e-mail or text message is sent" in text and "Language: English" in text


def start(portal: TestClient) -> None:
    started = portal.post("/me/applications/start", data={"csrf_token": CSRF, "round_id": ROUND})
    assert started.status_code == 200 and started.url.path == f"{STEP}/household"


HOUSEHOLD = {
    "csrf_token": CSRF,
    "first_name": "Lucia",
    "last_name": "Ferrero",
    "fiscal_code": "frrlcu84c52a859b",
    "address": "Via Italia 12, 13900 Biella",
    "member_count": "2",
    "member-0-first_name": "Giulia",
    "member-0-last_name": "Ferrero",
    "member-0-fiscal_code": "FRRGLI15H43A859E",
    "member-0-minor": "yes",
    "member-1-first_name": "",
    "member-1-last_name": "",
    "member-1-fiscal_code": "",
    "action": "next",
}


def test_the_stepper_shows_each_mistake_by_field_and_sends_only_after_the_summary(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "beneficiary", LUCIA)
    start(portal)
    wrong = portal.post(f"{STEP}/household", data={**HOUSEHOLD, "fiscal_code": "FRRLCU84C52A859X"})
    assert wrong.status_code == 422
    assert "Questo codice fiscale non è valido" in wrong.text
    assert 'id="f-fiscal_code"' in wrong.text and 'aria-invalid="true"' in wrong.text
    assert 'aria-current="step"' in wrong.text and "Passo 1 di 4" in text_of(wrong.text)
    assert 'value="FRRLCU84C52A859X"' in wrong.text  # kept as typed, to be corrected
    # a later step is not reachable while this one is wrong
    assert portal.get(f"{STEP}/summary").url.path == f"{STEP}/household"
    done = portal.post(f"{STEP}/household", data=HOUSEHOLD)
    assert done.url.path == f"{STEP}/income"
    bad_isee = portal.post(
        f"{STEP}/income", data={"csrf_token": CSRF, "isee": "otto mila", "action": "next"}
    )
    assert bad_isee.status_code == 422
    text = text_of(bad_isee.text)
    assert "non è un importo in euro" in text and "Rispondi sì o no" in text
    income = {"csrf_token": CSRF, "isee": "8.450,00", "other_support": "no", "action": "next"}
    assert portal.post(f"{STEP}/income", data=income).url.path == f"{STEP}/declarations"
    unticked = portal.post(f"{STEP}/declarations", data={"csrf_token": CSRF, "action": "next"})
    assert unticked.status_code == 422 and "Spunta la dichiarazione" in unticked.text
    summary = portal.post(
        f"{STEP}/declarations", data={"csrf_token": CSRF, "declared": "yes", "action": "next"}
    )
    assert summary.url.path == f"{STEP}/summary"
    text = text_of(summary.text)
    assert "FRRLCU84C52A859B" in text and "Giulia Ferrero" in text and "8.450,00 €" in text
    assert fake.posts() == []  # nothing sent before the summary's button
    sent = portal.post(f"{STEP}/summary", data={"csrf_token": CSRF, "action": "submit"})
    assert sent.url.path == "/me/applications"
    assert "La tua domanda è stata inviata" in text_of(sent.text)
    ((service, path, body),) = fake.posts()
    assert (service, path) == ("vouchers", "/applications")
    assert body == {
        "round_id": ROUND,
        "applicant": {
            "fiscal_code": "FRRLCU84C52A859B",
            "first_name": "Lucia",
            "last_name": "Ferrero",
            "minor": False,
        },
        "other_members": [
            {
                "fiscal_code": "FRRGLI15H43A859E",
                "first_name": "Giulia",
                "last_name": "Ferrero",
                "minor": True,
            }
        ],
        "address": "Via Italia 12, 13900 Biella",
        "isee_cents": 845000,
        "other_public_support": False,
        "self_declaration": True,
    }
    assert DRAFT_COOKIE not in portal.cookies  # the draft is gone once sent
    assert "Inviata: in attesa di esame" in text_of(sent.text)


def test_a_double_submit_sends_once_and_shows_the_application(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "beneficiary", LUCIA)
    draft = Draft(
        owner=LUCIA,
        round_id=ROUND,
        first_name="Lucia",
        last_name="Ferrero",
        fiscal_code="FRRLCU84C52A859B",
        address="Via Italia 12",
        isee="0",
        other_support="yes",
        declared=True,
    )
    for _ in range(2):
        portal.cookies.set(DRAFT_COOKIE, draft.encode())
        sent = portal.post(f"{STEP}/summary", data={"csrf_token": CSRF, "action": "submit"})
        assert sent.url.path == "/me/applications" and "inviata" in sent.text
    assert len(fake.applications) == 1
    assert [b["isee_cents"] for _s, _p, b in fake.posts()] == [0, 0]


def test_the_draft_is_kept_across_a_logout_for_its_own_account_only(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "beneficiary", LUCIA)
    start(portal)
    portal.post(f"{STEP}/household", data={**HOUSEHOLD, "action": "back"})
    out = portal.post("/logout", data={"csrf_token": CSRF}, follow_redirects=False)
    assert out.status_code == 303
    assert any(c.startswith(f'{SESSION_COOKIE}=""') for c in out.headers.get_list("set-cookie"))
    assert not any(c.startswith(DRAFT_COOKIE) for c in out.headers.get_list("set-cookie"))
    portal.cookies.delete(SESSION_COOKIE)
    assert portal.get("/me/applications", follow_redirects=False).status_code == 303
    sign_in(portal, tmp_path, "beneficiary", LUCIA)
    listing = portal.get("/me/applications")
    assert 'data-testid="draft"' in listing.text
    resumed = portal.post("/me/applications/start", data={"csrf_token": CSRF, "round_id": ROUND})
    assert (
        'value="Giulia"' in resumed.text and 'value="Via Italia 12, 13900 Biella"' in resumed.text
    )
    sign_in(portal, tmp_path, "beneficiary", "b-biella-002")  # another account on the same browser
    assert 'data-testid="draft"' not in portal.get("/me/applications").text
    discarded = portal.post("/me/applications/draft/discard", data={"csrf_token": CSRF})
    assert discarded.status_code == 200 and DRAFT_COOKIE not in portal.cookies


def test_household_members_are_added_and_removed_without_javascript(
    portal: TestClient, tmp_path: Path
) -> None:
    sign_in(portal, tmp_path, "beneficiary", LUCIA)
    start(portal)
    added = portal.post(f"{STEP}/household", data={**HOUSEHOLD, "action": "add"})
    assert 'name="member-2-first_name"' in added.text
    assert 'value="Giulia"' in added.text
    removed = portal.post(
        f"{STEP}/household", data={**HOUSEHOLD, "member_count": "3", "action": "remove-0"}
    )
    assert 'value="Giulia"' not in removed.text and 'name="member-1-first_name"' in removed.text
    twice = portal.post(
        f"{STEP}/household",
        data={**HOUSEHOLD, "member-1-first_name": "Ada", "member-1-last_name": "Rossi"}
        | {"member-1-fiscal_code": "FRRGLI15H43A859E"},
    )
    assert twice.status_code == 422
    assert "Questo codice fiscale è già nel nucleo familiare" in twice.text


def test_a_refusal_of_the_service_is_shown_on_the_summary(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "beneficiary", LUCIA)
    fake.answers[("vouchers", "POST", "/applications")] = lambda _r: httpx.Response(
        409,
        json={
            "code": "round_not_open",
            "title": "Round not open",
            "detail": "the round closed at 12:00",
        },
    )
    draft = Draft(
        owner=LUCIA,
        round_id=ROUND,
        first_name="Lucia",
        last_name="Ferrero",
        fiscal_code="FRRLCU84C52A859B",
        address="Via Italia 12",
        isee="1200",
        other_support="no",
        declared=True,
    )
    portal.cookies.set(DRAFT_COOKIE, draft.encode())
    refused = portal.post(f"{STEP}/summary", data={"csrf_token": CSRF, "action": "submit"})
    assert refused.status_code == 409
    assert "the round closed at 12:00" in refused.text
    assert DRAFT_COOKIE in portal.cookies  # the draft stays


def test_a_post_without_the_csrf_token_changes_nothing(
    portal: TestClient, tmp_path: Path, fake: FakeServices
) -> None:
    sign_in(portal, tmp_path, "beneficiary", LUCIA)
    start(portal)
    refused = portal.post(f"{STEP}/summary", data={"csrf_token": "x" * 43, "action": "submit"})
    assert refused.status_code == 403
    assert fake.posts() == []


def test_every_form_carries_the_csrf_token(portal: TestClient, tmp_path: Path) -> None:
    sign_in(portal, tmp_path, "beneficiary", LUCIA)
    start(portal)
    for path in ("/me/applications", f"{STEP}/household"):
        page = portal.get(path)
        tokens = re.findall(r'name="csrf_token" value="([^"]*)"', page.text)
        assert tokens and set(tokens) == {CSRF}, path
