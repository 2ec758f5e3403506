"""Fixtures of the browser tests: the real catalog (``python -m catalog api`` on a free loopback
port, its own store and keys in a temporary directory, seeded through its HTTP API as the
operator and a provider would), the portal for Biella and for Matera (uvicorn in a thread, each
on a free port), and Debian's headless Chromium driven by Playwright. All are stopped at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from devstack import browser as browser_support
from devstack.browser import ServerThread, chromium, wait_until_up
from devstack.ports import free_port
from portal.app import VENDOR_DIR, create_app
from portal.settings import PortalSettings
from servicekit.auth import DevIssuer
from servicekit.settings import REPO_ROOT

AXE = VENDOR_DIR / "axe-core" / "axe.min.js"
# A screenshot of every page checked, on every run (git-ignored, like the rest of var/).
SCREENSHOTS = REPO_ROOT / "var" / "screenshots"


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("portal-browser")


PACKAGE_PROVIDERS = ("coop-il-filo", "coop-mucrone", "telecura-biellese")


@dataclass(frozen=True)
class Catalog:
    url: str
    offering_ids: dict[str, str]
    package_id: str


@pytest.fixture(scope="module")
def catalog(state_dir: Path) -> Iterator[Catalog]:
    from benecomune_cli.demo_catalog import (
        PROTECTED_DISCHARGE,
        PROTECTED_DISCHARGE_PARTS,
        PROVIDERS,
        CatalogDemo,
    )

    port = free_port()
    env = {
        **os.environ,
        "BENECOMUNE_TERRITORY": "biella",
        "BENECOMUNE_DATA_DIR": str(state_dir / "catalog"),
        "BENECOMUNE_KEYS_DIR": str(state_dir / "keys"),
        "BENECOMUNE_PERIODIC_JOBS_ENABLED": "false",
        "CATALOG_HTTP_PORT": str(port),
        "CATALOG_LOG_LEVEL": "WARNING",
    }
    log = (state_dir / "catalog.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "catalog", "api"], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        issuer = DevIssuer("biella", state_dir / "keys")
        with httpx.Client(base_url=url, timeout=10) as client:
            demo = CatalogDemo(client, issuer)
            # The home-care cooperative, the meals one and the tele-assistance company, each
            # with its offerings and slots; then the package of the three.
            for provider in PROVIDERS:
                if provider.provider_id in PACKAGE_PROVIDERS:
                    demo.onboard(provider)
            package_id = demo.compose_package(PROTECTED_DISCHARGE, PROTECTED_DISCHARGE_PARTS)
        yield Catalog(url=url, offering_ids=dict(demo.offering_ids), package_id=package_id)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def portals(state_dir: Path, catalog: Catalog) -> Iterator[dict[str, str]]:
    """The portal's URL per territory: Biella's calls the catalog, Matera's only renders."""
    urls: dict[str, str] = {}
    servers = [
        ServerThread(
            create_app(
                PortalSettings(
                    territory=territory, keys_dir=state_dir / "keys", catalog_url=catalog.url
                )
            )
        )
        for territory in ("biella", "matera")
    ]
    for territory, server in zip(("biella", "matera"), servers, strict=True):
        server.__enter__()
        urls[territory] = server.url
    try:
        yield urls
    finally:
        for server in servers:
            server.__exit__()


# Module scope, not session: Playwright's sync API runs an event loop on the main thread while
# it lives, and the asyncio tests collected after this module need that thread free again.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make install` fetches the portal's assets")
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # axe-core is injected as an inline script, which the portal's CSP refuses: bypassed here,
    # enforced in test_the_content_security_policy_refuses_nothing_the_pages_need.
    context = browser.new_context(locale="it-IT", bypass_csp=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now."""
    return browser_support.axe_violations(page, AXE)


def assert_accessible(page: Any, name: str) -> None:
    """No WCAG 2.1 A/AA violation on the page; its screenshot saved as ``name``.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"portal-{name}.png"), full_page=True)
    violations = axe_violations(page)
    assert violations == [], f"axe-core on {page.url}: {violations}"
