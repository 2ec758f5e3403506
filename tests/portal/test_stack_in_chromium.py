"""The browser tests' stack itself: every service ready with the demo loaded, the portal pointed
at them, a signed-in user gets their role's menu, and the accessibility check is not vacuous."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import AXE, PortalStack, axe_violations, check_page

pytestmark = [pytest.mark.browser, pytest.mark.kafka]


def test_every_service_is_ready_with_the_demo_loaded(stack: PortalStack) -> None:
    for service, url in stack.urls.items():
        assert httpx.get(f"{url}/readyz", timeout=5).status_code == 200, service
    with stack.api("catalog", "operator") as catalog:
        assert len(catalog.get("/packages").json()) >= 1


def test_a_signed_in_user_sees_the_menu_of_their_role(page: Any, login: Any) -> None:
    login(page, "merchant", "m-biella-001")
    page.goto("/")
    menu = page.get_by_role("navigation", name="Menu principale")
    assert menu.get_by_role("link", name="Cassa").is_visible()
    assert menu.get_by_role("link", name="Il mio borsellino").count() == 0
    check_page(page, "stack-home-merchant-it")


def test_a_page_of_another_role_is_refused_and_no_session_goes_to_login(
    page: Any, login: Any
) -> None:
    page.goto("/auditor/monitor")
    assert "/login?next=%2Fauditor%2Fmonitor" in page.url
    login(page, "merchant", "m-biella-001")
    response = page.goto("/auditor/monitor")
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text() == "Pagina non prevista per il tuo ruolo"


def test_the_theme_swap_does_change_the_colours(page: Any) -> None:
    """check_page's second pass really runs with Matera's palette (not Biella's twice)."""
    page.goto("/")
    colour = "getComputedStyle(document.querySelector('.it-header-center-wrapper')).backgroundColor"
    assert page.evaluate(colour) == "rgb(0, 103, 107)"
    from .conftest import _RESTORE_THEME, _SWAP_THEME, MATERA_THEME

    page.evaluate(_SWAP_THEME, MATERA_THEME)
    assert page.evaluate(colour) == "rgb(122, 75, 18)"
    page.evaluate(_RESTORE_THEME)
    assert page.evaluate(colour) == "rgb(0, 103, 107)"
    page.set_content('<html><body><img src="x.png"></body></html>')
    assert {v["id"] for v in axe_violations(page, AXE)} >= {"html-has-lang", "image-alt"}
