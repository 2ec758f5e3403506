"""The ID token of a login verified against the identity provider's JWKS (cached
:data:`JWKS_SECONDS`, fetched again on an unknown key id): signature, issuer, audience and
``azp``, expiry, the login's nonce and ``at_hash`` when present."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import httpx
import jwt
from servicekit.auth import ALLOWED_ALGORITHMS

from portal.labels import N_
from portal.oidc_discovery import OidcError, ProviderDocuments

LEEWAY_SECONDS = 30
JWKS_SECONDS = 300


def _at_hash(access_token: str, algorithm: str) -> str:
    digest = hashlib.sha512 if algorithm == "EdDSA" else hashlib.sha256
    full = digest(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(full[: len(full) // 2]).rstrip(b"=").decode("ascii")


class IdTokenVerification(ProviderDocuments):
    """One identity provider's ID tokens for one client, verified; its keys cached."""

    def __init__(
        self,
        issuer_url: str,
        client_id: str,
        *,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        super().__init__(issuer_url, timeout_seconds=timeout_seconds, transport=transport)
        self.client_id = client_id
        self._keys: tuple[float, jwt.PyJWKSet] | None = None

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
