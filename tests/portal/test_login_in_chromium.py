"""The demo login on the real stack: a tester picks a demo user of the territory's list by name
and lands on that role's first page, with the demo data to see; a page asked for without a
session comes back after login; the login page passes axe in Italian and English."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import PortalStack, check_page, set_language

pytestmark = [pytest.mark.browser, pytest.mark.kafka]

ERROR_TITLES = ("Qualcosa è andato storto", "Servizio non disponibile", "Something went wrong")

# A demo user of each kind, by the name the login page shows, and the role's first page.
DEMO_USERS = [
    ("Lucia Ferrero", "/me/wallet"),
    ("Il Filo Società Cooperativa Sociale ONLUS", "/provider/bookings"),
    ("Alimentari del Piazzo", "/shop/till"),
    ("Lanificio Alta Valsessera S.p.A.", "/employer/plans"),
    ("Revisore dei conti", "/auditor/monitor"),
]


def landed(page: Any, path: str) -> None:
    page.wait_for_url(f"**{path}")
    page.get_by_test_id("signed-in").wait_for()
    assert page.locator("h1").inner_text() not in ERROR_TITLES


def test_each_kind_of_demo_user_logs_in_by_name_to_their_roles_home(page: Any) -> None:
    page.goto("/login")
    check_page(page, "login-demo-users-it")
    for name, home in DEMO_USERS:
        page.goto("/login")
        page.get_by_role("button", name=f"Accedi come {name}", exact=True).click()
        landed(page, home)
        page.get_by_role("button", name="Esci").click()
        page.get_by_role("link", name="Accedi").wait_for()
        assert "bc_session" not in {c["name"] for c in page.context.cookies()}


def test_a_page_asked_for_without_a_session_comes_back_after_login(
    page: Any, stack: PortalStack
) -> None:
    set_language(page, stack, "en")
    page.goto("/me/bookings")
    page.wait_for_url("**/login?next=%2Fme%2Fbookings")
    check_page(page, "login-demo-users-en")
    assert page.get_by_text("Employee of the wool mill: a transport delivered").is_visible()
    page.get_by_role("button", name="Log in as Marco Rondi", exact=True).click()
    landed(page, "/me/bookings")
