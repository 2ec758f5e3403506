"""Property-based tests of every service's HTTP API against its own OpenAPI document.

Schemathesis generates requests for each operation from the schema the service publishes
(valid data and, in a second mode, data the schema refuses) and sends each one with a token of
every role and with none. Whoever calls and whatever is sent, the service must answer within
its documented contract: never a server error, only documented status codes and content types,
and bodies that match the documented schema (refusals: RFC 9457 problem details).
"""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import ServiceUnderTest

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

api_schema = schemathesis.pytest.from_fixture("api_schema")


# /readyz answers 503 by design while Kafka is away (it is, here): documented, not a fault.
READINESS_CHECKS = [check for check in CHECKS if check is not not_a_server_error]


@api_schema.parametrize()
def test_every_operation_answers_as_documented(case: Any, service: ServiceUnderTest) -> None:
    checks = READINESS_CHECKS if case.operation.path == "/readyz" else CHECKS
    for caller, headers in service.callers.items():
        hypothesis.note(f"caller: {caller}")
        case.call_and_validate(session=service.client, headers=headers, checks=checks)


def test_every_documented_answer_names_its_media_type(service: ServiceUnderTest) -> None:
    """What the checks above compare with: every refusal an operation documents is problem
    details, every success JSON (the metrics excepted: Prometheus text)."""
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for path, operations in service.app.openapi()["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                content = answer.get("content", {})
                where = f"{method.upper()} {path} {status}"
                if status.startswith("4"):
                    assert content == {"application/problem+json": problem}, where
                elif path == "/metrics":
                    assert list(content) == ["text/plain"], where
                else:
                    assert list(content) == ["application/json"], where
