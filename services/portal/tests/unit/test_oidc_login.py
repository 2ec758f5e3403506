"""The portal as an OpenID Connect client, against a fake identity provider in the test process
(discovery, authorize, token and JWKS served through httpx.MockTransport, signed with a key the
test makes): the whole round trip, and each way a login is refused — with a clear page and no
session."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from portal.app import create_app
from portal.oidc import FLOW_COOKIE, LoginFlow, OidcClient, pkce_challenge
from portal.routes.auth import ID_TOKEN_COOKIE
from portal.security import CSRF_COOKIE, SESSION_COOKIE

from ..conftest import portal_settings

ISSUER = "https://idp.example/realms/biella"
CLIENT_ID = "benecomune-portal"
CLIENT_SECRET = "s3cret:with/odd&chars"  # form-encoded in the Basic header
AUDIENCE = "benecomune:biella"  # what the services expect of the access token
PORTAL = "http://127.0.0.1"
CALLBACK = f"{PORTAL}/login/callback"


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class FakeProvider:
    """An identity provider: discovery, the authorize step (the user logs in), token, JWKS."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=new_key)
    kid: str = "key-1"
    header_kid: str | None = None  # another key id in the token's header: an unknown key
    # What the next token answer carries, changed by the refusal tests.
    id_changes: dict[str, Any] = field(default_factory=dict)
    access_changes: dict[str, Any] = field(default_factory=dict)
    signing_key: ec.EllipticCurvePrivateKey | None = None  # another key: a forged signature
    token_error: dict[str, str] | None = None
    down: bool = False
    end_session: bool = True
    auth_method: str = "client_secret_basic"
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[httpx.Request] = field(default_factory=list)

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def authorize(self, location: str, user: tuple[str, str | None]) -> str:
        """The user logs in at the provider: where it sends the browser back."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        assert location.startswith(f"{ISSUER}/protocol/openid-connect/auth?")
        assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
        assert "openid" in query["scope"].split()
        assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
        assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**query, "role": user[0], "subject_id": user[1] or ""}
        return f"{query['redirect_uri']}?code={code}&state={query['state']}"

    def _sign(self, claims: dict[str, Any]) -> str:
        key = self.signing_key or self.key
        return jwt.encode(
            claims, key, algorithm="ES256", headers={"kid": self.header_kid or self.kid}
        )

    def tokens(self, grant: dict[str, str]) -> dict[str, Any]:
        now = int(time.time())
        role, subject_id = grant["role"], grant["subject_id"]
        access = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": f"{role}:{subject_id}" if subject_id else role,
            "role": role,
            "iat": now,
            "exp": now + 300,
            **self.access_changes,
        }
        access_token = self._sign({k: v for k, v in access.items() if v is not None})
        digest = hashlib.sha256(access_token.encode()).digest()
        identity = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": "FRRLCU84C52A859",  # the person at the provider (a fiscal code, say)
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            "at_hash": base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode(),
            "name": "Lucia Ferrero",
            **self.id_changes,
        }
        return {
            "access_token": access_token,
            "id_token": self._sign({k: v for k, v in identity.items() if v is not None}),
            "token_type": "Bearer",
            "expires_in": 300,
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path
        if path == "/realms/biella/.well-known/openid-configuration":
            base = f"{ISSUER}/protocol/openid-connect"
            document = {
                "issuer": ISSUER,
                "authorization_endpoint": f"{base}/auth",
                "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/certs",
                "token_endpoint_auth_methods_supported": [self.auth_method],
            }
            if self.end_session:
                document["end_session_endpoint"] = f"{base}/logout"
            return httpx.Response(200, json=document)
        if path == "/realms/biella/protocol/openid-connect/certs":
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
            return httpx.Response(200, json={"keys": [{**jwk, "kid": self.kid, "use": "sig"}]})
        if path == "/realms/biella/protocol/openid-connect/token" and request.method == "POST":
            self.token_requests.append(request)
            return self.token(request)
        return httpx.Response(404)

    def token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if self.auth_method == "client_secret_basic":
            pair = b"benecomune-portal:s3cret%3Awith%2Fodd%26chars"
            authenticated = request.headers.get("authorization") == (
                f"Basic {base64.b64encode(pair).decode()}"
            )
        else:
            authenticated = "authorization" not in request.headers and (
                form.get("client_id"),
                form.get("client_secret"),
            ) == (CLIENT_ID, CLIENT_SECRET)
        if not authenticated:
            return httpx.Response(401, json={"error": "invalid_client"})
        grant = self.codes.pop(form.get("code", ""), None)
        if self.token_error is not None:
            return httpx.Response(400, json=self.token_error)
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant["redirect_uri"]
            or pkce_challenge(form.get("code_verifier", "")) != grant["code_challenge"]
        ):
            return httpx.Response(400, json={"error": "invalid_grant"})
        return httpx.Response(200, json=self.tokens(grant))


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def portal(tmp_path: Path, provider: FakeProvider) -> Iterator[TestClient]:
    """Biella's portal in production shape: OIDC set, the provider's key trusted as the
    services trust it (issuer, audience), no demo login."""
    public_key = tmp_path / "idp.pem"
    public_key.write_bytes(provider.public_pem())
    settings = portal_settings(
        tmp_path,
        oidc_issuer_url=ISSUER,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        jwt_public_key_file=public_key,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    app = create_app(settings)
    app.state.oidc = OidcClient.from_settings(settings, transport=httpx.MockTransport(provider))
    with TestClient(app, base_url=PORTAL) as client:
        yield client


def start(portal: TestClient, next_path: str | None = None) -> str:
    """The user clicks "Log in with SPID or CIE": where the portal sends the browser."""
    page = portal.get("/login" + (f"?next={next_path}" if next_path else ""))
    assert "Entra con SPID o CIE" in page.text and "data-role=" not in page.text
    link = "/login/oidc" + (f"?next={next_path}" if next_path else "")
    assert f'href="{link}"' in page.text
    started = portal.get(link, follow_redirects=False)
    assert started.status_code == 303 and FLOW_COOKIE in portal.cookies
    assert "HttpOnly" in started.headers["set-cookie"]
    location: str = started.headers["location"]
    return location


def finish(portal: TestClient, back: str) -> httpx.Response:
    assert back.startswith(CALLBACK + "?")
    answer: httpx.Response = portal.get(back.removeprefix(PORTAL), follow_redirects=False)
    return answer


def assert_refused(answer: httpx.Response, text: str, status: int = 400) -> None:
    assert answer.status_code == status, answer.text
    assert "Non hai effettuato l'accesso." in answer.text and text in answer.text
    assert SESSION_COOKIE not in answer.cookies and FLOW_COOKIE not in answer.cookies
    assert 'role="alert"' in answer.text and "Entra con SPID o CIE" in answer.text  # try again


def test_the_round_trip_signs_the_user_in_with_the_providers_access_token(
    portal: TestClient, provider: FakeProvider
) -> None:
    location = start(portal, "/me/bookings")
    query = parse_qs(urlsplit(location).query)
    assert query["redirect_uri"] == [CALLBACK]
    back = provider.authorize(location, ("beneficiary", "b-biella-001"))
    done = finish(portal, back)
    assert done.status_code == 303 and done.headers["location"] == "/me/bookings"
    session = next(
        c for c in done.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")
    )
    assert "HttpOnly" in session and "SameSite=lax" in session and "Max-Age=" in session
    token = portal.cookies[SESSION_COOKIE]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "beneficiary:b-biella-001" and claims["iss"] == ISSUER
    assert FLOW_COOKIE not in portal.cookies  # the flow is used once
    # The code went with the client secret (Basic) and the PKCE verifier (checked by the fake).
    (exchange,) = provider.token_requests
    assert "client_secret" not in exchange.content.decode()
    home = portal.get("/")
    assert "Accesso come" in home.text and "b-biella-001" in home.text
    # The same answer again: the flow is gone, nobody else is signed in with it.
    portal.cookies.delete(SESSION_COOKIE)
    assert_refused(finish(portal, back), "Questo accesso è scaduto")


def test_without_next_the_user_goes_to_the_roles_home(
    portal: TestClient, provider: FakeProvider
) -> None:
    done = finish(portal, provider.authorize(start(portal), ("provider", "coop-mucrone")))
    assert done.headers["location"] == "/provider/bookings"
    done = finish(portal, provider.authorize(start(portal), ("auditor", None)))
    assert done.headers["location"] == "/auditor/monitor"


def test_a_provider_taking_the_secret_in_the_form_gets_it_there(
    portal: TestClient, provider: FakeProvider
) -> None:
    provider.auth_method = "client_secret_post"
    done = finish(portal, provider.authorize(start(portal), ("provider", "telecura-biellese")))
    assert done.status_code == 303 and SESSION_COOKIE in portal.cookies


def test_logout_clears_the_session_and_ends_the_providers_session(
    portal: TestClient, provider: FakeProvider
) -> None:
    finish(portal, provider.authorize(start(portal), ("employer", "e-biella-001")))
    id_token = portal.cookies[ID_TOKEN_COOKIE]
    out = portal.post(
        "/logout", data={"csrf_token": portal.cookies[CSRF_COOKIE]}, follow_redirects=False
    )
    # A page, not a redirect (the CSP's form-action 'self' would stop a form's redirect to the
    # provider): it goes on by itself (meta refresh), with a link too.
    assert out.status_code == 200 and "Sei uscito dal portale." in out.text
    refresh = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', out.text)
    link = re.search(r'<a href="([^"]+)">Esci anche da SPID o CIE</a>', out.text)
    assert refresh and link and refresh.group(1) == link.group(1)
    target = urlsplit(html.unescape(refresh.group(1)))
    assert f"{target.scheme}://{target.netloc}{target.path}" == (
        f"{ISSUER}/protocol/openid-connect/logout"
    )
    query = parse_qs(target.query)
    assert query["client_id"] == [CLIENT_ID] and query["post_logout_redirect_uri"] == [f"{PORTAL}/"]
    assert query["id_token_hint"] == [id_token]
    assert SESSION_COOKIE not in portal.cookies and ID_TOKEN_COOKIE not in portal.cookies
    assert "signed-in" not in out.text  # the page itself is a visitor's
    assert "Accedi" in portal.get("/").text


def test_logout_without_an_end_session_endpoint_goes_home(
    portal: TestClient, provider: FakeProvider
) -> None:
    provider.end_session = False
    finish(portal, provider.authorize(start(portal), ("merchant", "m-biella-001")))
    out = portal.post(
        "/logout", data={"csrf_token": portal.cookies[CSRF_COOKIE]}, follow_redirects=False
    )
    assert out.headers["location"] == "/" and SESSION_COOKIE not in portal.cookies


def test_a_state_that_is_not_this_logins_is_refused(
    portal: TestClient, provider: FakeProvider
) -> None:
    back = provider.authorize(start(portal), ("beneficiary", "b-biella-001"))
    forged = back.split("&state=")[0] + "&state=" + secrets.token_urlsafe(32)
    assert_refused(finish(portal, forged), "Questa risposta non appartiene all'accesso")
    assert provider.token_requests == []  # the code was never exchanged


def test_a_callback_without_a_login_started_here_is_refused(
    portal: TestClient, provider: FakeProvider
) -> None:
    back = provider.authorize(start(portal), ("beneficiary", "b-biella-001"))
    portal.cookies.delete(FLOW_COOKIE)
    assert_refused(finish(portal, back), "Questo accesso è scaduto o non è stato avviato qui")
    # A flow cookie forged or tampered with is no flow either.
    flow = LoginFlow.start("/")
    portal.cookies.set(FLOW_COOKIE, flow.seal(b"another key"))
    assert_refused(finish(portal, back), "Questo accesso è scaduto")


def test_an_old_flow_is_refused() -> None:
    flow = LoginFlow.start("/me/wallet")
    sealed = flow.seal(b"k")
    assert LoginFlow.open(sealed, b"k") == flow
    assert LoginFlow.open(sealed, b"k", now=flow.started + 601) is None
    assert LoginFlow.open(sealed + "x", b"k") is None and LoginFlow.open("a.b.c", b"k") is None


def test_an_error_returned_by_the_provider_is_shown(
    portal: TestClient, provider: FakeProvider
) -> None:
    location = start(portal)
    state = parse_qs(urlsplit(location).query)["state"][0]
    said = "error=access_denied&error_description=User+cancelled+%3Cscript%3E"
    back = f"{CALLBACK}?{said}&state={state}"
    answer = finish(portal, back)
    assert_refused(answer, "Il gestore dell'identità non ha completato l'accesso.")
    assert "access_denied: User cancelled &lt;script&gt;" in answer.text  # escaped
    assert provider.token_requests == []


def test_a_code_the_provider_does_not_accept_is_refused(
    portal: TestClient, provider: FakeProvider
) -> None:
    provider.token_error = {"error": "invalid_grant", "error_description": "Code not valid"}
    answer = finish(portal, provider.authorize(start(portal), ("beneficiary", "b-biella-001")))
    assert_refused(answer, "non ha accettato il codice di accesso")
    assert "invalid_grant Code not valid" in answer.text


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"signing_key": "another"}, "Non è stato possibile verificare il token"),
        ({"header_kid": "unknown-key"}, "Non è stato possibile verificare il token"),
        ({"id_changes": {"iss": "https://evil.example"}}, "Non è stato possibile verificare"),
        ({"id_changes": {"aud": "another-client"}}, "Non è stato possibile verificare"),
        ({"id_changes": {"aud": [CLIENT_ID, "other"]}}, "Non è stato possibile verificare"),
        ({"id_changes": {"nonce": "a-nonce-of-another-login"}}, "Non è stato possibile verificare"),
        ({"id_changes": {"nonce": None}}, "Non è stato possibile verificare"),
        ({"id_changes": {"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}}, "Non è stato possibile verificare"),
        ({"id_changes": {"exp": int(time.time()) - 120}}, "L'accesso ha richiesto troppo"),
        ({"access_changes": {"role": None}}, "Il tuo account non ha un ruolo in questo portale"),
        ({"access_changes": {"aud": "benecomune:matera"}}, "non ha un ruolo in questo portale"),
        ({"access_changes": {"sub": "beneficiary:b-biella-999", "role": "operator"}}, "ruolo"),
        ({"access_changes": {"groups": ["g"] * 1200}}, "troppo grande per essere conservato"),
    ],
    ids=[
        "forged-signature",
        "unknown-key",
        "issuer",
        "audience",
        "audience-without-azp",
        "nonce",
        "no-nonce",
        "at-hash",
        "expired",
        "access-without-role",
        "access-for-another-territory",
        "access-subject-and-role-disagree",
        "access-too-large-for-a-cookie",
    ],
)
def test_a_token_that_does_not_verify_gives_no_session(
    portal: TestClient, provider: FakeProvider, change: dict[str, Any], text: str
) -> None:
    for name, value in change.items():
        setattr(provider, name, new_key() if value == "another" else value)
    answer = finish(portal, provider.authorize(start(portal), ("beneficiary", "b-biella-001")))
    assert_refused(answer, text)
    assert "Accedi" in portal.get("/").text


def test_a_provider_that_cannot_be_reached_gives_a_clear_page(
    portal: TestClient, provider: FakeProvider
) -> None:
    provider.down = True
    answer = portal.get("/login/oidc", follow_redirects=False)
    assert_refused(answer, "Il gestore dell'identità non è raggiungibile", status=503)


def test_discovery_naming_another_issuer_is_refused(tmp_path: Path) -> None:
    def liar(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "issuer": "https://evil.example",
                "authorization_endpoint": "https://evil.example/auth",
                "token_endpoint": "https://evil.example/token",
                "jwks_uri": "https://evil.example/certs",
            },
        )

    settings = portal_settings(
        tmp_path, oidc_issuer_url=ISSUER, oidc_client_id=CLIENT_ID, oidc_client_secret="x"
    )
    app = create_app(settings)
    app.state.oidc = OidcClient.from_settings(settings, transport=httpx.MockTransport(liar))
    with TestClient(app, base_url=PORTAL) as client:
        answer = client.get("/login/oidc", follow_redirects=False)
        assert_refused(answer, "non è configurato correttamente")


def test_without_oidc_settings_there_is_no_oidc_login(client: TestClient) -> None:
    assert "Entra con SPID o CIE" not in client.get("/login").text
    assert client.get("/login/oidc", follow_redirects=False).status_code == 404
    assert client.get("/login/callback?code=x&state=y").status_code == 404
