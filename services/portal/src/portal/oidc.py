"""The portal as an OpenID Connect client of the territory's identity provider (production).

The authorization code flow with PKCE (S256), ``state`` and ``nonce``:

1. ``GET /login/oidc`` makes a :class:`LoginFlow` (random state, nonce and PKCE verifier, and the
   page to come back to), keeps it in a short-lived, HMAC-signed, HttpOnly cookie and sends the
   browser to the provider's ``authorization_endpoint`` (from its discovery document,
   ``<issuer>/.well-known/openid-configuration``);
2. the provider sends the browser back to ``/login/callback?code=...&state=...``: the state must
   be the cookie's, the code is exchanged at the ``token_endpoint`` (client secret, PKCE
   verifier), the ID token is verified against the provider's JWKS (signature, issuer, audience,
   expiry, nonce, ``at_hash`` when present) and the access token with the very verifier the
   services use (``BENECOMUNE_JWKS_URL``: role claim and ``sub`` as ``servicekit.auth`` wants);
3. the session cookie then holds that access token.

Every HTTP call to the provider goes through ``httpx`` (a transport can be given: the tests run a
fake provider in the test process). Refusals raise :class:`OidcError` with a sentence for the
page (marked for translation) and a detail for the log.

The provider's discovery document and the HTTP calls to it are in ``portal.oidc_discovery``, the
ID token's verification in ``portal.oidc_id_token``; this module makes the login flow and the
client (authorization, token exchange, the provider's logout).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from portal.labels import N_
from portal.oidc_discovery import OidcError as OidcError
from portal.oidc_discovery import ProviderMetadata as ProviderMetadata
from portal.oidc_discovery import ProviderUnavailable as ProviderUnavailable
from portal.oidc_id_token import IdTokenVerification
from portal.settings import PortalSettings

FLOW_COOKIE = "bc_oidc"
FLOW_SECONDS = 600  # the time a user has at the provider to log in


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636)."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True)
class LoginFlow:
    """What the browser keeps between the redirect to the provider and the callback."""

    state: str
    nonce: str
    verifier: str
    next: str
    started: int

    @classmethod
    def start(cls, next_path: str) -> LoginFlow:
        return cls(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(48),  # 64 characters: within RFC 7636's 43-128
            next=next_path,
            started=int(time.time()),
        )

    def seal(self, key: bytes) -> str:
        body = _b64url(json.dumps(asdict(self), separators=(",", ":")).encode())
        signature = _b64url(hmac.new(key, body.encode(), hashlib.sha256).digest())
        return f"{body}.{signature}"

    @classmethod
    def open(cls, sealed: str | None, key: bytes, now: float | None = None) -> LoginFlow | None:
        """The flow of a cookie this portal sealed less than FLOW_SECONDS ago, else None."""
        if not sealed or sealed.count(".") != 1:
            return None
        body, signature = sealed.split(".")
        expected = _b64url(hmac.new(key, body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(signature, expected):
            return None
        try:
            flow = cls(**json.loads(_unb64url(body)))
        except (ValueError, TypeError):
            return None
        moment = time.time() if now is None else now
        if not 0 <= moment - flow.started <= FLOW_SECONDS:
            return None
        return flow


@dataclass(frozen=True)
class Tokens:
    access_token: str
    id_token: str
    id_claims: dict[str, Any]


class OidcClient(IdTokenVerification):
    """One identity provider, its metadata and keys cached (refetched on an unknown key id)."""

    def __init__(
        self,
        issuer_url: str,
        client_id: str,
        client_secret: str,
        *,
        scopes: str = "openid",
        timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            issuer_url, client_id, timeout_seconds=timeout_seconds, transport=transport
        )
        self._client_secret = client_secret
        self.scopes = scopes if "openid" in scopes.split() else f"openid {scopes}".strip()
        # The flow cookie's signing key: only this portal (and the provider) know the secret.
        self.flow_key = hmac.new(
            client_secret.encode(), b"benecomune-portal-oidc-flow", hashlib.sha256
        ).digest()

    @classmethod
    def from_settings(
        cls, settings: PortalSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> OidcClient:
        if not settings.oidc_configured:
            raise ValueError("OIDC needs PORTAL_OIDC_ISSUER_URL, _CLIENT_ID and _CLIENT_SECRET")
        assert settings.oidc_issuer_url and settings.oidc_client_id
        assert settings.oidc_client_secret is not None
        return cls(
            settings.oidc_issuer_url,
            settings.oidc_client_id,
            settings.oidc_client_secret.get_secret_value(),
            scopes=settings.oidc_scopes,
            timeout_seconds=settings.http_timeout_seconds,
            transport=transport,
        )

    async def authorization_url(self, flow: LoginFlow, redirect_uri: str) -> str:
        metadata = await self.metadata()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.scopes,
                "state": flow.state,
                "nonce": flow.nonce,
                "code_challenge": pkce_challenge(flow.verifier),
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if "?" in metadata.authorization_endpoint else "?"
        return f"{metadata.authorization_endpoint}{separator}{query}"

    async def exchange(self, code: str, flow: LoginFlow, redirect_uri: str) -> Tokens:
        """The tokens for ``code``, the ID token verified (its nonce is the flow's)."""
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": flow.verifier,
        }
        headers = {"Accept": "application/json"}
        if "client_secret_basic" in metadata.token_auth_methods:
            # RFC 6749 2.3.1: each part form-encoded before joining them.
            pair = f"{quote(self.client_id, safe='')}:{quote(self._client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form |= {"client_id": self.client_id, "client_secret": self._client_secret}
        response = await self._request("POST", metadata.token_endpoint, data=form, headers=headers)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise OidcError(
                N_("The identity provider's answer could not be read."),
                f"token endpoint: HTTP {response.status_code}, no JSON object",
            )
        if response.status_code != 200 or "error" in answer:
            said = " ".join(
                str(answer[key]) for key in ("error", "error_description") if key in answer
            )
            raise OidcError(
                N_("The identity provider did not accept the login code."),
                f"token endpoint: HTTP {response.status_code} {said}",
                provider_says=said or None,
            )
        access_token, id_token = answer.get("access_token"), answer.get("id_token")
        token_type = str(answer.get("token_type", "")).lower()
        if not isinstance(access_token, str) or not isinstance(id_token, str):
            raise OidcError(
                N_("The identity provider's answer could not be read."),
                "token endpoint: no access_token or no id_token",
            )
        if token_type != "bearer":
            raise OidcError(
                N_("The identity provider's answer could not be read."),
                f"token endpoint: token_type {token_type!r}, expected Bearer",
            )
        claims = await self.verify_id_token(id_token, flow.nonce, access_token)
        return Tokens(access_token=access_token, id_token=id_token, id_claims=claims)

    async def end_session_url(
        self, post_logout_redirect_uri: str, id_token_hint: str | None = None
    ) -> str | None:
        """Where to send the browser to end the provider's session too (None: it has no such
        endpoint, or cannot be reached)."""
        try:
            metadata = await self.metadata()
        except OidcError:
            return None
        if metadata.end_session_endpoint is None:
            return None
        parameters = {
            "client_id": self.client_id,
            "post_logout_redirect_uri": post_logout_redirect_uri,
        }
        if id_token_hint:
            parameters["id_token_hint"] = id_token_hint
        separator = "&" if "?" in metadata.end_session_endpoint else "?"
        return f"{metadata.end_session_endpoint}{separator}{urlencode(parameters)}"
