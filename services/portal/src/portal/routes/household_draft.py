"""The draft of a voucher application, kept between the stepper's steps.

Where the draft lives between steps, and across a logout
-------------------------------------------------------
The vouchers service has no drafts: ``POST /applications`` takes a whole application at once,
and the portal owns no data. So the draft is kept by the user's own browser, in one HttpOnly,
SameSite=Lax cookie (``bc_application_draft``, Secure off the loopback, 30 days): the answers
typed so far, the round, and the account they belong to. Why a cookie and not hidden fields
alone: hidden fields carry a draft from one step to the next, but not across a logout, a closed
tab or another day, which the issue asks for; the cookie goes with every request anyway, so
each step's form carries only its own fields (one source of truth, nothing to reconcile).
HttpOnly keeps the personal data out of the page's scripts; the draft is read only when the
same account is signed in (another user on the same browser sees nothing of it, and starts
their own); it is dropped when the application is sent or the user discards it. The service
validates everything again on submission; the portal's checks (``household_steps``) only tell
the user early, next to the field.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass, field

from fastapi import Request, Response

from portal.access import Session
from portal.security import secure_cookies, set_cookie

DRAFT_COOKIE = "bc_application_draft"
DRAFT_SECONDS = 30 * 24 * 3600
MAX_OTHER_MEMBERS = 10


@dataclass
class Member:
    first_name: str = ""
    last_name: str = ""
    fiscal_code: str = ""
    minor: bool = False

    def blank(self) -> bool:
        return not (self.first_name.strip() or self.last_name.strip() or self.fiscal_code.strip())


@dataclass
class Draft:
    """What the user typed so far, as typed (a wrong value is kept, to be corrected)."""

    owner: str
    round_id: str
    first_name: str = ""
    last_name: str = ""
    fiscal_code: str = ""
    address: str = ""
    members: list[Member] = field(default_factory=list)
    isee: str = ""
    other_support: str = ""  # "yes", "no" or "" (not answered)
    declared: bool = False

    def encode(self) -> str:
        raw = json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Draft | None:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            data = json.loads(raw)
            members = [Member(**m) for m in data.pop("members", [])][:MAX_OTHER_MEMBERS]
            return cls(**data, members=members)
        except (binascii.Error, ValueError, TypeError, AttributeError):
            return None


def draft_of(request: Request, session: Session) -> Draft | None:
    """The signed-in user's draft (another account's draft on this browser is not theirs)."""
    value = request.cookies.get(DRAFT_COOKIE)
    draft = Draft.decode(value) if value else None
    if draft is None or draft.owner != session.subject_id:
        return None
    return draft


def keep(request: Request, response: Response, draft: Draft) -> Response:
    set_cookie(request, response, DRAFT_COOKIE, draft.encode(), max_age=DRAFT_SECONDS)
    return response


def drop(request: Request, response: Response) -> Response:
    response.delete_cookie(
        DRAFT_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request)
    )
    return response
