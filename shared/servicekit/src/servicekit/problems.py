"""One error shape for every service: RFC 9457 problem details.

Every refusal — a domain rule, a missing token, a malformed body, an unknown route — answers
``application/problem+json`` with ``type``, ``title``, ``status``, ``detail`` and a stable
machine-readable ``code``; a validation error adds ``errors`` (one entry per field: where, what,
why), and a domain error adds the figures a client must act on (``DomainError(**fields)``).
The OpenAPI of every service declares these answers on each operation that can give them.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicekit.domain import Conflict, DomainError, Forbidden, Gone, Invalid, NotFound

log = structlog.get_logger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:benecomune:problem:"

# The code an answer gets when whoever raised it named none.
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


# The HTTP status of each kind of domain error: the first kind in the error's class order wins
# (an error that is both a conflict and not-found answers as the base listed first).
STATUS_OF_KIND: dict[type[DomainError], int] = {
    Invalid: 422,
    NotFound: 404,
    Forbidden: 403,
    Gone: 410,
    Conflict: 409,
    DomainError: 422,
}


def status_of(error: DomainError) -> int:
    for kind in type(error).__mro__:
        status = STATUS_OF_KIND.get(kind)  # type: ignore[call-overload]
        if status is not None:
            return status
    return 422


class FieldError(BaseModel):
    field: str = Field(description="Where: the part of the request and the path to the field")
    message: str
    type: str = Field(description="A stable name of the check that failed")


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable ``code``; other members carry figures."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:benecomune:problem:insufficient_balance"])
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable, machine-readable cause of the refusal")
    errors: list[FieldError] | None = Field(
        default=None, description="For validation_failed: each field that was refused"
    )


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": title or _status_title(status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({k: v for k, v in fields.items() if k not in body})
    return JSONResponse(
        status_code=status, content=body, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def _status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _field_errors(error: RequestValidationError) -> list[dict[str, str]]:
    return [
        {
            "field": ".".join(str(part) for part in item.get("loc", ())),
            "message": str(item.get("msg", "")),
            "type": str(item.get("type", "")),
        }
        for item in error.errors()
    ]


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    return problem(status_of(error), error.code, str(error), title=error.title, **error.fields)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    code = STATUS_CODES.get(status, f"http_{status}")
    detail: Any = error.detail
    extra: dict[str, Any] = {}
    if isinstance(detail, dict):  # {"code": ..., "message": ...} from the auth layer
        code = str(detail.get("code", code))
        extra = {k: v for k, v in detail.items() if k not in ("code", "message")}
        detail = detail.get("message", _status_title(status))
    elif not isinstance(detail, str):
        detail = str(detail)
    headers = dict(error.headers) if error.headers else None
    return problem(status, code, detail, headers=headers, **extra)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = _field_errors(error)
    first = errors[0] if errors else {"field": "request", "message": "is not valid"}
    detail = f"{first['field']}: {first['message']}"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    title = "The request is not valid"
    return problem(422, "validation_failed", detail, title=title, errors=errors)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path)
    return problem(500, "internal_error", "An unexpected error occurred; it has been logged.")


def install_problem_handlers(api: FastAPI) -> None:
    api.add_exception_handler(DomainError, _domain_error)
    api.add_exception_handler(StarletteHTTPException, _http_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(Exception, _unexpected_error)


# --- OpenAPI: every operation declares the problems it can answer ---------------------------

_DESCRIPTIONS = {
    "400": "The request body cannot be read at all, e.g. it is not UTF-8 (`bad_request`)",
    "401": "Missing, expired or invalid bearer token (`missing_token`, `invalid_token`)",
    "403": "The token's role or subject may not do this (`forbidden_role`, `forbidden_subject`)",
    "404": "Something the path names does not exist (`not_found`)",
    "409": "The request conflicts with the current state (a duplicate, a transition refused)",
    "413": "The request body is larger than this service accepts (`payload_too_large`)",
    "422": "The request is not valid (`validation_failed` with `errors`) or breaks a domain rule",
}
_MUTATING = {"post", "put", "patch", "delete"}


def _problem_answers(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    answers = []
    if operation.get("requestBody"):
        answers.append("400")
    if operation.get("security"):
        answers += ["401", "403"]
    if "{" in path:
        answers.append("404")
    if method in _MUTATING:
        answers += ["409", "413"]
    if operation.get("parameters") or operation.get("requestBody") or method in _MUTATING:
        answers.append("422")
    return answers


def problem_openapi(api: FastAPI) -> dict[str, Any]:
    """The service's OpenAPI with the Problem schema and each operation's problem answers."""
    if api.openapi_schema:
        return api.openapi_schema
    schema = get_openapi(
        title=api.title, version=api.version, description=api.description, routes=api.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(components["Problem"].pop("$defs", {}))
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in _problem_answers(path, method, operation):
                answer = responses.setdefault(status, {"description": _DESCRIPTIONS[status]})
                answer["content"] = content
            # A refusal a route declares itself (410 offering_withdrawn, 409 ledger_behind...)
            # is problem details too.
            for status, answer in responses.items():
                if status.startswith("4") and not answer.get("content"):
                    answer["content"] = content
    api.openapi_schema = schema
    return schema
