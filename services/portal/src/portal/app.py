"""The portal's web application: one territory per instance, its theme checked on start."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from servicekit.auth import DevIssuer, verifier_from_settings
from servicekit.correlation import correlation_scope
from servicekit.http import CORRELATION_HEADER
from servicekit.territory import load_territory

from portal import i18n
from portal.access import LoginRequired, RoleRefused
from portal.clients import Services
from portal.clients.base import SERVICE_CALLS, Problem, ServiceUnavailable, waited_seconds
from portal.clients.catalog import CatalogClient
from portal.rendering import render
from portal.routes import (
    auditor,
    auth,
    bookings,
    employer,
    household,
    operator,
    provider,
    public,
    shop,
    social,
)
from portal.security import CSRF_COOKIE, CsrfError, principal, set_cookie
from portal.settings import PortalSettings
from portal.theming import check_palette, theme_css

log = structlog.get_logger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
# Everything is served by the portal itself: no CDN, no inline script or style (htmx's own
# indicator style is turned off in the page's htmx-config), no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; "
    "font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
VENDOR_DIR = STATIC_DIR / "vendor"


def create_app(settings: PortalSettings | None = None) -> FastAPI:
    settings = settings or PortalSettings()
    territory = load_territory(settings.territory, settings.territories_dir)
    palette = check_palette(territory)  # refuses a palette under 4.5:1, naming the pair
    # The demo login only where the services trust the dev key: never beside a real identity
    # provider (a JWKS URL or a public key file configured).
    dev_login = settings.dev_login and not settings.jwks_url and not settings.jwt_public_key_file
    issuer = DevIssuer(settings.territory, settings.keys_dir) if dev_login else None
    verifier = verifier_from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.catalog.close()
        await app.state.services.close()

    app = FastAPI(
        title=f"Benecomune — {territory.name}",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.territory = territory
    app.state.theme_css = theme_css(palette)
    app.state.issuer = issuer
    app.state.verifier = verifier
    app.state.catalog = CatalogClient(settings.catalog_url, settings.http_timeout_seconds)
    app.state.services = Services.from_settings(settings)

    @app.middleware("http")
    async def visitor(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        calls: list[tuple[float, float]] = []
        SERVICE_CALLS.set(calls)
        with correlation_scope(request.headers.get(CORRELATION_HEADER)) as correlation_id:
            request.state.language = i18n.choose_language(
                territory,
                request.cookies.get(i18n.LANGUAGE_COOKIE),
                request.headers.get("accept-language"),
            )
            request.state.user = principal(request, verifier)
            response = await call_next(request)
            new_csrf = getattr(request.state, "new_csrf", None)
            if new_csrf is not None:
                set_cookie(request, response, CSRF_COOKIE, new_csrf)
            response.headers[CORRELATION_HEADER] = correlation_id
            # The page's time on the server, and how much of it was spent waiting for the
            # services (wall time: calls made in parallel counted once; desc: how many calls).
            total_ms = (time.perf_counter() - started) * 1000
            waited_ms = waited_seconds(calls) * 1000
            response.headers["Server-Timing"] = (
                f"total;dur={total_ms:.1f}, services;dur={waited_ms:.1f};desc={len(calls)}"
            )
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            if not request.url.path.startswith(("/static", "/healthz", "/readyz")):
                log.info(
                    "http_request",
                    method=request.method,
                    path=request.url.path,
                    status=response.status_code,
                    ms=round((time.perf_counter() - started) * 1000, 1),
                )
            return response

    @app.exception_handler(CsrfError)
    async def csrf_refused(request: Request, error: CsrfError) -> Response:
        return render(request, "error.html", {"problem": "csrf"}, status=403)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, error: LoginRequired) -> Response:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":  # a form posted after the session ended: back to its page
            referer = urlsplit(request.headers.get("referer", ""))
            back = referer.path if referer.netloc == request.url.netloc else "/"
        return RedirectResponse(f"/login?{urlencode({'next': back})}", status_code=303)

    @app.exception_handler(RoleRefused)
    async def role_refused(request: Request, error: RoleRefused) -> Response:
        return render(request, "error.html", {"problem": "forbidden"}, status=403)

    @app.exception_handler(ServiceUnavailable)
    async def service_unavailable(request: Request, error: ServiceUnavailable) -> Response:
        log.warning("service_unavailable", service=error.service, reason=str(error))
        context = {"problem": "unavailable", "service": error.service}
        return render(request, "error.html", context, status=503)

    @app.exception_handler(Problem)
    async def service_problem(request: Request, error: Problem) -> Response:
        # A refusal no page handled itself: its title and detail, with the service's status.
        status = error.status if error.status in (400, 403, 404, 409, 410, 422) else 400
        context = {"problem": "refused", "refusal": error}
        return render(request, "error.html", context, status=status)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        ready = (VENDOR_DIR / "bootstrap-italia").is_dir()
        body = '{"status":"ready"}' if ready else '{"status":"assets missing: make install"}'
        return Response(body, status_code=200 if ready else 503, media_type="application/json")

    for area in (public, auth, household, bookings, provider, shop, social, operator):
        app.include_router(area.router)
    for area in (employer, auditor):
        app.include_router(area.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
