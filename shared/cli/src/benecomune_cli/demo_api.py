"""A service's API as the demo loaders call it: with the development token of each role (minted
once per role and subject), and any unexpected answer stopping the load with its text."""

from __future__ import annotations

from typing import Any

import httpx
from servicekit.auth import DevIssuer

__all__ = ["DemoApi", "DemoDataError"]


class DemoDataError(RuntimeError):
    """A service answered a demo loader other than the story expects."""


class DemoApi:
    def __init__(self, client: httpx.Client, issuer: DevIssuer, service: str) -> None:
        self.client = client
        self.issuer = issuer
        self.service = service
        self._tokens: dict[tuple[str, str | None], str] = {}

    def send(
        self,
        method: str,
        path: str,
        role: str,
        subject_id: str | None = None,
        *,
        accept: tuple[int, ...] = (),
        **kw: Any,
    ) -> httpx.Response:
        """The response, if it is a success or its status is one of ``accept``."""
        key = (role, subject_id)
        if key not in self._tokens:
            self._tokens[key] = self.issuer.mint(role, subject_id)
        headers = {"Authorization": f"Bearer {self._tokens[key]}", "X-Correlation-ID": "demo-data"}
        headers.update(kw.pop("headers", {}))
        response = self.client.request(method, path, headers=headers, **kw)
        if not (response.is_success or response.status_code in accept):
            caller = f"{role}:{subject_id}" if subject_id else role
            raise DemoDataError(
                f"{self.service} demo data: {method} {path} as {caller} -> "
                f"{response.status_code} {response.text}"
            )
        return response

    def call(
        self, method: str, path: str, role: str, subject_id: str | None = None, **kw: Any
    ) -> Any:
        """The JSON answer of a call that must succeed."""
        return self.send(method, path, role, subject_id, **kw).json()
