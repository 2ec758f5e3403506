"""Each party sees only its part of a booking: a provider of a package sees its own components
(their prices, shares, deadlines and timeline), never the other providers'."""

from __future__ import annotations

from .test_http_api import Api, api, body, component  # noqa: F401 (api is a fixture)


def package(client: Api) -> str:
    payload = body(components=[component(1, "p-1"), component(2, "p-2"), component(3, "p-3")])
    payload["components"][1]["price_cents"] = 7_000
    r = client.call("POST", "/bookings", "beneficiary", "b-1", json=payload)
    assert r.status_code == 202, r.text
    return str(r.json()["booking_id"])


def test_a_provider_sees_only_its_own_components_of_a_package(api: Api) -> None:  # noqa: F811
    booking_id = package(api)
    api.hold_everything()
    whole = api.call("GET", f"/bookings/{booking_id}", "operator").json()
    assert [c["provider_id"] for c in whole["components"]] == ["p-1", "p-2", "p-3"]
    assert whole["total_cents"] == 27_000

    view = api.call("GET", f"/bookings/{booking_id}", "provider", "p-2").json()
    assert [c["provider_id"] for c in view["components"]] == ["p-2"]
    assert view["total_cents"] == 7_000
    assert sum(view["split"].values()) == 7_000
    assert {line["component"] for line in view["timeline"]} <= {None, 2}
    assert all(line["detail"] is None for line in view["timeline"] if line["component"] is None)
    assert {d["key"] for d in view["deadlines"]} == {"holds", "hold_expiry", "acceptance:2"}

    # its queue, and what its own answer returns, are filtered the same way
    pending = api.call("GET", "/providers/p-2/bookings?queue=pending", "provider", "p-2").json()
    assert [[c["provider_id"] for c in b["components"]] for b in pending] == [["p-2"]]
    assert pending[0]["total_cents"] == 7_000
    r = api.call("POST", f"/bookings/{booking_id}/components/2/accept", "provider", "p-2")
    assert r.status_code == 200, r.text
    assert [c["index"] for c in r.json()["components"]] == [2]

    # the family still sees the whole booking
    family = api.call("GET", f"/bookings/{booking_id}", "beneficiary", "b-1").json()
    assert len(family["components"]) == 3 and family["total_cents"] == 27_000


def test_a_declining_providers_words_stay_with_the_family(api: Api) -> None:  # noqa: F811
    booking_id = package(api)
    api.hold_everything()
    r = api.call(
        "POST", f"/bookings/{booking_id}/components/1/decline", "provider", "p-1",
        json={"note": "no nurse free that week"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    other = api.call("GET", f"/bookings/{booking_id}", "provider", "p-3").json()
    assert other["reason"]["code"] == "provider_declined"
    assert other["reason"]["detail"] is None
    assert "no nurse" not in str(other)
    family = api.call("GET", f"/bookings/{booking_id}", "beneficiary", "b-1").json()
    assert family["reason"]["detail"] == "no nurse free that week"
