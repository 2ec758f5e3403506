"""A small process supervisor for the local stack: starts each service in its own session,
restarts one that dies (with back-off, bounded), and stops them all, in order, on request."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

MAX_RESTARTS = 5


@dataclass
class Managed:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_restart_at: float = 0.0
    gave_up: bool = False
    history: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the supervisor, which stops us in order
            )

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)


class Supervisor:
    def __init__(self) -> None:
        self.managed: list[Managed] = []

    def add(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> Managed:
        item = Managed(name, argv, env, log_path)
        self.managed.append(item)
        return item

    def start_all(self) -> None:
        for item in self.managed:
            item.start()

    def check(self) -> None:
        """Restart what died, waiting longer after each death; give up after MAX_RESTARTS."""
        now = time.monotonic()
        for item in self.managed:
            code = item.exited()
            if code is None or item.gave_up:
                continue
            if item.next_restart_at == 0.0:
                delay = min(2**item.restarts, 30)
                item.next_restart_at = now + delay
                print(
                    f"[{item.name}] exited with {code}; restarting in {delay}s "
                    f"(log: {item.log_path})",
                    file=sys.stderr,
                )
            elif now >= item.next_restart_at:
                if item.restarts >= MAX_RESTARTS:
                    item.gave_up = True
                    print(
                        f"[{item.name}] keeps dying; giving up, see {item.log_path}",
                        file=sys.stderr,
                    )
                    continue
                item.restarts += 1
                item.next_restart_at = 0.0
                item.start()

    def stop_all(self) -> None:
        for item in reversed(self.managed):
            item.stop()
