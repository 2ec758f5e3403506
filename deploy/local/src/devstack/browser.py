"""Real components for the portal's browser tests: an ASGI app served by uvicorn in a thread on a
free loopback port, Debian's headless Chromium driven by Playwright (never a browser download),
and axe-core (the npm package, injected into the page) for the WCAG 2.1 A and AA rules."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from devstack.ports import free_port

CHROMIUM = Path(os.environ.get("BENECOMUNE_CHROMIUM", "/usr/bin/chromium"))
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def wait_until_up(url: str, timeout: float = 30) -> None:
    """Wait until ``url``/healthz answers 200 (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up in {timeout} s")


class ServerThread:
    """An ASGI app served by uvicorn in a thread of the test process, on 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        wait_until_up(self.url)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium under Playwright's sync API (stopped on the way out)."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `make install` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def axe_violations(page: Any, axe_script: Path) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now (the page's context
    must bypass the CSP: the script is injected inline)."""
    page.add_script_tag(path=str(axe_script))
    violations: list[dict[str, Any]] = page.evaluate(
        """async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))
            .violations.map(v => ({id: v.id, help: v.help,
                                   nodes: v.nodes.map(n => n.target.join(' '))}))""",
        WCAG_TAGS,
    )
    return violations
