"""Services as real processes for benchmarks: each ``python -m <service> serve`` (API, relay and
consumer) on a free loopback port with its own SQLite store in a root directory, ready before
use and stopped (SIGTERM, then SIGKILL) on the way out; every wait bounded."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from devstack.ports import free_port


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def serving(
    names: Sequence[str],
    root: Path,
    bootstrap: str,
    *,
    idle_poll: float = 0.05,
    topic_prefix: str = "bench.",
    ready_timeout: float = 120.0,
) -> Iterator[dict[str, Service]]:
    """Each named service's ``serve`` process, ready; keys in ``root/keys``."""
    running: dict[str, Service] = {}
    try:
        for name in names:
            port = free_port()
            env = {
                **os.environ,
                "BENECOMUNE_KAFKA_BOOTSTRAP": bootstrap,
                "BENECOMUNE_KAFKA_TOPIC_PREFIX": topic_prefix,
                "BENECOMUNE_KEYS_DIR": str(root / "keys"),
                "BENECOMUNE_STORE": "sqlite",
                "BENECOMUNE_RELAY_IDLE_POLL_SECONDS": str(idle_poll),
                f"{name.upper()}_DATA_DIR": str(root / "data" / name),
                f"{name.upper()}_HTTP_PORT": str(port),
                f"{name.upper()}_HTTP_HOST": "127.0.0.1",
                f"{name.upper()}_CONSUMER_INSTANCE_ID": f"{name}-0",
                f"{name.upper()}_LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
            log = root / f"{name}.log"
            with log.open("ab") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", name, "serve"], env=env, stdout=out,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            running[name] = Service(name, f"http://127.0.0.1:{port}", process, log)
        deadline = time.monotonic() + ready_timeout
        for service in running.values():
            while not ready(service.url):  # bounded by the deadline
                if service.process.poll() is not None or time.monotonic() > deadline:
                    tail = service.log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{service.name} did not start:\n{tail}")
                time.sleep(0.1)
        yield running
    finally:
        for service in running.values():
            service.stop()
