"""Private instances of every service with an HTTP API, for the property-based API tests.

Each service runs as the kit builds it (``create_http_app``, workers off: no Kafka), on a store
and a key pair of its own in a temporary directory, and is closed afterwards with every thread
it started (the group-commit writer, the ASGI transport's event loop).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from devstack.ports import free_port
from fastapi import FastAPI
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi
from servicekit.auth import PARTY_ROLES, ROLES, DevIssuer
from servicekit.http import create_http_app
from servicekit.service import ServiceDefinition, ServiceRuntime
from servicekit.settings import ServiceSettings

# Every service of the platform; those without an HTTP API yet (no ``<name>.service``) are
# reported as skipped, and run here as soon as they get one.
SERVICES = ("catalog", "wallet", "vouchers", "notifications", "booking")

# Examples per operation and generation mode (fuzzing; the examples and coverage phases add
# their own); each is sent once per caller (8 callers). More for a longer hunt.
MAX_EXAMPLES = int(os.environ.get("BENECOMUNE_TEST_API_EXAMPLES", "10"))

# Party roles act for one party: a token of each, for a party of its own.
SUBJECT_IDS = {role: f"{role[0]}-001" for role in PARTY_ROLES}


def _has_http_api(name: str) -> bool:
    try:
        return importlib.util.find_spec(f"{name}.service") is not None
    except ModuleNotFoundError:
        return False


def _service_params() -> list[Any]:
    return [
        pytest.param(name, id=name)
        if _has_http_api(name)
        else pytest.param(
            name, id=name, marks=pytest.mark.skip(reason=f"{name} has no HTTP API yet")
        )
        for name in SERVICES
    ]


@dataclass(frozen=True)
class ServiceUnderTest:
    name: str
    runtime: ServiceRuntime
    app: FastAPI
    # Authorization headers by caller: one token of each role, and nobody ("anonymous").
    callers: dict[str, dict[str, str]]
    # One in-process client for all the calls (schemathesis's ASGI transport).
    client: asgi.ASGIClient


def _callers(settings: ServiceSettings) -> dict[str, dict[str, str]]:
    issuer = DevIssuer(settings.territory, settings.keys_dir)
    callers = {"anonymous": {}}
    for role in ROLES:
        token = issuer.mint(role, SUBJECT_IDS.get(role))
        callers[role] = {"Authorization": f"Bearer {token}"}
    return callers


def _close(runtime: ServiceRuntime) -> None:
    application = runtime.application
    batcher = application.__dict__.get("_batcher")
    if batcher is not None:
        batcher.close()
    application.close()
    vault = getattr(application, "vault", None)
    close_vault = getattr(vault, "close", None)
    if callable(close_vault):
        close_vault()


@pytest.fixture(params=_service_params(), scope="module")
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceUnderTest]:
    name: str = request.param
    definition: ServiceDefinition = importlib.import_module(f"{name}.service").DEFINITION
    root: Path = tmp_path_factory.mktemp(f"api-{name}")
    settings = definition.settings_class(
        data_dir=root / "data",
        keys_dir=root / "keys",
        store="sqlite",
        # Nothing listens there: /readyz reports Kafka missing instead of asking a real broker.
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        periodic_jobs_enabled=False,
    )
    runtime = ServiceRuntime(definition, settings)
    app = create_http_app(runtime, with_workers=False)
    threads_before = set(threading.enumerate())
    try:
        with asgi.get_client(app) as client:
            client.trust_env = False  # no proxy lookups in the environment on every call
            yield ServiceUnderTest(name, runtime, app, _callers(settings), client)
    finally:
        # The ASGI transport keeps the app's lifespan and its event loop thread until asked.
        asgi._shutdown()
        _close(runtime)
    leftover = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    assert not leftover, f"threads left running: {leftover}"


def schemathesis_config(max_examples: int) -> SchemathesisConfig:
    """Bounded and repeatable: a fixed seed, derandomised, nothing written to disk."""
    return SchemathesisConfig.from_dict(
        {
            "seed": int(os.environ.get("BENECOMUNE_TEST_API_SEED", "20260415")),
            "generation": {
                "mode": "all",  # valid data, and data the schema refuses
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",
                # The test sends each case with every role's token and with none, itself.
                "with-security-parameters": False,
                # Unknown query parameters are ignored by design, not refused.
                "allow-extra-parameters": False,
            },
        }
    )


@pytest.fixture(scope="module")
def api_schema(service: ServiceUnderTest) -> Any:
    config = schemathesis_config(MAX_EXAMPLES)
    return schemathesis.openapi.from_asgi("/openapi.json", service.app, config=config)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Schemathesis 4.32's lazy schemas read and rename a test's ``_nodeid``, which pytest 9.2
    no longer has: give it one (the reported id stays pytest's own)."""
    node: Any = request.node
    if not hasattr(node, "_nodeid"):
        node._nodeid = node.nodeid
