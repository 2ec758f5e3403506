"""The development login: the demo users of the territory file (who they are, what they can do),
only a listed role and subject id signed in, then the page asked for or the role's home."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from portal.app import create_app
from portal.navigation import home_of
from portal.security import CSRF_COOKIE, SESSION_COOKIE
from servicekit.auth import ROLES, DevIssuer
from servicekit.settings import ServiceSettings
from servicekit.territory import load_territory

from ..conftest import portal_settings

TERRITORIES = ServiceSettings().territories_dir


def csrf_of(client: TestClient, path: str = "/login") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def buttons(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-role="([a-z_]+)" data-subject-id="([^"]*)"', html)


def test_the_page_lists_biellas_demo_users_with_names_and_what_they_can_do(
    client: TestClient,
) -> None:
    page = client.get("/login").text
    listed = buttons(page)
    assert ("provider", "coop-il-filo") in listed
    assert ("provider", "coop-mucrone") in listed and ("provider", "telecura-biellese") in listed
    for beneficiary in ("b-biella-001", "b-biella-101", "b-biella-015"):
        assert ("beneficiary", beneficiary) in listed
    assert ("employer", "e-biella-001") in listed and ("employer", "e-biella-002") in listed
    assert ("merchant", "m-biella-001") in listed
    assert {"operator", "social_worker", "auditor"} <= {role for role, _ in listed}
    assert set(ROLES) == {role for role, _ in listed}
    assert "Accedi come Lucia Ferrero" in page and "Accedi come Marco Rondi" in page
    assert "Identificativo: b-biella-001" in page
    assert "Lanificio Alta Valsessera S.p.A." in page
    assert "Delegata di Lucia Ferrero" in page  # the note, in the page's language
    # Grouped by role under a heading each, every button a distinct name.
    assert page.count("<h3") == len(ROLES)
    names = re.findall(r"data-subject-id=\"[^\"]*\">([^<]+)</button>", page)
    assert len(names) == len(set(names)) == len(listed)


def test_the_notes_follow_the_language(client: TestClient) -> None:
    client.cookies.set("bc_lang", "en")
    page = client.get("/login").text
    assert "Log in as Lucia Ferrero" in page and "Lucia Ferrero&#39;s delegate" in page
    assert "Delegata di Lucia Ferrero" not in page


def test_matera_lists_its_own_few(tmp_path: Path) -> None:
    app = create_app(portal_settings(tmp_path, territory="matera"))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        listed = buttons(client.get("/login").text)
    matera = load_territory("matera", TERRITORIES)
    assert listed == [(u.role, u.subject_id or "") for u in matera.demo_users]  # its order


def test_a_territory_without_a_list_offers_one_user_per_role(tmp_path: Path) -> None:
    territories = tmp_path / "territories"
    territories.mkdir()
    source = (TERRITORIES / "matera.toml").read_text(encoding="utf-8")
    (territories / "matera.toml").write_text(source.split("[[demo_users]]")[0], encoding="utf-8")
    (territories / "branding").symlink_to(TERRITORIES / "branding")
    app = create_app(portal_settings(tmp_path, territory="matera", territories_dir=territories))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        listed = buttons(client.get("/login").text)
        assert [role for role, _ in listed] == list(ROLES)
        assert ("merchant", "m-matera-001") in listed and ("operator", "") in listed
        done = client.post(
            "/login",
            data={"role": "employer", "subject_id": "e-matera-001", "csrf_token": csrf_of(client)},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"] == home_of("employer")


@pytest.mark.parametrize(
    ("role", "subject_id", "home"),
    [
        ("beneficiary", "b-biella-015", "/me/wallet"),
        ("provider", "telecura-biellese", "/provider/bookings"),
        ("employer", "e-biella-002", "/employer/plans"),
        ("merchant", "m-biella-001", "/shop/till"),
        ("operator", "", "/operator/providers"),
        ("auditor", "", "/auditor/monitor"),
    ],
)
def test_a_listed_user_is_signed_in_as_that_subject_and_goes_to_the_roles_home(
    client: TestClient, tmp_path: Path, role: str, subject_id: str, home: str
) -> None:
    form = {"role": role, "subject_id": subject_id, "csrf_token": csrf_of(client), "next": ""}
    done = client.post("/login", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == home == home_of(role)
    user = DevIssuer("biella", tmp_path / "keys").verifier().verify(client.cookies[SESSION_COOKIE])
    assert user.role == role and user.subject_id == (subject_id or None)


def test_after_login_the_page_asked_for(client: TestClient) -> None:
    login = client.get("/login?next=/me/bookings")
    assert 'name="next" value="/me/bookings"' in login.text
    done = client.post(
        "/login",
        data={
            "role": "beneficiary",
            "subject_id": "b-biella-101",
            "csrf_token": csrf_of(client),
            "next": "/me/bookings",
        },
        follow_redirects=False,
    )
    assert done.headers["location"] == "/me/bookings"
    # Never another site, never back to the login page itself.
    for unsafe in ("https://evil.example/", "//evil.example", "/login?next=/"):
        client.cookies.delete(SESSION_COOKIE)
        again = client.post(
            "/login",
            data={
                "role": "auditor",
                "subject_id": "",
                "csrf_token": client.cookies[CSRF_COOKIE],
                "next": unsafe,
            },
            follow_redirects=False,
        )
        assert again.headers["location"] in ("/", home_of("auditor")), unsafe


@pytest.mark.parametrize(
    ("role", "subject_id"),
    [
        ("beneficiary", "b-biella-002"),  # a real person of the demo, but not listed
        ("provider", ""),  # a party role without its subject
        ("provider", "coop-la-bessa"),
        ("beneficiary", "coop-il-filo"),  # a listed id under another role
        ("operator", "someone"),  # a territory role with a subject
        ("mayor", ""),
    ],
)
def test_a_pair_not_in_the_list_is_refused_without_a_session(
    client: TestClient, role: str, subject_id: str
) -> None:
    refused = client.post(
        "/login",
        data={"role": role, "subject_id": subject_id, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert refused.status_code == 400
    assert "Questo utente non è tra gli utenti demo del territorio." in refused.text
    assert SESSION_COOKIE not in client.cookies
    assert 'role="alert"' in refused.text and "data-role=" in refused.text  # choose again


def test_the_login_page_without_next_sends_to_the_home_of_the_role(client: TestClient) -> None:
    assert 'name="next" value=""' in client.get("/login").text
