"""Bearer-token authentication for the services' HTTP APIs.

Tokens are JWTs. Locally they are minted by :class:`DevIssuer`, which keeps one Ed25519 key pair
per territory under ``keys_dir/<territory>/``; in production an external OIDC provider issues
them and the services verify them against its JWKS (``BENECOMUNE_JWKS_URL``). Services never
care which: they only hold a :class:`TokenVerifier`.

Claims a token must carry:

* ``role``: one of :data:`ROLES`;
* ``sub``: ``"operator"``, ``"social_worker"`` or ``"auditor"`` for the roles that act for the
  territory itself, ``"<role>:<id>"`` (e.g. ``"merchant:m-001"``) for the parties: merchant,
  provider, employer, beneficiary. ``sub`` and ``role`` must agree;
* ``iss`` and ``aud`` as configured (dev issuer: ``benecomune-dev:<territory>`` and
  ``benecomune:<territory>``), ``exp`` and ``iat``.

Wiring in a service — the app factory stores the verifier on the application state, where
:func:`get_token_verifier` reads it::

    app.state.token_verifier = verifier_from_settings(settings)

    @app.post("/merchants/{merchant_id}/redemptions")
    def redeem(
        merchant_id: str, principal: Principal = Depends(require_roles("merchant", "operator"))
    ) -> ...:
        principal.require_subject("merchant", merchant_id, exempt_roles=("operator",))

A missing, malformed, expired or otherwise invalid token is answered with 401 and
``WWW-Authenticate: Bearer``; a valid token with the wrong role (or acting for another party)
with 403. Both carry a JSON ``detail`` of the form ``{"code": ..., "message": ...}``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, NoReturn, get_args

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from servicekit.settings import ServiceSettings
from servicekit.territory import TERRITORY_ID_PATTERN

__all__ = [
    "ALLOWED_ALGORITHMS",
    "PARTY_ROLES",
    "ROLES",
    "AuthenticationError",
    "DevIssuer",
    "KeysUnavailableError",
    "Principal",
    "Role",
    "TokenVerifier",
    "authenticated_principal",
    "dev_audience",
    "dev_issuer_name",
    "get_token_verifier",
    "optional_principal",
    "require_roles",
    "subject_for",
    "verifier_from_settings",
]

Role = Literal[
    "operator", "social_worker", "merchant", "provider", "employer", "beneficiary", "auditor"
]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
# Roles that act for one party among many; their subject is "<role>:<id>".
PARTY_ROLES: Final[frozenset[Role]] = frozenset({"merchant", "provider", "employer", "beneficiary"})

# Asymmetric algorithms only: a shared-secret (HS*) or "none" token is never accepted.
ALLOWED_ALGORITHMS: Final[tuple[str, ...]] = ("EdDSA", "RS256", "ES256")
DEFAULT_LEEWAY: Final = timedelta(seconds=10)
DEFAULT_TTL: Final = timedelta(hours=12)
_REQUIRED_CLAIMS: Final = ["exp", "iat", "iss", "aud", "sub"]
_SUBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")


def dev_issuer_name(territory: str) -> str:
    return f"benecomune-dev:{territory}"


def dev_audience(territory: str) -> str:
    return f"benecomune:{territory}"


def _check_role(role: str) -> Role:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of: {', '.join(ROLES)}")
    return role


def subject_for(role: str, subject_id: str | None = None) -> str:
    """The ``sub`` claim for ``role``: ``"<role>:<id>"`` for parties, the role name otherwise."""
    checked = _check_role(role)
    if checked in PARTY_ROLES:
        if not subject_id:
            raise ValueError(f"a {checked} token needs a subject id (e.g. 'm-001')")
        if not _SUBJECT_ID.fullmatch(subject_id):
            raise ValueError(
                f"subject id {subject_id!r} must be 1-128 letters, digits, '.', '_', '@' or '-'"
            )
        return f"{checked}:{subject_id}"
    if subject_id:
        raise ValueError(f"a {checked} token acts for the territory and takes no subject id")
    return checked


class AuthenticationError(Exception):
    """A token that cannot be accepted; ``reason`` is a short English sentence for the client."""

    def __init__(self, reason: str, code: str = "invalid_token") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class KeysUnavailableError(Exception):
    """The verification keys could not be fetched (the JWKS endpoint is unreachable)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the verified role and subject of a bearer token."""

    role: Role
    subject: str
    subject_id: str | None
    claims: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], role_claim: str = "role") -> Principal:
        """Build a principal from verified claims, checking that ``sub`` and the role agree."""
        role = claims.get(role_claim)
        if not isinstance(role, str):
            raise AuthenticationError(f"token lacks the '{role_claim}' claim")
        if role not in ROLES:
            raise AuthenticationError(f"token carries an unknown role {role!r}")
        subject = claims.get("sub")
        if not isinstance(subject, str):
            raise AuthenticationError("token lacks the 'sub' claim")
        kind, separator, subject_id = subject.partition(":")
        if role in PARTY_ROLES:
            if not separator or kind != role or not _SUBJECT_ID.fullmatch(subject_id):
                raise AuthenticationError(
                    f"token subject {subject!r} does not match its role: expected '{role}:<id>'"
                )
        elif subject != role:
            raise AuthenticationError(
                f"token subject {subject!r} does not match its role: expected '{role}'"
            )
        return cls(
            role=role,
            subject=subject,
            subject_id=subject_id if role in PARTY_ROLES else None,
            claims=MappingProxyType(dict(claims)),
        )

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def acts_for(self, kind: str, subject_id: str) -> bool:
        return self.subject == f"{kind}:{subject_id}"

    def require_subject(
        self, kind: str, subject_id: str, *, exempt_roles: Iterable[str] = ()
    ) -> None:
        """Refuse with 403 unless the caller is ``<kind>:<subject_id>``.

        ``exempt_roles`` lists roles allowed to act for any party (e.g. ``("operator",)``); by
        default nobody is exempt.
        """
        if self.role in set(exempt_roles) or self.acts_for(kind, subject_id):
            return
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail={
                "code": "forbidden_subject",
                "message": f"this token may not act for {kind} {subject_id!r}",
            },
        )


# --- Verification -----------------------------------------------------------------------------


def _algorithm_for_key(key: object) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise ValueError(
        f"unsupported public key type {type(key).__name__}: use Ed25519, RSA or EC P-256"
    )


def _reason(error: jwt.PyJWTError) -> str:
    if isinstance(error, jwt.ExpiredSignatureError):
        return "token has expired"
    if isinstance(error, jwt.ImmatureSignatureError):
        return "token is not valid yet"
    if isinstance(error, jwt.InvalidAudienceError):
        return "token is not meant for this service (wrong audience)"
    if isinstance(error, jwt.InvalidIssuerError):
        return "token was issued by an untrusted issuer"
    if isinstance(error, jwt.InvalidSignatureError):
        return "token signature is not valid"
    if isinstance(error, jwt.InvalidAlgorithmError):
        return "token signing algorithm is not allowed"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"token lacks the '{error.claim}' claim"
    if isinstance(error, jwt.InvalidIssuedAtError):
        return "token has an invalid issue time"
    if isinstance(error, jwt.DecodeError):
        return "token is malformed"
    if isinstance(error, jwt.PyJWKClientError):
        return "token was signed by an unknown key"
    return "token is not valid"


class TokenVerifier:
    """Verifies bearer tokens against a static public key or an OIDC provider's JWKS.

    Exactly one of ``public_key`` (PEM, Ed25519/RSA/EC P-256) and ``jwks_url`` must be given.
    ``issuer`` and ``audience`` are always checked.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        public_key: bytes | str | None = None,
        jwks_url: str | None = None,
        algorithms: Sequence[str] = ALLOWED_ALGORITHMS,
        leeway: timedelta = DEFAULT_LEEWAY,
        role_claim: str = "role",
        jwks_cache_seconds: float = 300,
        jwks_timeout_seconds: float = 5,
    ) -> None:
        if (public_key is None) == (jwks_url is None):
            raise ValueError("give exactly one of public_key and jwks_url")
        if not issuer or not audience:
            raise ValueError("issuer and audience must not be empty")
        unsupported = set(algorithms) - set(ALLOWED_ALGORITHMS)
        if unsupported or not algorithms:
            raise ValueError(
                f"algorithms must be a non-empty subset of {', '.join(ALLOWED_ALGORITHMS)}"
            )
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.role_claim = role_claim
        self._algorithms = list(algorithms)
        self._public_key: Any = None
        self._jwks_client: jwt.PyJWKClient | None = None
        if public_key is not None:
            data = public_key.encode() if isinstance(public_key, str) else public_key
            try:
                self._public_key = serialization.load_pem_public_key(data)
            except ValueError as error:
                raise ValueError(f"public key is not a PEM public key: {error}") from None
            algorithm = _algorithm_for_key(self._public_key)
            if algorithm not in self._algorithms:
                raise ValueError(f"the public key needs {algorithm}, which is not allowed")
            # A static key fixes the algorithm: no other one may be chosen by the token header.
            self._algorithms = [algorithm]
        else:
            assert jwks_url is not None
            self._jwks_client = jwt.PyJWKClient(
                jwks_url,
                cache_jwk_set=True,
                lifespan=jwks_cache_seconds,
                timeout=jwks_timeout_seconds,
            )

    @classmethod
    def from_public_key_file(cls, path: Path, *, issuer: str, audience: str) -> TokenVerifier:
        return cls(public_key=path.read_bytes(), issuer=issuer, audience=audience)

    @property
    def uses_jwks(self) -> bool:
        return self._jwks_client is not None

    def _key_for(self, token: str) -> Any:
        if self._jwks_client is None:
            return self._public_key
        try:
            signing_key = self._jwks_client.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as error:
            raise KeysUnavailableError(str(error)) from None
        except jwt.PyJWTError as error:
            raise AuthenticationError(_reason(error)) from None
        if signing_key.algorithm_name not in self._algorithms:
            raise AuthenticationError("token signing algorithm is not allowed")
        return signing_key.key

    def decode(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``; raises :class:`AuthenticationError` if invalid.

        With a JWKS URL this may fetch the key set (blocking I/O) and raise
        :class:`KeysUnavailableError` when the provider cannot be reached.
        """
        key = self._key_for(token)
        try:
            return jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(_reason(error)) from None

    def verify(self, token: str) -> Principal:
        """The principal a valid token stands for; raises :class:`AuthenticationError`."""
        return Principal.from_claims(self.decode(token), role_claim=self.role_claim)


# --- Development issuer -------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _write_atomically(path: Path, data: bytes, *, mode: int, replace: bool) -> bool:
    """Write ``data`` to ``path`` through a temporary file so readers never see a partial file.

    With ``replace=False`` the file is only created if absent (hard link, atomic); returns False
    when another process created it first.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


class DevIssuer:
    """Mints development tokens for one territory with a local Ed25519 key pair.

    The key pair lives in ``keys_dir/<territory>/private.pem`` (mode 0600) and ``public.pem``; it
    is created on first use, atomically, so services starting together agree on one key.
    """

    algorithm: Final = "EdDSA"

    def __init__(self, territory: str, keys_dir: Path) -> None:
        if not TERRITORY_ID_PATTERN.fullmatch(territory):
            raise ValueError(f"{territory!r} is not a valid territory id")
        self.territory = territory
        self.issuer = dev_issuer_name(territory)
        self.audience = dev_audience(territory)
        self.directory = keys_dir / territory
        self._private_key = self._load_or_create()
        self._public_key = self._private_key.public_key()
        self._public_pem = self._public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self._x = _b64url(
            self._public_key.public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        )
        # RFC 7638 thumbprint: stable, and what a JWKS client matches the token's "kid" against.
        canonical = json.dumps(
            {"crv": "Ed25519", "kty": "OKP", "x": self._x}, separators=(",", ":")
        )
        self.key_id = _b64url(hashlib.sha256(canonical.encode()).digest())
        self._ensure_public_pem()

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> DevIssuer:
        return cls(settings.territory, settings.keys_dir)

    @property
    def private_key_path(self) -> Path:
        return self.directory / "private.pem"

    @property
    def public_key_path(self) -> Path:
        return self.directory / "public.pem"

    @property
    def private_key(self) -> ed25519.Ed25519PrivateKey:
        return self._private_key

    @property
    def public_key_pem(self) -> bytes:
        return self._public_pem

    def _load_or_create(self) -> ed25519.Ed25519PrivateKey:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.private_key_path
        if not path.exists():
            candidate = ed25519.Ed25519PrivateKey.generate()
            pem = candidate.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            if _write_atomically(path, pem, mode=0o600, replace=False):
                return candidate
        # Someone else's key (an earlier run, or a concurrent start that won the race).
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return key

    def _ensure_public_pem(self) -> None:
        path = self.public_key_path
        with contextlib.suppress(FileNotFoundError):
            if path.read_bytes() == self._public_pem:
                return
        _write_atomically(path, self._public_pem, mode=0o644, replace=True)

    def mint(
        self,
        role: str,
        subject_id: str | None = None,
        ttl: timedelta = DEFAULT_TTL,
        *,
        now: datetime | None = None,
    ) -> str:
        """A signed token for ``role`` (and ``subject_id`` for merchant/provider/employer/
        beneficiary), valid for ``ttl`` from ``now`` (default: the current time)."""
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        checked = _check_role(role)
        issued_at = now or datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject_for(checked, subject_id),
            "role": checked,
            "iat": int(issued_at.timestamp()),
            "exp": int((issued_at + ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims, self._private_key, algorithm=self.algorithm, headers={"kid": self.key_id}
        )

    def jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": self._x,
            "kid": self.key_id,
            "alg": self.algorithm,
            "use": "sig",
        }

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public key as a JWK Set, as an OIDC provider serves it."""
        return {"keys": [self.jwk()]}

    def verifier(self, *, leeway: timedelta = DEFAULT_LEEWAY) -> TokenVerifier:
        """A verifier that accepts exactly this issuer's tokens."""
        return TokenVerifier(
            public_key=self._public_pem,
            issuer=self.issuer,
            audience=self.audience,
            leeway=leeway,
        )


def verifier_from_settings(settings: ServiceSettings) -> TokenVerifier:
    """The verifier a service uses, chosen from its settings, first match wins:

    1. ``jwks_url`` — an external OIDC provider's key set;
    2. ``jwt_public_key_file`` — a static PEM public key;
    3. the dev issuer's key for ``territory`` (created under ``keys_dir`` if absent).

    The expected issuer and audience are ``jwt_issuer`` / ``jwt_audience`` when set, otherwise
    the dev issuer's (``benecomune-dev:<territory>`` / ``benecomune:<territory>``): an external
    provider therefore needs ``jwt_issuer`` set, or every token is refused as untrusted.
    """
    issuer = settings.jwt_issuer or dev_issuer_name(settings.territory)
    audience = settings.jwt_audience or dev_audience(settings.territory)
    if settings.jwks_url:
        return TokenVerifier(jwks_url=settings.jwks_url, issuer=issuer, audience=audience)
    if settings.jwt_public_key_file is not None:
        return TokenVerifier.from_public_key_file(
            settings.jwt_public_key_file, issuer=issuer, audience=audience
        )
    public_key = DevIssuer.from_settings(settings).public_key_pem
    return TokenVerifier(public_key=public_key, issuer=issuer, audience=audience)


# --- FastAPI dependencies -------------------------------------------------------------------------

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A JWT from the territory's issuer (locally: `benecomune token mint`).",
)


def _unauthorized(code: str, message: str) -> NoReturn:
    challenge = "Bearer" if code == "missing_token" else f'Bearer error="{code}"'
    raise HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail={"code": code, "message": message},
        headers={"WWW-Authenticate": challenge},
    )


def get_token_verifier(request: Request) -> TokenVerifier:
    """The service's verifier, which its app factory must store as ``app.state.token_verifier``."""
    verifier = getattr(request.app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise RuntimeError(
            "authentication is not configured: set app.state.token_verifier to a TokenVerifier"
            " (e.g. verifier_from_settings(settings)) in the app factory"
        )
    return verifier


# These dependencies are plain functions on purpose: FastAPI runs them in its thread pool, so a
# JWKS fetch (blocking I/O in PyJWKClient) never stalls the event loop.


def optional_principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
    verifier: TokenVerifier = Depends(get_token_verifier),
) -> Principal | None:
    """The caller if a bearer token was sent, None for anonymous calls.

    A token that is sent but invalid is still refused with 401.
    """
    if credentials is None:
        if request.headers.get("Authorization"):
            _unauthorized("invalid_request", "Authorization header must be 'Bearer <token>'")
        return None
    try:
        return verifier.verify(credentials.credentials)
    except AuthenticationError as error:
        _unauthorized(error.code, error.reason)
    except KeysUnavailableError:
        raise HTTPException(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={
                "code": "keys_unavailable",
                "message": "token signing keys cannot be fetched right now; try again later",
            },
        ) from None


def authenticated_principal(
    principal: Principal | None = Depends(optional_principal),
) -> Principal:
    """The caller; 401 when no bearer token was sent."""
    if principal is None:
        _unauthorized("missing_token", "a bearer token is required")
    return principal


def require_roles(*roles: str) -> Callable[..., Principal]:
    """A dependency admitting only callers with one of ``roles``; others get 403.

    Use as ``principal: Principal = Depends(require_roles("merchant", "operator"))``.
    """
    if not roles:
        raise ValueError("require_roles needs at least one role")
    allowed = frozenset(_check_role(role) for role in roles)
    listing = ", ".join(role for role in ROLES if role in allowed)

    def dependency(principal: Principal = Depends(authenticated_principal)) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail={
                    "code": "forbidden_role",
                    "message": f"role {principal.role!r} may not do this; allowed: {listing}",
                },
            )
        return principal

    dependency.__name__ = f"require_roles_{'_'.join(sorted(allowed))}"
    # For the authorization matrix test, which derives who may call each route from the routes.
    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return dependency
