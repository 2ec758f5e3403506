"""Helpers for integration tests: service processes on the real broker, bounded waits."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def wait_until(
    probe: Callable[[], T], *, timeout: float, interval: float = 0.2, what: str = "condition"
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T = probe()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)
        last = probe()
    return last


@dataclass
class StackConfig:
    """What every service process of one test shares."""

    bootstrap: str
    topic_prefix: str
    root: Path
    keys_dir: Path
    store: str = "sqlite"
    postgres: dict[str, str] = field(default_factory=dict)

    def env(self, service: str, **extra: Any) -> dict[str, str]:
        env = {
            **os.environ,
            "BENECOMUNE_KAFKA_BOOTSTRAP": self.bootstrap,
            "BENECOMUNE_KAFKA_TOPIC_PREFIX": self.topic_prefix,
            "BENECOMUNE_KEYS_DIR": str(self.keys_dir),
            "BENECOMUNE_STORE": self.store,
            "BENECOMUNE_RELAY_IDLE_POLL_SECONDS": "0.05",
            f"{service.upper()}_DATA_DIR": str(self.root / service),
            "PYTHONUNBUFFERED": "1",
        }
        if self.store == "postgres":
            env.update({f"BENECOMUNE_POSTGRES_{k.upper()}": v for k, v in self.postgres.items()})
            env[f"{service.upper()}_POSTGRES_SCHEMA"] = service
        env.update({f"{service.upper()}_{k.upper()}": str(v) for k, v in extra.items()})
        return env

    def settings_kwargs(self, service: str) -> dict[str, Any]:
        """The same configuration for an application built inside the test process."""
        kwargs: dict[str, Any] = {
            "kafka_bootstrap": self.bootstrap,
            "kafka_topic_prefix": self.topic_prefix,
            "keys_dir": self.keys_dir,
            "store": self.store,
            "data_dir": self.root / service,
        }
        if self.store == "postgres":
            kwargs.update({f"postgres_{k}": v for k, v in self.postgres.items()})
            kwargs["postgres_schema"] = service
        return kwargs


class ServiceProcess:
    """One service process (``python -m <service> <mode>``) that a test can kill -9."""

    def __init__(self, service: str, mode: str, env: dict[str, str], log_dir: Path) -> None:
        self.service = service
        self.mode = mode
        self.env = env
        self.log_path = log_dir / f"{service}-{mode}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> ServiceProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.service, self.mode],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.starts += 1
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_log(self, marker: str, count: int, timeout: float) -> bool:
        """Wait until ``marker`` is in the process's log ``count`` times (across its starts);
        False if it is not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # bounded by the deadline
            if (
                self.log_path.exists()
                and self.log_path.read_text(errors="replace").count(marker) >= count
            ):
                return True
            time.sleep(0.05)
        return False

    def kill9(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def ready(base_url: str) -> bool:
    """Whether a service answers its readiness probe."""
    try:
        return httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def serving(config: StackConfig, workdir: Path, *services: str) -> Iterator[dict[str, str]]:
    """Each service's ``serve`` process (API, relay, consumer) on a free port, ready; yields
    their base URLs by service. Every process is stopped on the way out."""
    from devstack.ports import free_port

    ports = {service: free_port() for service in services}
    processes = []
    try:
        for service, port in ports.items():
            env = config.env(service, http_port=port, consumer_instance_id=f"{service}-0")
            processes.append(ServiceProcess(service, "serve", env, workdir).start())
        urls = {service: f"http://127.0.0.1:{port}" for service, port in ports.items()}
        for url in urls.values():
            wait_until(lambda url=url: ready(url), timeout=60, what=f"{url}/readyz")
        yield urls
    finally:
        for process in processes:
            process.stop()
