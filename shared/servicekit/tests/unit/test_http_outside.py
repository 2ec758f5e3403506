"""What every service's HTTP outside does the same way, on a small service built by the kit:
one error shape (RFC 9457), a body limit, an OpenAPI page that works offline, a root that
leads to it, and a readiness that tells when the relay is stuck."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from benecomune_contracts.vouchers import FundAllocated
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from servicekit.auth import DevIssuer, Principal, require_roles
from servicekit.domain import Aggregate, Conflict
from servicekit.health import clear_worker_problem
from servicekit.http import create_http_app
from servicekit.publishable import UnpublishableChange
from servicekit.relay import OutboxRelay, RelayBlocked
from servicekit.service import ServiceDefinition, ServiceRuntime
from servicekit.settings import ServiceSettings
from servicekit.store import ServiceApplication


class Note(Aggregate):
    def __init__(self, text: str) -> None:
        self.text = text


def note_to_contract(domain_event: Any) -> Any:
    """A contract allowing 10 characters, where the API below allows 20 (the defect)."""
    if isinstance(domain_event, Note.Created):
        if len(domain_event.text) > 10:
            FundAllocated.model_validate({"fund_id": ""})  # raises a ValidationError
        return None
    return None


class NoteIn(BaseModel):
    text: str = Field(max_length=20)
    amount_cents: int = Field(ge=0)


class OverCap(Conflict):
    code = "over_cap"


router = APIRouter()


@router.post("/notes", status_code=201)
def add_note(body: NoteIn, who: Principal = Depends(require_roles("operator"))) -> dict[str, str]:
    raise_if_over(body.amount_cents)
    return {"id": str(body.text)}


def raise_if_over(amount_cents: int) -> None:
    if amount_cents > 100:
        raise OverCap("over the cap", cap_cents=100, total_cents=amount_cents)


DEFINITION = ServiceDefinition(
    name="tiny",
    title="Tiny",
    settings_class=ServiceSettings,
    application_class=ServiceApplication,
    routers=lambda: [router],
    publishes_to="benecomune.vouchers",
    to_contract=note_to_contract,
)


@pytest.fixture
def settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        data_dir=tmp_path / "data", keys_dir=tmp_path / "keys", http_max_body_bytes=2048
    )


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    runtime = ServiceRuntime(DEFINITION, settings)
    with TestClient(create_http_app(runtime, with_workers=False)) as client:
        yield client


def operator(settings: ServiceSettings) -> dict[str, str]:
    token = DevIssuer(settings.territory, settings.keys_dir).mint("operator", None)
    return {"Authorization": f"Bearer {token}"}


def test_a_domain_refusal_is_a_problem_with_its_code_and_figures(
    client: TestClient, settings: ServiceSettings
) -> None:
    response = client.post(
        "/notes", json={"text": "hello", "amount_cents": 150}, headers=operator(settings)
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:benecomune:problem:over_cap"
    assert (body["status"], body["code"], body["detail"]) == (409, "over_cap", "over the cap")
    assert (body["cap_cents"], body["total_cents"]) == (100, 150)
    assert body["title"]


def test_a_bad_body_is_a_validation_problem_naming_each_field(
    client: TestClient, settings: ServiceSettings
) -> None:
    response = client.post(
        "/notes", json={"text": "x" * 30, "amount_cents": -1}, headers=operator(settings)
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert {e["field"] for e in body["errors"]} == {"body.text", "body.amount_cents"}


def test_missing_token_and_unknown_route_are_problems_too(client: TestClient) -> None:
    response = client.post("/notes", json={"text": "a", "amount_cents": 1})
    assert (response.status_code, response.json()["code"]) == (401, "missing_token")
    response = client.get("/nowhere")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_body_over_the_limit_is_refused_with_413(
    client: TestClient, settings: ServiceSettings
) -> None:
    big = {"text": "a", "amount_cents": 1, "padding": "x" * 5000}
    response = client.post("/notes", json=big, headers=operator(settings))
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert response.json()["max_bytes"] == 2048

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b"x" * 1000

    response = client.post(
        "/notes",
        content=chunks(),
        headers={**operator(settings), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_the_docs_page_loads_its_assets_from_the_service_and_the_root_leads_there(
    client: TestClient,
) -> None:
    page = client.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200
    root = client.get("/", follow_redirects=False)
    assert root.status_code in (302, 307) and root.headers["location"] == "/docs"


def test_the_openapi_declares_the_problems_each_operation_can_answer(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    answers = spec["paths"]["/notes"]["post"]["responses"]
    assert {"401", "403", "409", "413", "422"} <= answers.keys()
    ref = answers["409"]["content"]["application/problem+json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/Problem"
    assert "Problem" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_a_body_that_cannot_be_read_is_a_documented_problem(
    client: TestClient, settings: ServiceSettings
) -> None:
    response = client.post(
        "/notes",
        content=b'{"text": "caf\xe9"}',  # Latin-1, not UTF-8
        headers={**operator(settings), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "bad_request"
    spec = client.get("/openapi.json").json()
    assert (
        "application/problem+json" in spec["paths"]["/notes"]["post"]["responses"]["400"]["content"]
    )


def test_readiness_and_metrics_document_what_they_answer(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"200", "503"} <= paths["/readyz"]["get"]["responses"].keys()
    assert "text/plain" in paths["/metrics"]["get"]["responses"]["200"]["content"]
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")


def test_a_change_whose_event_could_not_be_published_is_refused_and_not_stored(
    settings: ServiceSettings,
) -> None:
    runtime = ServiceRuntime(DEFINITION, settings)
    app = runtime.application
    with pytest.raises(UnpublishableChange, match="would not be a valid public event"):
        app.save(Note("far longer than ten"))
    assert app.recorder.max_notification_id() in (None, 0)
    app.save(Note("short"))
    assert app.recorder.max_notification_id() == 1
    app.close()


class NeverProducer:
    async def send(self, *_: Any, **__: Any) -> Any:
        raise AssertionError("nothing may be published past a blocked event")


async def test_a_relay_that_cannot_publish_makes_the_service_unready_and_shows_its_backlog(
    client: TestClient, settings: ServiceSettings
) -> None:
    from servicekit.metrics import RELAY_BACKLOG

    app = ServiceApplication(settings)  # no mapping check: as events stored by an older version
    app.save(Note("far longer than ten"))
    app.save(Note("later"))
    relay = OutboxRelay(
        app, note_to_contract, topic="t", source="/s", bootstrap="127.0.0.1:1", batch_size=10
    )
    try:
        with pytest.raises(RelayBlocked, match=r"Note\.Created"):
            await relay.publish_batch(NeverProducer())  # type: ignore[arg-type]
        assert RELAY_BACKLOG.labels(settings.service_name)._value.get() == 2
        ready = client.get("/readyz").json()
        assert ready["status"] == "unready"
        assert any("relay" in p and "cannot be mapped" in p for p in ready["problems"])
    finally:
        clear_worker_problem("relay")
        app.close()
