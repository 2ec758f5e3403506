"""Fixtures: a portal for a territory (Biella by default) with its own keys in a temporary
directory, served in-process through Starlette's test client; the same portal with the services
it calls faked by a handler (`faked_portal`, or the `portal` fixture for a module's `fake`), a
handler that records every request and tells the services apart by port (`RecordingServices`),
and a visitor signed in with a role (`sign_in`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from portal.app import create_app
from portal.clients import Services
from portal.security import CSRF_COOKIE, SESSION_COOKIE
from portal.settings import PortalSettings
from servicekit.auth import DevIssuer

CSRF = "c" * 43
"""The CSRF token `sign_in` gives the visitor: the one its forms must post back."""
SERVICE_BY_PORT = {
    9: "catalog",
    8001: "catalog",
    8002: "wallet",
    8003: "booking",
    8004: "vouchers",
    8005: "notifications",
}
"""The service a portal with `portal_settings` calls, by the port of the request."""


def portal_settings(tmp_path: Path, territory: str = "biella", **changes: object) -> PortalSettings:
    return PortalSettings(
        territory=territory,
        keys_dir=tmp_path / "keys",
        catalog_url=str(changes.pop("catalog_url", "http://127.0.0.1:9")),
        http_timeout_seconds=2.0,
        **changes,  # type: ignore[arg-type]
    )


@contextmanager
def faked_portal(
    tmp_path: Path,
    handler: Callable[[httpx.Request], httpx.Response],
    **changes: object,
) -> Iterator[TestClient]:
    """A portal (settings changed by `changes`) whose calls to the services are all answered by
    `handler`, through a test client on http://127.0.0.1."""
    settings = portal_settings(tmp_path, **changes)
    app = create_app(settings)
    app.state.services = Services.from_settings(settings, transport=httpx.MockTransport(handler))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


class RecordingServices:
    """The services of a portal with `portal_settings`, faked: every request is recorded in
    `sent` as (service, method, path, JSON body or None, request); it is answered by what a test
    put in `answers` for its (service, method, path), else by `answer` (a subclass's own)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, Any, httpx.Request]] = []
        self.answers: dict[tuple[str, str, str], Callable[[httpx.Request], httpx.Response]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        service = SERVICE_BY_PORT[request.url.port or 0]
        body = json.loads(request.content) if request.content else None
        self.sent.append((service, request.method, request.url.path, body, request))
        answer = self.answers.get((service, request.method, request.url.path))
        return answer(request) if answer is not None else self.answer(service, request)

    def answer(self, service: str, request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"code": "not_found", "title": "Not found"})

    def posts(self) -> list[tuple[str, str, Any]]:
        """What was posted: (service, path, JSON body or None), in order."""
        return [(s, p, b) for s, m, p, b, _ in self.sent if m == "POST"]


def sign_in(
    client: TestClient, tmp_path: Path, role: str, who: str | None = None, *, lang: str = "it"
) -> str:
    """Gives the client a session for `role` (and `who`) signed with the portal's development
    keys under `tmp_path`, the CSRF token `CSRF` and the language `lang`; returns the token."""
    token = DevIssuer("biella", tmp_path / "keys").mint(role, who)
    client.cookies.set(SESSION_COOKIE, token)
    client.cookies.set(CSRF_COOKIE, CSRF)
    client.cookies.set("bc_lang", lang)
    return token


def text_of(html: str) -> str:
    """A page's words: its tags taken out, its white space made single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def portal(tmp_path: Path, fake: Callable[[httpx.Request], httpx.Response]) -> Iterator[TestClient]:
    """The portal with its services answered by the module's `fake` fixture."""
    with faked_portal(tmp_path, fake) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(portal_settings(tmp_path)), base_url="http://127.0.0.1") as c:
        yield c
