"""Bearer-token authentication: the dev issuer, the verifier and the FastAPI dependencies."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from servicekit.auth import (
    PARTY_ROLES,
    ROLES,
    AuthenticationError,
    DevIssuer,
    Principal,
    TokenVerifier,
    optional_principal,
    require_roles,
    subject_for,
    verifier_from_settings,
)
from servicekit.settings import ServiceSettings

DEMO_IDS = {"merchant": "m-001", "provider": "p-001", "employer": "e-001", "beneficiary": "b-001"}


def build_app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    app.state.token_verifier = verifier

    @app.get("/redemptions/{merchant_id}")
    def merchant_redemptions(
        merchant_id: str, principal: Principal = Depends(require_roles("merchant", "operator"))
    ) -> dict[str, str]:
        principal.require_subject("merchant", merchant_id, exempt_roles=("operator",))
        return {"subject": principal.subject}

    @app.get("/ledger")
    def ledger(principal: Principal = Depends(require_roles("auditor"))) -> dict[str, str]:
        return {"subject": principal.subject}

    @app.get("/whoami")
    def whoami(principal: Principal = Depends(require_roles(*ROLES))) -> dict[str, str | None]:
        return {
            "role": principal.role,
            "subject": principal.subject,
            "subject_id": principal.subject_id,
        }

    @app.get("/catalog")
    def catalog(principal: Principal | None = Depends(optional_principal)) -> dict[str, str]:
        return {"viewer": principal.subject if principal else "anonymous"}

    return app


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def issuer(keys_dir: Path) -> DevIssuer:
    return DevIssuer("biella", keys_dir)


@pytest.fixture
def client(issuer: DevIssuer) -> Iterator[TestClient]:
    with TestClient(build_app(issuer.verifier())) as test_client:
        yield test_client


def assert_refused_401(response: object, reason: str) -> None:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    detail = response.json()["detail"]
    assert reason in detail["message"]
    assert "Traceback" not in response.text


# --- refused requests ---------------------------------------------------------------------------


def test_a_request_without_a_token_is_refused_with_401(client: TestClient) -> None:
    response = client.get("/ledger")
    assert_refused_401(response, "bearer token is required")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"]["code"] == "missing_token"


def test_a_malformed_token_is_refused_with_401(client: TestClient) -> None:
    assert_refused_401(client.get("/ledger", headers=bearer("not-a-jwt")), "malformed")


def test_an_authorization_header_without_the_bearer_scheme_is_refused_with_401(
    client: TestClient,
) -> None:
    response = client.get("/ledger", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_refused_401(response, "Bearer <token>")


def test_a_token_signed_by_another_territorys_key_is_refused_with_401(
    client: TestClient, keys_dir: Path
) -> None:
    token = DevIssuer("matera", keys_dir).mint("auditor")
    assert_refused_401(client.get("/ledger", headers=bearer(token)), "signature is not valid")


def test_an_expired_token_is_refused_with_401(client: TestClient, issuer: DevIssuer) -> None:
    token = issuer.mint("auditor", now=datetime.now(UTC) - timedelta(hours=13))
    assert_refused_401(client.get("/ledger", headers=bearer(token)), "expired")


def test_a_token_for_another_audience_is_refused_with_401(
    client: TestClient, issuer: DevIssuer
) -> None:
    now = datetime.now(UTC)
    claims = {
        "iss": issuer.issuer,
        "aud": "benecomune:matera",
        "sub": "auditor",
        "role": "auditor",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    token = jwt.encode(claims, issuer.private_key, algorithm="EdDSA")
    assert_refused_401(client.get("/ledger", headers=bearer(token)), "wrong audience")


def test_a_token_whose_subject_does_not_match_its_role_is_refused_with_401(
    client: TestClient, issuer: DevIssuer
) -> None:
    now = datetime.now(UTC)
    claims = {
        "iss": issuer.issuer,
        "aud": issuer.audience,
        "sub": "merchant:m-001",
        "role": "operator",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    token = jwt.encode(claims, issuer.private_key, algorithm="EdDSA")
    assert_refused_401(client.get("/whoami", headers=bearer(token)), "does not match its role")


def test_a_token_signed_with_a_shared_secret_is_refused_with_401(client: TestClient) -> None:
    now = datetime.now(UTC)
    claims = {"sub": "auditor", "role": "auditor", "iat": now, "exp": now + timedelta(hours=1)}
    token = jwt.encode(claims, "a-secret-that-is-long-enough-for-hs256!", algorithm="HS256")
    assert_refused_401(client.get("/ledger", headers=bearer(token)), "algorithm is not allowed")


def test_a_caller_with_the_wrong_role_is_refused_with_403(
    client: TestClient, issuer: DevIssuer
) -> None:
    response = client.get("/ledger", headers=bearer(issuer.mint("merchant", "m-001")))
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "forbidden_role"
    assert "allowed: auditor" in response.json()["detail"]["message"]


def test_a_merchant_acting_for_another_merchant_is_refused_with_403(
    client: TestClient, issuer: DevIssuer
) -> None:
    response = client.get("/redemptions/m-002", headers=bearer(issuer.mint("merchant", "m-001")))
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "forbidden_subject"


# --- admitted requests --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_is_admitted_with_its_own_token(
    client: TestClient, issuer: DevIssuer, role: str
) -> None:
    subject_id = DEMO_IDS.get(role)
    response = client.get("/whoami", headers=bearer(issuer.mint(role, subject_id)))
    assert response.status_code == 200, response.text
    expected_subject = f"{role}:{subject_id}" if subject_id else role
    assert response.json() == {"role": role, "subject": expected_subject, "subject_id": subject_id}


def test_a_merchant_may_act_for_itself(client: TestClient, issuer: DevIssuer) -> None:
    response = client.get("/redemptions/m-001", headers=bearer(issuer.mint("merchant", "m-001")))
    assert response.status_code == 200
    assert response.json() == {"subject": "merchant:m-001"}


def test_an_operator_may_act_for_any_merchant_when_exempted(
    client: TestClient, issuer: DevIssuer
) -> None:
    response = client.get("/redemptions/m-002", headers=bearer(issuer.mint("operator")))
    assert response.status_code == 200


def test_an_anonymous_read_works_without_a_token_but_not_with_a_bad_one(
    client: TestClient, issuer: DevIssuer
) -> None:
    assert client.get("/catalog").json() == {"viewer": "anonymous"}
    signed_in = client.get("/catalog", headers=bearer(issuer.mint("beneficiary", "b-001")))
    assert signed_in.json() == {"viewer": "beneficiary:b-001"}
    assert client.get("/catalog", headers=bearer("garbage")).status_code == 401


# --- the dev issuer ------------------------------------------------------------------------------


def test_the_dev_issuer_keeps_its_private_key_readable_only_by_its_owner(
    issuer: DevIssuer,
) -> None:
    assert stat.S_IMODE(os.stat(issuer.private_key_path).st_mode) == 0o600
    assert issuer.public_key_path.read_bytes() == issuer.public_key_pem


def test_the_dev_issuer_reuses_the_key_pair_it_created(issuer: DevIssuer, keys_dir: Path) -> None:
    again = DevIssuer("biella", keys_dir)
    assert again.key_id == issuer.key_id
    assert issuer.verifier().verify(again.mint("auditor")).subject == "auditor"


def test_services_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    with ThreadPoolExecutor(max_workers=8) as pool:
        issuers = list(pool.map(lambda _: DevIssuer("sondrio", keys_dir), range(16)))
    assert len({i.key_id for i in issuers}) == 1
    leftovers = [p.name for p in (keys_dir / "sondrio").iterdir()]
    assert sorted(leftovers) == ["private.pem", "public.pem"]


def test_a_minted_token_carries_the_expected_claims(issuer: DevIssuer) -> None:
    token = issuer.mint("provider", "p-biella-001", ttl=timedelta(hours=1))
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    assert header["kid"] == issuer.key_id
    claims = issuer.verifier().decode(token)
    assert claims["iss"] == "benecomune-dev:biella"
    assert claims["aud"] == "benecomune:biella"
    assert claims["sub"] == "provider:p-biella-001"
    assert claims["role"] == "provider"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["jti"]


@pytest.mark.parametrize(
    ("role", "subject_id", "message"),
    [
        ("merchant", None, "needs a subject id"),
        ("operator", "x-1", "takes no subject id"),
        ("janitor", None, "unknown role"),
        ("employer", "has space", "must be"),
    ],
)
def test_minting_refuses_inconsistent_roles_and_subjects(
    issuer: DevIssuer, role: str, subject_id: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        issuer.mint(role, subject_id)


def test_subjects_are_built_from_role_and_id() -> None:
    assert subject_for("employer", "e-7") == "employer:e-7"
    assert subject_for("social_worker") == "social_worker"
    assert {"merchant", "provider", "employer", "beneficiary"} == PARTY_ROLES


def test_require_roles_refuses_an_unknown_role_when_the_route_is_declared() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        require_roles("admin")


def test_a_missing_verifier_is_reported_as_a_wiring_error(issuer: DevIssuer) -> None:
    app = build_app(issuer.verifier())
    del app.state.token_verifier
    with (
        TestClient(app) as test_client,
        pytest.raises(RuntimeError, match=r"app\.state\.token_verifier"),
    ):
        test_client.get("/ledger", headers=bearer(issuer.mint("auditor")))


# --- settings -----------------------------------------------------------------------------------


def test_settings_without_an_oidc_provider_verify_the_dev_issuers_tokens(keys_dir: Path) -> None:
    settings = ServiceSettings(territory="rho", keys_dir=keys_dir)
    verifier = verifier_from_settings(settings)
    assert not verifier.uses_jwks
    token = DevIssuer("rho", keys_dir).mint("social_worker")
    assert verifier.verify(token).role == "social_worker"


def test_settings_with_a_public_key_file_verify_with_that_key(
    tmp_path: Path, issuer: DevIssuer
) -> None:
    key_file = tmp_path / "provider.pem"
    key_file.write_bytes(issuer.public_key_pem)
    settings = ServiceSettings(
        territory="biella",
        keys_dir=tmp_path / "elsewhere",
        jwt_public_key_file=key_file,
        jwt_issuer=issuer.issuer,
        jwt_audience=issuer.audience,
    )
    verifier = verifier_from_settings(settings)
    assert verifier.verify(issuer.mint("employer", "e-001")).subject_id == "e-001"
    assert not (tmp_path / "elsewhere").exists()


def test_settings_expect_the_configured_issuer(tmp_path: Path, issuer: DevIssuer) -> None:
    key_file = tmp_path / "provider.pem"
    key_file.write_bytes(issuer.public_key_pem)
    settings = ServiceSettings(
        territory="biella", jwt_public_key_file=key_file, jwt_issuer="https://id.example.org"
    )
    with pytest.raises(AuthenticationError, match="untrusted issuer"):
        verifier_from_settings(settings).verify(issuer.mint("auditor"))


# --- JWKS ---------------------------------------------------------------------------------------


class _JwksServer:
    def __init__(self, document: dict[str, object]) -> None:
        body = json.dumps(document).encode()
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # PyJWKClient uses urllib, which honours proxy variables: keep the local server direct.
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")


@pytest.mark.usefixtures("no_proxy")
def test_a_token_is_verified_through_the_providers_jwks(issuer: DevIssuer) -> None:
    with _JwksServer(issuer.jwks()) as server:
        verifier = TokenVerifier(
            jwks_url=server.url, issuer=issuer.issuer, audience=issuer.audience
        )
        assert verifier.uses_jwks
        with TestClient(build_app(verifier)) as client:
            first = client.get("/ledger", headers=bearer(issuer.mint("auditor")))
            second = client.get("/ledger", headers=bearer(issuer.mint("auditor")))
        assert first.status_code == second.status_code == 200
        assert server.requests == 1  # the key set is cached


@pytest.mark.usefixtures("no_proxy")
def test_a_token_signed_by_a_key_missing_from_the_jwks_is_refused_with_401(
    issuer: DevIssuer, keys_dir: Path
) -> None:
    stranger = DevIssuer("napoli", keys_dir)
    with _JwksServer(issuer.jwks()) as server:
        settings = ServiceSettings(
            territory="biella",
            jwks_url=server.url,
            jwt_issuer=issuer.issuer,
            jwt_audience=issuer.audience,
        )
        with TestClient(build_app(verifier_from_settings(settings))) as client:
            response = client.get("/ledger", headers=bearer(stranger.mint("auditor")))
    assert_refused_401(response, "unknown key")


@pytest.mark.usefixtures("no_proxy")
def test_an_unreachable_jwks_endpoint_answers_503(issuer: DevIssuer) -> None:
    with _JwksServer(issuer.jwks()) as server:
        url = server.url
    verifier = TokenVerifier(
        jwks_url=url, issuer=issuer.issuer, audience=issuer.audience, jwks_timeout_seconds=1
    )
    with TestClient(build_app(verifier)) as client:
        response = client.get("/ledger", headers=bearer(issuer.mint("auditor")))
    assert response.status_code == 503
    assert response.json()["detail"]["code"] == "keys_unavailable"
