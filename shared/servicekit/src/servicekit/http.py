"""The HTTP outside every service shares: correlation ids, RFC 9457 problem details for every
refusal, a request body limit, the OpenAPI page with local assets, ``/healthz``, ``/readyz`` and
``/metrics``. Routes of a service only translate HTTP into
commands and queries on its application."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal, TypeVar, cast

import structlog
from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from servicekit.correlation import correlation_scope
from servicekit.docs_page import install_docs_page
from servicekit.health import ReadinessProbe
from servicekit.http_limits import BodyLimitProblems
from servicekit.problems import install_problem_handlers, problem_openapi
from servicekit.service import ServiceRuntime
from servicekit.store import ServiceApplication

log = structlog.get_logger(__name__)

CORRELATION_HEADER = "X-Correlation-ID"
AppT = TypeVar("AppT", bound=ServiceApplication)


class Readiness(BaseModel):
    status: Literal["ready", "unready"]
    problems: list[str]


def build_api(runtime: ServiceRuntime, *, lifespan: Any) -> FastAPI:
    from servicekit.auth import verifier_from_settings

    definition = runtime.definition
    api = FastAPI(
        title=definition.title,
        description=definition.description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
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

    install_problem_handlers(api)
    # Larger bodies answer 413, declared or counted as they arrive (never held whole).
    limit = runtime.settings.http_max_body_bytes
    api.add_middleware(RequestBodyLimitMiddleware, max_body_size=limit)
    api.add_middleware(BodyLimitProblems, max_bytes=limit)  # outside it: sees its answers
    install_docs_page(api)

    @api.get("/healthz", tags=["health"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": definition.name}

    @api.get(
        "/readyz",
        tags=["health"],
        summary="Readiness: store and Kafka answer",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Not ready: the problems say why"}},
    )
    async def readyz() -> JSONResponse:
        problems = await probe.problems()
        status = 503 if problems else 200
        body = {"status": "unready" if problems else "ready", "problems": problems}
        return JSONResponse(status_code=status, content=body)

    @api.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,  # documented as text/plain, as Prometheus serves it
    )
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in definition.routers():
        api.include_router(router)
    api.openapi = lambda: problem_openapi(api)  # type: ignore[method-assign]
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


def create_http_app(runtime: ServiceRuntime, *, with_workers: bool) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        # Read models catch up with the log before the first query is served.
        await asyncio.to_thread(runtime.application.catch_up_read_models)
        workers = (
            asyncio.create_task(runtime.run_workers(stop, relay=True, consume=True, periodic=True))
            if with_workers
            else None
        )
        try:
            yield
        finally:
            stop.set()
            if workers is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(workers, timeout=15)

    return build_api(runtime, lifespan=lifespan)
