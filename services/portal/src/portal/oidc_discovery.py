"""The identity provider as the portal reaches it: its discovery document
(``<issuer>/.well-known/openid-configuration``, cached :data:`METADATA_SECONDS`), the HTTP calls
to it through ``httpx`` (a transport can be given: the tests run a fake provider in the test
process), and the errors of a refused login (:class:`OidcError`, with a sentence for the page,
marked for translation, and a detail for the log)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from portal.labels import N_

DISCOVERY_PATH = "/.well-known/openid-configuration"
METADATA_SECONDS = 3600


class OidcError(Exception):
    """A login refused: ``message`` for the page (an English msgid), ``detail`` for the log."""

    status = 400

    def __init__(self, message: str, detail: str = "", provider_says: str | None = None) -> None:
        super().__init__(detail or message)
        self.message = message
        self.detail = detail
        self.provider_says = provider_says  # the provider's own error text, shown as it is


class ProviderUnavailable(OidcError):
    """The identity provider cannot be reached or answers with a server error."""

    status = 503

    def __init__(self, detail: str) -> None:
        super().__init__(N_("The identity provider cannot be reached right now."), detail)


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    token_auth_methods: tuple[str, ...]

    @classmethod
    def from_document(cls, document: dict[str, Any], expected_issuer: str) -> ProviderMetadata:
        issuer = document.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != expected_issuer.rstrip("/"):
            raise OidcError(
                N_("The identity provider is not configured correctly."),
                f"discovery names issuer {issuer!r}, expected {expected_issuer!r}",
            )
        missing = [
            name
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
            if not isinstance(document.get(name), str)
        ]
        if missing:
            raise OidcError(
                N_("The identity provider is not configured correctly."),
                f"discovery lacks {', '.join(missing)}",
            )
        end_session = document.get("end_session_endpoint")
        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        return cls(
            issuer=issuer,
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            jwks_uri=document["jwks_uri"],
            end_session_endpoint=end_session if isinstance(end_session, str) else None,
            token_auth_methods=tuple(str(method) for method in methods),
        )


class ProviderDocuments:
    """One identity provider's documents, read over HTTP; its metadata cached."""

    def __init__(
        self,
        issuer_url: str,
        *,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.issuer_url = issuer_url.rstrip("/")
        self._timeout = timeout_seconds
        self._transport = transport
        self._metadata: tuple[float, ProviderMetadata] | None = None

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout
            ) as client:
                response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            raise ProviderUnavailable(f"{method} {url}: {error!r}") from None
        if response.status_code >= 500:
            raise ProviderUnavailable(f"{method} {url}: HTTP {response.status_code}")
        return response

    async def _json(self, url: str) -> dict[str, Any]:
        response = await self._request("GET", url, headers={"Accept": "application/json"})
        try:
            document = response.json()
        except ValueError:
            document = None
        if response.status_code != 200 or not isinstance(document, dict):
            raise ProviderUnavailable(f"GET {url}: HTTP {response.status_code}, no JSON object")
        return document

    async def metadata(self) -> ProviderMetadata:
        if self._metadata is not None and time.monotonic() - self._metadata[0] < METADATA_SECONDS:
            return self._metadata[1]
        document = await self._json(self.issuer_url + DISCOVERY_PATH)
        metadata = ProviderMetadata.from_document(document, self.issuer_url)
        self._metadata = (time.monotonic(), metadata)
        return metadata
