"""Every page says how long it took on the server and how much of that was waiting for the
services, calls made in parallel counted once (what bench/portal_pages.py reads)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from portal.clients.base import waited_seconds
from portal.clients.catalog import CatalogClient

from ..conftest import faked_portal


def test_overlapping_calls_are_counted_once() -> None:
    assert waited_seconds([]) == 0
    assert waited_seconds([(0.0, 1.0), (0.5, 1.5), (3.0, 4.0)]) == 2.5
    assert waited_seconds([(2.0, 3.0), (0.0, 5.0)]) == 5.0  # one call inside another


def test_a_page_reports_its_total_and_the_wall_time_waiting_for_the_services(
    tmp_path: Path,
) -> None:
    async def slow_catalog(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        if request.url.path.startswith("/offerings/") and request.url.path.endswith("/slots"):
            return httpx.Response(200, json=[])
        return httpx.Response(
            200,
            json={
                "package_id": "p1",
                "title": {"it": "Pacchetto"},
                "description": {"it": "Tre servizi"},
                "parts": [
                    {"offering_id": f"o{n}", "order": n, "offset_days": 0, "duration_days": 1,
                     "required": True} for n in (1, 2, 3)
                ],
                "offering_id": "o1",
                "title_it": "x",
                "price_cents": 1000,
                "unit": "hour",
            },
        )  # fmt: skip

    with faked_portal(tmp_path, slow_catalog) as client:
        transport = httpx.MockTransport(slow_catalog)
        client.app.state.catalog = CatalogClient("http://catalog", transport=transport)  # type: ignore[attr-defined]
        # The package page asks for its three offerings, then their slots, in parallel.
        answer = client.get("/packages/p1")
    assert answer.status_code == 200, answer.text
    timing = dict(re.findall(r"(\w+);dur=([\d.]+)", answer.headers["server-timing"]))
    calls = int(re.search(r"desc=(\d+)", answer.headers["server-timing"])[1])  # type: ignore[index]
    assert calls == 7  # the package, three offerings, three slot lists
    total, waited = float(timing["total"]), float(timing["services"])
    assert 150 <= waited <= total  # three rounds of 50 ms: parallel calls counted once
    assert waited < 7 * 50
