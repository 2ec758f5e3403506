"""``python -m <service> serve|api|relay|consume|workers|rebuild-read-models``: one entry point
for every service, assembled from the kit's parts (the HTTP layer only where an API is served).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence
from typing import Any

import structlog
import uvicorn

from servicekit.http import create_http_app
from servicekit.logging import configure_logging
from servicekit.service import ServiceDefinition, ServiceRuntime

log = structlog.get_logger(__name__)


def main(definition: ServiceDefinition, argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {definition.name}")
    parser.add_argument(
        "mode",
        choices=["serve", "api", "relay", "consume", "workers", "rebuild-read-models"],
        help="serve = API + relay + consumer in one process; the others run one part alone; "
        "rebuild-read-models drops the read models and projects the whole log again",
    )
    args = parser.parse_args(argv)
    settings = definition.settings_class()
    configure_logging(definition.name, settings.log_level)
    runtime = ServiceRuntime(definition, settings)
    if args.mode == "rebuild-read-models":
        applied = runtime.application.rebuild_read_models()
        log.info("read_models_rebuilt", events=applied)
        runtime.application.close()
        return
    if args.mode in ("serve", "api"):
        app = create_http_app(runtime, with_workers=args.mode == "serve")
        uvicorn.run(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,  # our structlog JSON handler formats uvicorn's lines too
            access_log=False,
        )
        return
    relay = args.mode in ("relay", "workers")
    consume = args.mode in ("consume", "workers")
    asyncio.run(_run_until_signalled(runtime, relay=relay, consume=consume))


async def _run_until_signalled(runtime: ServiceRuntime, *, relay: bool, consume: bool) -> Any:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if not relay and not consume:
        return None
    # The periodic jobs run where all the workers run ("workers"), not in a lone relay or
    # consumer that a fault test kills.
    await runtime.run_workers(stop, relay=relay, consume=consume, periodic=relay and consume)
    return None
