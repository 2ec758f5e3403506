"""Login and logout.

- Development and demo: the login page lists the demo users of the territory file
  (``[[demo_users]]``: who they are and what they can do; one per role when the file lists none)
  and signs the chosen one in with a token from the territory's dev key (the key the services
  trust). Only a listed role and subject id pair is signed in.
- Production: the portal is an OpenID Connect client of the identity provider (``portal.oidc``):
  ``/login/oidc`` sends the browser there, ``/login/callback`` takes it back.

Either way the session cookie holds the user's access token; after login the user goes back to
the page asked for, else to the role's home. Logout clears the session (and, with OIDC, ends the
provider's session when it offers an ``end_session_endpoint``).
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from servicekit.auth import ROLES, AuthenticationError, KeysUnavailableError, TokenVerifier
from servicekit.territory import Territory
from starlette.concurrency import run_in_threadpool

from portal.labels import N_, demo_subject_id
from portal.navigation import home_of
from portal.oidc import (
    FLOW_COOKIE,
    FLOW_SECONDS,
    LoginFlow,
    OidcClient,
    OidcError,
    ProviderUnavailable,
)
from portal.rendering import language_of, render
from portal.routes.public import safe_next
from portal.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    new_csrf_token,
    secure_cookies,
    set_cookie,
)

log = structlog.get_logger(__name__)
router = APIRouter()
SESSION_SECONDS = 8 * 3600
ID_TOKEN_COOKIE = "bc_id_token"  # the ID token, as the hint of the provider's logout
MAX_COOKIE_CHARS = 3500


@dataclass(frozen=True)
class DemoLogin:
    role: str
    subject_id: str | None
    name: str | None  # None: the role's label says who it is
    note: str


def demo_users(territory: Territory, language: str) -> list[DemoLogin]:
    """The demo users of the territory file, in its order; one per role when it lists none."""
    if territory.demo_users:
        return [
            DemoLogin(u.role, u.subject_id, u.name, u.note_in(language, territory.default_language))
            for u in territory.demo_users
        ]
    return [DemoLogin(role, demo_subject_id(role, territory.id), None, "") for role in ROLES]


def demo_groups(users: list[DemoLogin]) -> list[tuple[str, list[DemoLogin]]]:
    """The demo users by role, the roles in the order the list first names them."""
    roles = dict.fromkeys(user.role for user in users)
    return [(role, [user for user in users if user.role == role]) for role in roles]


def _next_or_empty(next_path: str | None) -> str:
    """The page to come back to after login, or "" (then: the role's home)."""
    if not next_path:
        return ""
    target = safe_next(next_path)
    return "" if target.startswith("/login") else target


def _login_page(
    request: Request,
    next_path: str | None = None,
    *,
    error: str | None = None,
    provider_says: str | None = None,
    provider_logout: str | None = None,
    status: int = 200,
) -> Response:
    state = request.app.state
    users = demo_users(state.territory, language_of(request)) if state.issuer is not None else []
    context: dict[str, Any] = {
        "demo_groups": demo_groups(users),
        "oidc": state.settings.oidc_configured,
        "next": _next_or_empty(next_path),
        "error": error,
        "provider_says": provider_says,
        "provider_logout": provider_logout,
    }
    response = render(request, "login.html", context, status=status)
    if status >= 400:
        response.headers["Cache-Control"] = "no-store"
    return response


def _sign_in(
    request: Request, response: Response, token: str, seconds: int, id_token: str | None = None
) -> None:
    set_cookie(request, response, SESSION_COOKIE, token, max_age=seconds)
    set_cookie(request, response, CSRF_COOKIE, new_csrf_token())  # a new token after login
    if id_token is not None and len(id_token) <= MAX_COOKIE_CHARS:
        set_cookie(request, response, ID_TOKEN_COOKIE, id_token, max_age=seconds)


def _forget(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="lax", secure=secure_cookies(request)
    )


@router.get("/login", include_in_schema=False)
async def login_page(request: Request, next: str | None = None) -> Response:
    return _login_page(request, next)


@router.post("/login", include_in_schema=False)
async def login(
    request: Request,
    role: Annotated[str, Form()],
    subject_id: Annotated[str | None, Form()] = None,
    csrf_token: Annotated[str | None, Form()] = None,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, csrf_token)
    state = request.app.state
    wanted = subject_id.strip() if subject_id and subject_id.strip() else None
    listed = state.issuer is not None and any(
        user.role == role and user.subject_id == wanted
        for user in demo_users(state.territory, language_of(request))
    )
    if not listed:
        log.info("demo_login_refused", role=role, subject_id=wanted)
        refused = N_("This user is not among the territory's demo users.")
        return _login_page(request, next, error=refused, status=400)
    token = state.issuer.mint(role, wanted, ttl=timedelta(seconds=SESSION_SECONDS))
    response = RedirectResponse(_next_or_empty(next) or home_of(role), status_code=303)
    _sign_in(request, response, token, SESSION_SECONDS)
    return response


def oidc_client(request: Request) -> OidcClient | None:
    """The identity provider's client (made on first use), or None when OIDC is not set."""
    state = request.app.state
    client: OidcClient | None = getattr(state, "oidc", None)
    if client is None and state.settings.oidc_configured:
        client = OidcClient.from_settings(state.settings)
        state.oidc = client
    return client


def _redirect_uri(request: Request) -> str:
    configured: str | None = request.app.state.settings.oidc_redirect_url
    return configured or str(request.url_for("oidc_callback"))


def _refused(request: Request, error: OidcError, next_path: str | None = None) -> Response:
    log.warning("oidc_login_refused", reason=error.detail or error.message)
    response = _login_page(
        request,
        next_path,
        error=error.message,
        provider_says=error.provider_says,
        status=error.status,
    )
    _forget(request, response, FLOW_COOKIE)
    return response


@router.get("/login/oidc", include_in_schema=False)
async def oidc_start(request: Request, next: str | None = None) -> Response:
    client = oidc_client(request)
    if client is None:
        return render(request, "error.html", {"problem": "not_found"}, status=404)
    flow = LoginFlow.start(_next_or_empty(next))
    try:
        destination = await client.authorization_url(flow, _redirect_uri(request))
    except OidcError as error:
        return _refused(request, error, next)
    response = RedirectResponse(destination, status_code=303)
    set_cookie(request, response, FLOW_COOKIE, flow.seal(client.flow_key), max_age=FLOW_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/login/callback", name="oidc_callback", include_in_schema=False)
async def oidc_callback(
    request: Request,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    client = oidc_client(request)
    if client is None:
        return render(request, "error.html", {"problem": "not_found"}, status=404)
    flow = LoginFlow.open(request.cookies.get(FLOW_COOKIE), client.flow_key)
    if flow is None:
        return _refused(
            request,
            OidcError(
                N_("This login has expired or was not started here. Please log in again."),
                "no valid flow cookie",
            ),
        )
    if not state or not _same(state, flow.state):
        return _refused(
            request,
            OidcError(
                N_("This answer does not belong to the login started here. Please log in again."),
                "state mismatch",
            ),
            flow.next,
        )
    if error:
        said = f"{error}: {error_description}" if error_description else error
        return _refused(
            request,
            OidcError(
                N_("The identity provider did not log you in."),
                f"provider error {said}",
                provider_says=said[:300],
            ),
            flow.next,
        )
    if not code:
        return _refused(
            request,
            OidcError(N_("The identity provider's answer could not be read."), "no code"),
            flow.next,
        )
    try:
        tokens = await client.exchange(code, flow, _redirect_uri(request))
        if len(tokens.access_token) > MAX_COOKIE_CHARS:  # a browser would drop the cookie
            raise OidcError(
                N_("The identity provider's token is too large to keep in a session."),
                f"access token of {len(tokens.access_token)} characters",
            )
        role, seconds = await _verified_session(request.app.state.verifier, tokens.access_token)
    except OidcError as refused:
        return _refused(request, refused, flow.next)
    response = RedirectResponse(flow.next or home_of(role), status_code=303)
    _sign_in(request, response, tokens.access_token, seconds, tokens.id_token)
    _forget(request, response, FLOW_COOKIE)
    log.info("oidc_login", subject=tokens.id_claims.get("sub"))
    return response


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


async def _verified_session(verifier: TokenVerifier, access_token: str) -> tuple[str, int]:
    """The user's role and how long the session lasts (the access token's life, at most
    SESSION_SECONDS), once the services' own verifier accepts the access token (a JWKS fetch
    blocks: in the thread pool)."""
    try:
        user = await run_in_threadpool(verifier.verify, access_token)
    except AuthenticationError as error:
        raise OidcError(
            N_("Your account has no role on this portal, or its token is not valid here."),
            f"access token refused: {error.reason}",
        ) from None
    except KeysUnavailableError as error:
        raise ProviderUnavailable(f"JWKS: {error}") from None
    expires = user.claims.get("exp")
    left = int(expires - time.time()) if isinstance(expires, int | float) else SESSION_SECONDS
    return user.role, max(60, min(SESSION_SECONDS, left))


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> Response:
    check_csrf(request, csrf_token)
    provider_logout = None
    client = oidc_client(request)
    if client is not None:
        settings = request.app.state.settings
        back = settings.oidc_post_logout_redirect_url or str(request.base_url)
        hint = request.cookies.get(ID_TOKEN_COOKIE)
        provider_logout = await client.end_session_url(back, hint)
    response: Response
    if provider_logout is None:
        response = RedirectResponse("/", status_code=303)
    else:
        # Not a redirect: the CSP's form-action 'self' stops a form's redirect to another site.
        # The page goes on to the provider by itself (meta refresh), with a link if it does not.
        request.state.user = None
        response = _login_page(request, provider_logout=provider_logout)
        response.headers["Cache-Control"] = "no-store"
    for name in (SESSION_COOKIE, ID_TOKEN_COOKIE):
        _forget(request, response, name)
    return response
