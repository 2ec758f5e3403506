"""The session and the forms' protection.

- The session is the user's bearer token itself, in an HttpOnly, SameSite=Lax cookie (Secure
  whenever the portal is not reached on the loopback), verified on every request with the kit's
  token verifier — the same keys the services trust; a bad or expired one is a logged-out visitor.
- CSRF: double-submit. Every visitor gets a random ``bc_csrf`` cookie (HttpOnly, SameSite=Lax);
  every form carries the same value in a hidden ``csrf_token`` field, and a POST whose field does
  not match its cookie is refused (403). Login gives a new value.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response
from servicekit.auth import AuthenticationError, Principal, TokenVerifier

SESSION_COOKIE = "bc_session"
CSRF_COOKIE = "bc_csrf"
CSRF_FIELD = "csrf_token"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


class CsrfError(Exception):
    """A form posted without the visitor's CSRF token."""


def secure_cookies(request: Request) -> bool:
    """Secure cookies everywhere but on the loopback (plain http://127.0.0.1 in development)."""
    return (request.url.hostname or "") not in LOOPBACK_HOSTS


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    """This visitor's CSRF token: the cookie's, or a new one the response will set."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) >= 32:
        return existing
    token: str | None = getattr(request.state, "new_csrf", None)
    if token is None:
        token = new_csrf_token()
        request.state.new_csrf = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise CsrfError("the form's security token is missing or does not match")


def principal(request: Request, verifier: TokenVerifier) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return verifier.verify(token)
    except AuthenticationError:
        return None


def bearer_token(request: Request, verifier: TokenVerifier) -> str | None:
    """The user's token, when the session holds a valid one (to call the services with)."""
    if principal(request, verifier) is None:
        return None
    return request.cookies.get(SESSION_COOKIE)
