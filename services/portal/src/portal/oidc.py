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
import jwt
from servicekit.auth import ALLOWED_ALGORITHMS

from portal.labels import N_
from portal.settings import PortalSettings

FLOW_COOKIE = "bc_oidc"
FLOW_SECONDS = 600  # the time a user has at the provider to log in
DISCOVERY_PATH = "/.well-known/openid-configuration"
LEEWAY_SECONDS = 30
METADATA_SECONDS = 3600
JWKS_SECONDS = 300


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


@dataclass(frozen=True)
class Tokens:
    access_token: str
    id_token: str
    id_claims: dict[str, Any]


def _at_hash(access_token: str, algorithm: str) -> str:
    digest = hashlib.sha512 if algorithm == "EdDSA" else hashlib.sha256
    full = digest(access_token.encode("ascii")).digest()
    return _b64url(full[: len(full) // 2])


class OidcClient:
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
        self.issuer_url = issuer_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.scopes = scopes if "openid" in scopes.split() else f"openid {scopes}".strip()
        self._timeout = timeout_seconds
        self._transport = transport
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, jwt.PyJWKSet] | None = None
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

    async def _key_set(self, refresh: bool = False) -> jwt.PyJWKSet:
        fresh = self._keys is not None and time.monotonic() - self._keys[0] < JWKS_SECONDS
        if self._keys is not None and fresh and not refresh:
            return self._keys[1]
        metadata = await self.metadata()
        document = await self._json(metadata.jwks_uri)
        try:
            keys = jwt.PyJWKSet.from_dict(document)
        except jwt.PyJWTError as error:
            raise OidcError(
                N_("The identity provider is not configured correctly."), f"JWKS: {error}"
            ) from None
        self._keys = (time.monotonic(), keys)
        return keys

    async def _signing_key(self, header: dict[str, Any]) -> jwt.PyJWK:
        kid = header.get("kid")
        for refresh in (False, True):  # an unknown key id: the provider may have rotated keys
            keys = await self._key_set(refresh=refresh)
            if kid is None and len(keys.keys) == 1:
                return keys.keys[0]
            for key in keys.keys:
                if key.key_id == kid:
                    return key
        raise OidcError(
            N_("The identity provider's token could not be verified."),
            f"ID token signed by an unknown key {kid!r}",
        )

    async def verify_id_token(
        self, id_token: str, nonce: str, access_token: str | None = None
    ) -> dict[str, Any]:
        """The claims of a valid ID token for this client and this login's nonce."""
        refused = N_("The identity provider's token could not be verified.")
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as error:
            raise OidcError(refused, f"ID token: {error}") from None
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise OidcError(refused, f"ID token signed with {algorithm!r}: not allowed")
        key = await self._signing_key(header)
        if key.algorithm_name != algorithm:
            raise OidcError(refused, f"ID token's alg {algorithm} does not fit its key")
        metadata = await self.metadata()
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=[algorithm],
                audience=self.client_id,
                issuer=metadata.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            message = N_("The login took too long. Please try again.")
            raise OidcError(message, "ID token expired") from None
        except jwt.PyJWTError as error:
            raise OidcError(refused, f"ID token: {type(error).__name__}: {error}") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        azp = claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != self.client_id:
            raise OidcError(refused, f"ID token's azp {azp!r} is not this client")
        if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(
            claims["nonce"], nonce
        ):
            raise OidcError(refused, "ID token's nonce is not this login's")
        at_hash = claims.get("at_hash")
        if (
            access_token is not None
            and at_hash is not None
            and not hmac.compare_digest(str(at_hash), _at_hash(access_token, algorithm))
        ):
            raise OidcError(refused, "ID token's at_hash does not match the access token")
        return claims

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
