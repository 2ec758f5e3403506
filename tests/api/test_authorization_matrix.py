"""The authorization matrix, generated from the routes of every service: each operation that
changes something, called with no token, with bad tokens (garbage, another issuer's key,
expired), with every role its route does not admit, and by a party of an admitted role acting
on someone else's resource. Expected: 0 successes where none is due — 401 without a valid
token, 403 for a role the route does not admit, never a 2xx for an intruder."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from servicekit.auth import PARTY_ROLES, ROLES, DevIssuer, authenticated_principal
from servicekit.http import create_http_app
from servicekit.service import ServiceRuntime

SERVICES = ["catalog", "wallet", "vouchers", "notifications", "booking"]
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
PARAM = re.compile(r"\{([^}:]+)(:[^}]*)?\}")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    allowed: frozenset[str] | None  # None: the route checks its caller itself

    def url(self) -> str:
        # An id nobody has: an intruder must not succeed even where nothing exists.
        return PARAM.sub("00000000-0000-4000-8000-000000000000", self.path)


def dependency_calls(route: APIRoute) -> Iterator[Any]:
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        yield dependant.call
        stack.extend(dependant.dependencies)


def allowed_roles(route: APIRoute) -> frozenset[str] | None:
    found: set[str] = set()
    for call in dependency_calls(route):
        found |= set(getattr(call, "allowed_roles", ()))
    return frozenset(found) if found else None


def needs_a_token(route: APIRoute) -> bool:
    return any(call is authenticated_principal for call in dependency_calls(route))


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # a router included as it is (FastAPI 0.16x)
            assert not getattr(route.include_context, "prefix", ""), "prefixes not handled"
            yield from api_routes(route.original_router.routes)


def operations(app: Any) -> list[Operation]:
    """Every operation that changes something, and every read that needs a token."""
    return [
        Operation(method, route.path, allowed_roles(route))
        for route in api_routes(app.routes)
        for method in sorted(route.methods - {"HEAD"})
        if method in MUTATING or needs_a_token(route)
    ]


def anonymous_writes(app: Any) -> list[str]:
    return [
        f"{method} {route.path}"
        for route in api_routes(app.routes)
        for method in sorted(route.methods & MUTATING)
        if not needs_a_token(route)
    ]


@dataclass
class Service:
    name: str
    client: TestClient
    issuer: DevIssuer
    stranger: DevIssuer
    ops: list[Operation]
    anonymous_writes: list[str]


@pytest.fixture(scope="module", params=SERVICES)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    name = request.param
    definition = importlib.import_module(f"{name}.service").DEFINITION
    tmp: Path = tmp_path_factory.mktemp(name)
    settings = definition.settings_class(data_dir=tmp / "data", keys_dir=tmp / "keys")
    runtime = ServiceRuntime(definition, settings)
    app = create_http_app(runtime, with_workers=False)
    with TestClient(app) as client:
        yield Service(
            name,
            client,
            DevIssuer(settings.territory, settings.keys_dir),
            DevIssuer(settings.territory, tmp / "stranger-keys"),
            operations(app),
            anonymous_writes(app),
        )


def call(service: Service, op: Operation, token: str | None) -> int:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    response = service.client.request(op.method, op.url(), json={}, headers=headers)
    return response.status_code


def mint(issuer: DevIssuer, role: str, **kw: Any) -> str:
    return issuer.mint(role, "intruder-1" if role in PARTY_ROLES else None, **kw)


def test_no_operation_changes_anything_without_a_token(service: Service) -> None:
    assert service.ops, "nothing to check: the routes were not found"
    assert service.anonymous_writes == []


def test_without_a_valid_token_no_operation_goes_through(service: Service) -> None:
    expired = mint(
        service.issuer,
        "operator",
        ttl=timedelta(minutes=5),
        now=datetime.now(UTC) - timedelta(days=1),
    )
    bad_tokens = {
        "none": None,
        "garbage": "not-a-token",
        "another issuer's key": mint(service.stranger, "operator"),
        "expired": expired,
    }
    unexpected = [
        (op.method, op.path, label, status)
        for op in service.ops
        for label, token in bad_tokens.items()
        if (status := call(service, op, token)) != 401
    ]
    assert unexpected == []


def test_a_role_the_route_does_not_admit_is_forbidden(service: Service) -> None:
    unexpected = []
    for op in service.ops:
        roles = ROLES if op.allowed is None else [r for r in ROLES if r not in op.allowed]
        for role in roles:
            status = call(service, op, mint(service.issuer, role))
            if op.allowed is not None and status != 403:
                unexpected.append((op.method, op.path, role, status))
            elif 200 <= status < 300 and op.allowed is None and "{" in op.path:
                # checked by the route itself: at least no success on nobody's resource
                unexpected.append((op.method, op.path, role, status))
    assert unexpected == []


def test_a_party_of_an_admitted_role_cannot_act_on_anothers_resource(service: Service) -> None:
    unexpected = []
    for op in service.ops:
        if "{" not in op.path:
            continue
        roles = [r for r in PARTY_ROLES if op.allowed is None or r in op.allowed]
        for role in roles:
            status = call(service, op, mint(service.issuer, role))
            if 200 <= status < 300:
                unexpected.append((op.method, op.path, role, status))
    assert unexpected == []
