"""HTTP routes of the notifications service: the in-app inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel
from servicekit.auth import ROLES, Principal, require_roles
from servicekit.http import application_of

from notifications.application.app import NotificationsApplication
from notifications.domain.templates import render

router = APIRouter(prefix="/inbox", tags=["inbox"])


def notifications_app(request: Request) -> NotificationsApplication:
    return application_of(request, NotificationsApplication)


class NoticeView(BaseModel):
    notice_id: UUID
    template: str
    text: str
    recorded_at: datetime
    source_event_id: str
    correlation_id: str | None


def may_read(principal: Principal, recipient: str) -> bool:
    """Each reads their own inbox (a household's notices go to the inbox of the beneficiary
    who applied); the operator also reads the territory's ``household:<id>`` inboxes, where
    notices about applications of unknown applicant land."""
    if principal.subject == recipient:
        return True
    return principal.role == "operator" and recipient.startswith("household:")


@router.get("/{recipient}", summary="A recipient's newest notices (own inbox only)")
def inbox(
    recipient: str,
    lang: Literal["it", "en"] = Query("it"),
    limit: int = Query(50, ge=1, le=200),
    app: NotificationsApplication = Depends(notifications_app),
    principal: Principal = Depends(require_roles(*ROLES)),
) -> list[NoticeView]:
    if not may_read(principal, recipient):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "you can read only your own inbox")
    return [
        NoticeView(
            notice_id=notice.notice_id,
            template=notice.template,
            text=render(notice.template, notice.params, lang),
            recorded_at=notice.recorded_at,
            source_event_id=notice.source_event_id,
            correlation_id=notice.correlation_id,
        )
        for notice in app.notices_for(recipient, limit)
    ]
