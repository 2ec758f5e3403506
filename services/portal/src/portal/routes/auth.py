"""Login and logout. For development and the demo, a page lists the demo users of each role and
signs them in with a token from the territory's dev key (the key the services trust); in
production the portal is an OpenID Connect client of the identity provider (see settings)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from servicekit.auth import ROLES

from portal.labels import demo_subject_id
from portal.rendering import render
from portal.routes.public import safe_next
from portal.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    new_csrf_token,
    secure_cookies,
    set_cookie,
)

router = APIRouter()
SESSION_SECONDS = 8 * 3600


def demo_users(territory: str) -> list[dict[str, str | None]]:
    return [{"role": role, "subject_id": demo_subject_id(role, territory)} for role in ROLES]


@router.get("/login", include_in_schema=False)
async def login_page(request: Request, next: str | None = None) -> Response:
    state = request.app.state
    return render(
        request,
        "login.html",
        {
            "demo_users": demo_users(state.territory.id) if state.issuer is not None else [],
            "oidc": state.settings.oidc_configured,
            "next": "/" if safe_next(next).startswith("/login") else safe_next(next),
        },
    )


@router.post("/login", include_in_schema=False)
async def login(
    request: Request,
    role: Annotated[str, Form()],
    csrf_token: Annotated[str | None, Form()] = None,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, csrf_token)
    state = request.app.state
    if state.issuer is None or role not in ROLES:
        return render(request, "error.html", {"problem": "login"}, status=400)
    token = state.issuer.mint(
        role, demo_subject_id(role, state.territory.id), ttl=timedelta(seconds=SESSION_SECONDS)
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=SESSION_SECONDS)
    set_cookie(request, response, CSRF_COOKIE, new_csrf_token())  # a new token after login
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> Response:
    check_csrf(request, csrf_token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request)
    )
    return response
