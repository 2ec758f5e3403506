"""The HTTP outside every service shares: correlation ids, JSON errors for domain refusals,
``/healthz``, ``/readyz`` and ``/metrics``. Routes of a service only translate HTTP into
commands and queries on its application."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import structlog
from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from servicekit.correlation import correlation_scope
from servicekit.domain import DomainError
from servicekit.health import ReadinessProbe
from servicekit.store import ServiceApplication

if TYPE_CHECKING:
    from servicekit.service import ServiceRuntime

log = structlog.get_logger(__name__)

CORRELATION_HEADER = "X-Correlation-ID"
AppT = TypeVar("AppT", bound=ServiceApplication)


def build_api(runtime: ServiceRuntime, *, lifespan: Any) -> FastAPI:
    from servicekit.auth import verifier_from_settings

    definition = runtime.definition
    api = FastAPI(
        title=definition.title,
        description=definition.description,
        version="0.1.0",
        lifespan=lifespan,
    )
    api.state.runtime = runtime
    api.state.application = runtime.application
    api.state.settings = runtime.settings
    api.state.token_verifier = verifier_from_settings(runtime.settings)
    probe = ReadinessProbe(runtime.application, runtime.settings.kafka_bootstrap)

    @api.middleware("http")
    async def correlate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        with correlation_scope(request.headers.get(CORRELATION_HEADER)) as correlation_id:
            response = await call_next(request)
            response.headers[CORRELATION_HEADER] = correlation_id
            if request.url.path not in ("/healthz", "/readyz", "/metrics"):
                log.info(
                    "http_request",
                    method=request.method,
                    path=request.url.path,
                    status=response.status_code,
                    ms=round((time.perf_counter() - started) * 1000, 1),
                )
            return response

    @api.exception_handler(DomainError)
    async def domain_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError)
        return JSONResponse(
            status_code=error.status_code,
            content={"error": error.code, "message": str(error)},
        )

    @api.get("/healthz", tags=["health"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": definition.name}

    @api.get("/readyz", tags=["health"], summary="Readiness: store and Kafka answer")
    async def readyz() -> JSONResponse:
        problems = await probe.problems()
        status = 503 if problems else 200
        body = {"status": "unready" if problems else "ready", "problems": problems}
        return JSONResponse(status_code=status, content=body)

    @api.get("/metrics", tags=["health"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in definition.routers():
        api.include_router(router)
    return api


def application_of(request: Request, app_type: type[AppT]) -> AppT:
    """The service's application, for route dependencies."""
    return cast(AppT, request.app.state.application)


# --- The auditor's comparison point (GET /audit/figures?upto=N in every ledger service) ------

AUDIT_POINT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "ledger_behind: the store does not reach that notification"}
}


def audit_point(
    upto: int = Query(
        ge=0,
        le=2**63 - 1,
        description="The last notification id the auditor's replay read (the "
        "ce_notificationid of the topic's messages): the figures are those once the events up "
        "to there were stored.",
    ),
) -> int:
    """A FastAPI dependency: the point of the ledger an auditor asks the figures for."""
    return upto
