"""The portal on the real stack, in real headless Chromium.

- ``stack`` (once per session): the session's Kafka broker, every service's ``serve`` process on
  a free loopback port with its own store and topic prefix, the territory's demo data loaded
  through the services' APIs (the same loaders as ``make run``), and Biella's portal served in a
  thread, pointed at them. With ``BENECOMUNE_PORTAL_TEST_STACK=local`` the tests use the stack of
  a running ``make run`` instead (its fixed ports and keys), and only start their own portal.
- ``page``: a fresh Chromium page (Italian), ``login(page, role, subject_id)`` signs it in with a
  token from the dev issuer (the login page itself is tested on its own), and
  ``check_page(page, name)`` saves a screenshot and asserts axe-core finds no WCAG 2.1 A/AA
  violation, in Biella's theme and again with Matera's palette swapped in.

Every process started here is stopped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from devstack.browser import ServerThread, axe_violations, chromium
from portal.app import VENDOR_DIR, create_app
from portal.settings import PortalSettings
from portal.theming import check_palette, theme_css
from servicekit.auth import DevIssuer
from servicekit.settings import REPO_ROOT, ServiceSettings
from servicekit.territory import load_territory

from ..integration.support import StackConfig, serving

SERVICES = ("catalog", "wallet", "booking", "vouchers", "notifications")
LOCAL_PORTS = {"catalog": 8001, "wallet": 8002, "booking": 8003, "vouchers": 8004}
LOCAL_PORTS["notifications"] = 8005
AXE = VENDOR_DIR / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
MATERA_THEME = theme_css(check_palette(load_territory("matera", ServiceSettings().territories_dir)))


@dataclass
class PortalStack:
    """The running stack: the services' URLs, the portal's, and the dev issuer they trust."""

    urls: dict[str, str]
    portal_url: str
    issuer: DevIssuer
    bootstrap: str
    topic_prefix: str
    demo: dict[str, list[str]]

    def token(self, role: str, subject_id: str | None = None) -> str:
        return self.issuer.mint(role, subject_id)

    def api(self, service: str, role: str, subject_id: str | None = None) -> httpx.Client:
        """A client of ``service``'s HTTP API acting as ``role`` (close it, or use ``with``)."""
        headers = {"Authorization": f"Bearer {self.token(role, subject_id)}"}
        return httpx.Client(base_url=self.urls[service], headers=headers, timeout=30)


def load_demo(urls: dict[str, str], issuer: DevIssuer) -> dict[str, list[str]]:
    """The territory's demo, service by service, as ``make run`` loads it."""
    from benecomune_cli import demo, demo_booking

    loaded: dict[str, list[str]] = {}
    for service, loader in demo.demo_loaders().items():
        with httpx.Client(base_url=urls[service], timeout=60) as client:
            if service == "booking":  # the booking demo also calls the catalog and the wallet
                booking_demo = demo_booking.BookingDemo(client, issuer, urls)
                try:
                    loaded[service] = booking_demo.load()
                finally:
                    booking_demo.close()
            else:
                loaded[service] = loader(client, issuer)
    return loaded


def portal_settings(
    urls: dict[str, str], keys_dir: Path, bootstrap: str, topic_prefix: str
) -> PortalSettings:
    """Biella's portal on these services (and their topics, which the auditor's pages replay)."""
    return PortalSettings(
        territory="biella",
        keys_dir=keys_dir,
        kafka_bootstrap=bootstrap,
        kafka_topic_prefix=topic_prefix,
        **{f"{service}_url": url for service, url in urls.items()},  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[PortalStack]:
    if os.environ.get("BENECOMUNE_PORTAL_TEST_STACK") == "local":
        urls = {name: f"http://127.0.0.1:{port}" for name, port in LOCAL_PORTS.items()}
        keys_dir = ServiceSettings().keys_dir
        settings = portal_settings(urls, keys_dir, "127.0.0.1:9092", "")
        with ServerThread(create_app(settings)) as portal:
            yield PortalStack(
                urls, portal.url, DevIssuer("biella", keys_dir), "127.0.0.1:9092", "", {}
            )
        return
    bootstrap: str = request.getfixturevalue("kafka_bootstrap")
    root = tmp_path_factory.mktemp("portal-stack")
    config = StackConfig(
        bootstrap=bootstrap,
        topic_prefix=f"p{uuid.uuid4().hex[:10]}.",
        root=root / "data",
        keys_dir=root / "keys",
    )
    with serving(config, root, *SERVICES) as urls:
        issuer = DevIssuer("biella", config.keys_dir)
        loaded = load_demo(urls, issuer)
        settings = portal_settings(urls, config.keys_dir, bootstrap, config.topic_prefix)
        with ServerThread(create_app(settings)) as portal:
            yield PortalStack(urls, portal.url, issuer, bootstrap, config.topic_prefix, loaded)


# Module scope, not session: Playwright's sync API runs an event loop on the main thread while
# it lives, and the asyncio tests collected after this module need that thread free again.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make install` fetches the portal's assets")
    with chromium() as launched:
        yield launched


def new_page(browser: Any, stack: PortalStack, locale: str = "it-IT") -> Any:
    """A page in a context of its own (cookies included, ``page.goto("/path")`` on the portal);
    close it with ``page.context.close()``. axe-core is injected inline, which the portal's CSP
    refuses: bypassed in the tests' pages."""
    context = browser.new_context(locale=locale, bypass_csp=True, base_url=stack.portal_url)
    return context.new_page()


@pytest.fixture
def page(browser: Any, stack: PortalStack) -> Iterator[Any]:
    opened = new_page(browser, stack)
    try:
        yield opened
    finally:
        opened.context.close()


@pytest.fixture
def login(stack: PortalStack) -> Callable[..., None]:
    """``login(page, role, subject_id=None)``: sign the page's browser in."""

    def sign_in(page: Any, role: str, subject_id: str | None = None) -> None:
        sign_page_in(page, stack, role, subject_id)

    return sign_in


def sign_page_in(page: Any, stack: PortalStack, role: str, subject_id: str | None = None) -> None:
    """Sign ``page``'s browser in as ``role`` (``subject_id`` for a party), as the login would."""
    page.context.add_cookies(
        [
            {
                "name": "bc_session",
                "value": stack.token(role, subject_id),
                "url": stack.portal_url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )


def set_language(page: Any, stack: PortalStack, language: str) -> None:
    """The user's language choice (what the language buttons store), for the next page load."""
    page.context.add_cookies(
        [{"name": "bc_lang", "value": language, "url": stack.portal_url, "sameSite": "Lax"}]
    )


_SWAP_THEME = """(css) => new Promise((resolve) => {
    const link = document.querySelector('link[href="/theme.css"]');
    const style = document.createElement('style');
    style.id = 'bc-test-theme';
    style.textContent = css;
    if (link) { link.disabled = true; }
    document.head.appendChild(style);
    requestAnimationFrame(() => requestAnimationFrame(resolve));
})"""
_RESTORE_THEME = """() => {
    const link = document.querySelector('link[href="/theme.css"]');
    if (link) { link.disabled = false; }
    document.getElementById('bc-test-theme')?.remove();
}"""


def check_page(page: Any, name: str) -> None:
    """Screenshot ``name`` (var/screenshots/portal-<name>.png); no WCAG 2.1 A/AA violation in
    Biella's theme nor with Matera's palette in its place (the other territory's colours on the
    same page: what the contrast rules depend on)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"portal-{name}.png"), full_page=True)
    violations = axe_violations(page, AXE)
    assert violations == [], f"axe-core on {page.url} (Biella's theme): {violations}"
    page.evaluate(_SWAP_THEME, MATERA_THEME)
    try:
        violations = axe_violations(page, AXE)
    finally:
        page.evaluate(_RESTORE_THEME)
    assert violations == [], f"axe-core on {page.url} (Matera's theme): {violations}"
