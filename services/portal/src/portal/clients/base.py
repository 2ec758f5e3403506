"""One service's HTTP API as the portal calls it: JSON in and out, the user's bearer token along,
RFC 9457 problem details turned into ``Problem`` (shown to the user next to the form that caused
it), and a service that does not answer (or answers 5xx) into ``ServiceUnavailable`` (a 503 page
naming the service)."""

from __future__ import annotations

import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx
from servicekit.correlation import current_correlation_id
from servicekit.http import CORRELATION_HEADER

# When this request of the portal waited for the services: (start, end) of each call, so the
# ``Server-Timing`` header can show the wall time spent waiting (calls made in parallel counted
# once) beside the page's total, and the portal's own share is visible.
SERVICE_CALLS: ContextVar[list[tuple[float, float]] | None] = ContextVar(
    "service_calls", default=None
)


def waited_seconds(calls: list[tuple[float, float]]) -> float:
    """The wall time covered by ``calls``: overlapping ones counted once."""
    total, reached = 0.0, float("-inf")
    for start, end in sorted(calls):
        if end > reached:
            total += end - max(start, reached)
            reached = end
    return total


class ServiceUnavailable(Exception):
    """A service did not answer, or answered with an error of its own (5xx)."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service


@dataclass
class Problem(Exception):
    """A 4xx answer, as the service described it (RFC 9457): ``code`` is the stable machine code
    (``insufficient_funds``, ``validation_failed``...), ``errors`` the per-field validation
    errors, ``fields`` any other member (the figures of a refusal)."""

    status: int
    code: str
    title: str = ""
    detail: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.detail or self.title}"

    @classmethod
    def of(cls, response: httpx.Response) -> Problem:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        known = {"status", "code", "title", "detail", "errors", "type", "instance"}
        errors = body.get("errors")
        return cls(
            status=response.status_code,
            code=str(body.get("code") or f"http_{response.status_code}"),
            title=str(body.get("title") or ""),
            detail=str(body.get("detail") or ""),
            errors=errors if isinstance(errors, list) else [],
            fields={k: v for k, v in body.items() if k not in known},
        )

    def field_errors(self) -> dict[str, str]:
        """Validation errors by the last element of their location (the form field's name)."""
        found: dict[str, str] = {}
        for error in self.errors:
            location = error.get("loc") or error.get("location") or []
            name = str(location[-1]) if isinstance(location, list) and location else ""
            found.setdefault(name, str(error.get("msg") or error.get("message") or ""))
        return found


class ServiceClient:
    """The HTTP API of one service (``name``), shared by every request of the portal."""

    def __init__(
        self,
        name: str,
        base_url: str,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def close(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        token: str | None,
        *,
        params: Any = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """The raw answer (any 2xx to 4xx); ``ServiceUnavailable`` when there is none or a 5xx."""
        sent = {"Accept": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        correlation_id = current_correlation_id()
        if correlation_id:
            sent.setdefault(CORRELATION_HEADER, correlation_id)
        started = time.perf_counter()
        try:
            response = await self._client.request(
                method, path, params=params, json=json, content=content, headers=sent
            )
        except httpx.HTTPError as error:
            raise ServiceUnavailable(self.name, f"unreachable ({type(error).__name__})") from None
        finally:
            calls = SERVICE_CALLS.get()
            if calls is not None:
                calls.append((started, time.perf_counter()))
        if response.status_code >= 500:
            raise ServiceUnavailable(self.name, f"answered {response.status_code}")
        return response

    async def call(
        self,
        method: str,
        path: str,
        token: str | None,
        *,
        params: Any = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """The JSON body of a 2xx answer (None when empty); ``Problem`` for a 4xx."""
        response = await self.request(
            method, path, token, params=params, json=json, content=content, headers=headers
        )
        if response.status_code >= 400:
            raise Problem.of(response)
        if not response.content:
            return None
        return response.json()

    async def get(self, path: str, token: str | None, params: Any = None) -> Any:
        return await self.call("GET", path, token, params=params)

    async def post(self, path: str, token: str | None, json: Any = None) -> Any:
        return await self.call("POST", path, token, json=json)


def new_request_id() -> str:
    """An id for a form about to be shown, carried in a hidden field and sent as the command's
    own id (a booking id, a request id): the services are idempotent on it, so a double submit
    or a reloaded POST changes nothing twice."""
    return uuid.uuid4().hex
