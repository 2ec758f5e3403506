"""Jinja2 pages in the visitor's language: one environment per language, each with the Babel
catalogue installed (``{% trans %}`` and ``_()``), and the context every page needs."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from babel.numbers import format_currency
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from portal import i18n, labels, navigation
from portal.security import csrf_token

TEMPLATES_DIR = Path(__file__).parent / "templates"


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        category_labels=labels.CATEGORY_LABELS,
        delivery_labels=labels.DELIVERY_LABELS,
        unit_labels=labels.UNIT_LABELS,
        role_labels=labels.ROLE_LABELS,
        language_names=i18n.LANGUAGE_NAMES,
        navigation=navigation.entries,
    )
    env.filters["money"] = lambda cents: format_currency(cents / 100, "EUR", locale=language)
    return env


def language_of(request: Request) -> str:
    language: str = request.state.language
    return language


def translate(request: Request, message: str) -> str:
    """``message`` in the page's language (for texts a route builds, not a template)."""
    return i18n.translations(language_of(request)).gettext(message)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    state = request.app.state
    language = language_of(request)
    territory = state.territory

    def when(moment: str | datetime) -> str:
        value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        return format_datetime(
            value.astimezone(territory.zoneinfo), "EEEE d MMMM y, HH:mm", locale=language
        )

    full = {
        "request": request,
        "territory": territory,
        "lang": language,
        "languages": i18n.offered(territory),
        "user": request.state.user,
        "csrf_token": csrf_token(request),
        "current_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "dev_login": state.issuer is not None,
        "when": when,
        **(context or {}),
    }
    html = environment(language).get_template(template).render(full)
    return HTMLResponse(html, status_code=status)
