"""Where the local stack's services listen: fixed ports (so the stack is predictable), each
overridable with ``<SERVICE>_HTTP_PORT``, on the loopback address only."""

from __future__ import annotations

import importlib.util
import os

SERVICE_PORTS = {
    "catalog": 8001,
    "wallet": 8002,
    "booking": 8003,
    "vouchers": 8004,
    "notifications": 8005,
    # The web portal (services/portal): a UI over the services' APIs, run beside them.
    "portal": 8000,
}


def existing_services() -> list[str]:
    """Services with code to run; the packages later issues fill are skipped until then."""
    return [name for name in SERVICE_PORTS if importlib.util.find_spec(f"{name}.service")]


def portal_installed() -> bool:
    """The portal owns no data and is no kit service: it is started after the services."""
    return importlib.util.find_spec("portal") is not None


def service_port(name: str) -> int:
    return int(os.environ.get(f"{name.upper()}_HTTP_PORT", SERVICE_PORTS[name]))


def service_url(name: str) -> str:
    return f"http://127.0.0.1:{service_port(name)}"
