"""The pages in-process: security of the session and forms (CSRF, cookie flags), the language
switch, the login and logout, and the pages when the catalog cannot be reached."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from portal.app import create_app
from portal.clients.catalog import CatalogClient
from portal.routes.public import euro_to_cents, safe_next
from portal.security import CSRF_COOKIE, SESSION_COOKIE
from servicekit.auth import DevIssuer

from ..conftest import portal_settings


def csrf_of(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "every form carries the CSRF token"
    return found.group(1)


def test_the_csrf_cookie_is_http_only_and_lax_and_matches_the_forms(client: TestClient) -> None:
    page = client.get("/")
    header = page.headers["set-cookie"]
    assert header.startswith(f"{CSRF_COOKIE}=")
    assert "HttpOnly" in header and "SameSite=lax" in header
    assert "Secure" not in header  # plain http on the loopback
    assert client.cookies[CSRF_COOKIE] in page.text


def test_a_post_without_the_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/")
    for path, data in [
        ("/login", {"role": "operator"}),
        ("/logout", {}),
        ("/language", {"language": "en"}),
    ]:
        refused = client.post(path, data=data, follow_redirects=False)
        assert refused.status_code == 403, path
        assert "Il modulo è scaduto" in refused.text
        wrong = client.post(path, data={**data, "csrf_token": "x" * 43}, follow_redirects=False)
        assert wrong.status_code == 403, path
    assert SESSION_COOKIE not in client.cookies


def test_login_sets_an_http_only_session_and_logout_ends_it(client: TestClient) -> None:
    token = csrf_of(client, "/login")
    signed_in = client.post(
        "/login",
        data={"role": "provider", "subject_id": "coop-il-filo", "csrf_token": token},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/provider/bookings"  # the role's home
    cookies = signed_in.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in session and "SameSite=lax" in session
    assert client.cookies[CSRF_COOKIE] != token  # a new CSRF token after login
    home = client.get("/")
    assert "Accesso come Ente erogatore" in home.text and "coop-il-filo" in home.text
    out = client.post("/logout", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
    assert out.status_code == 303
    assert SESSION_COOKIE not in client.cookies
    assert "Accedi" in client.get("/").text


def test_cookies_are_secure_outside_the_loopback(tmp_path: Path) -> None:
    app = create_app(portal_settings(tmp_path))
    with TestClient(app, base_url="https://welfare.example.it") as remote:
        assert "Secure" in remote.get("/").headers["set-cookie"]


def test_a_forged_session_is_a_visitor(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "not.a.token")
    assert "Accedi" in client.get("/").text


def test_the_language_switch_is_kept_in_a_cookie(client: TestClient) -> None:
    assert "Cerca un servizio" in client.get("/").text
    switched = client.post(
        "/language",
        data={"language": "en", "csrf_token": csrf_of(client), "next": "/login"},
        follow_redirects=False,
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    page = client.get("/", headers={"Accept-Language": "it"})
    assert '<html lang="en">' in page.text and "Find a service" in page.text


def test_the_browser_language_is_used_without_a_choice(client: TestClient) -> None:
    page = client.get("/", headers={"Accept-Language": "en-US,en;q=0.8"})
    assert '<html lang="en">' in page.text


def test_redirects_stay_on_the_portal() -> None:
    assert safe_next("/search?q=x") == "/search?q=x"
    for target in ("https://evil.example", "//evil.example", "/\\evil", None, ""):
        assert safe_next(target) == "/"


def test_prices_in_euro_become_cents() -> None:
    assert euro_to_cents("12,50") == 1250
    assert euro_to_cents(" 3 ") == 300
    assert euro_to_cents("abc") is None
    assert euro_to_cents("-1") is None


def test_pages_say_so_when_the_catalog_is_down(client: TestClient) -> None:
    search = client.get("/search?q=assistenza")
    assert search.status_code == 503
    assert "non è raggiungibile" in search.text
    offering = client.get("/offerings/5f0c7a35-9d7e-4a53-8f51-3d2c8f1f2b11")
    assert offering.status_code == 503


def test_the_territory_theme_and_logo_are_served(client: TestClient) -> None:
    css = client.get("/theme.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "--bs-primary: #00676B;" in css.text
    assert client.get("/logo.svg").headers["content-type"] == "image/svg+xml"
    assert client.get("/healthz").json() == {"status": "ok"}


def test_htmx_gets_the_results_alone_and_history_gets_the_page(client: TestClient) -> None:
    partial = client.get("/search?q=x", headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "alert" in partial.text
    assert "HX-Request" in partial.headers["vary"]
    restored = client.get(
        "/search?q=x", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restored.text


def test_login_comes_back_to_the_page_it_was_asked_from(client: TestClient) -> None:
    page = client.get("/search?q=casa")
    assert 'href="/login?next=/search%3Fq%3Dcasa"' in page.text
    login = client.get("/login?next=/search%3Fq%3Dcasa")
    assert 'name="next" value="/search?q=casa"' in login.text
    done = client.post(
        "/login",
        data={"role": "auditor", "csrf_token": csrf_of(client, "/login"), "next": "/search?q=casa"},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/search?q=casa"


def test_many_results_are_paged_keeping_the_filters(tmp_path: Path) -> None:
    def catalog(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        item = {
            "offering_id": "5f0c7a35-9d7e-4a53-8f51-3d2c8f1f2b11",
            "title_it": f"Servizio {page}",
            "title_en": f"Service {page}",
            "description_it": "d",
            "description_en": "d",
            "category": "elderly_care",
            "delivery_mode": "at_home",
            "price_cents": 1000,
            "unit": "hour",
        }
        return httpx.Response(
            200, json={"total": 45, "page": page, "page_size": 20, "items": [item]}
        )

    app = create_app(portal_settings(tmp_path))
    app.state.catalog = CatalogClient("http://catalog.test", transport=httpx.MockTransport(catalog))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        first = client.get("/search?q=casa&delivery_mode=at_home")
        assert "45 servizi trovati" in first.text and "Servizio 1" in first.text
        assert "Pagina precedente" not in first.text
        assert 'href="/search?q=casa&amp;municipality=&amp;category=&amp;delivery_mode=at_home' in (
            first.text
        )
        last = client.get("/search?q=casa&page=3")
        assert "Pagina precedente" in last.text and "Pagina successiva" not in last.text


def test_no_demo_login_beside_a_real_identity_provider(tmp_path: Path) -> None:
    key = tmp_path / "idp.pem"
    key.write_bytes(DevIssuer("biella", tmp_path / "idp").public_key_pem)
    app = create_app(portal_settings(tmp_path, jwt_public_key_file=key))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        page = client.get("/login")
        assert "data-role=" not in page.text
        refused = client.post(
            "/login",
            data={"role": "operator", "csrf_token": csrf_of(client, "/login")},
            follow_redirects=False,
        )
        assert refused.status_code == 400 and SESSION_COOKIE not in client.cookies
