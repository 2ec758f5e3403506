"""Who may see a page: ``signed_in(request, *roles)`` gives the user's session (who, and the token
to call the services with) or stops the request — to the login page when nobody is signed in
(coming back here afterwards), with a 403 page when the user's role may not see it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from servicekit.auth import Principal

from portal.security import SESSION_COOKIE


class LoginRequired(Exception):
    """Nobody is signed in: the app answers with a redirect to the login page."""


class RoleRefused(Exception):
    """The signed-in user's role may not see this page: the app answers 403."""


@dataclass(frozen=True)
class Session:
    user: Principal
    token: str

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def subject_id(self) -> str | None:
        return self.user.subject_id


def signed_in(request: Request, *roles: str) -> Session:
    """The session of the signed-in user, whose role is one of ``roles`` (any role if none)."""
    user: Principal | None = request.state.user
    token = request.cookies.get(SESSION_COOKIE)
    if user is None or not token:
        raise LoginRequired
    if roles and user.role not in roles:
        raise RoleRefused(user.role)
    return Session(user=user, token=token)
