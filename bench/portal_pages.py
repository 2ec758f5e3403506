"""The portal's main pages with the demo data: server time p95 per page (issue 18, goal < 150 ms),
with the services' own API time beside it in the same run, so the portal's overhead shows.

    .venv/bin/python bench/portal_pages.py [--requests N]

Starts a Kafka broker (KRaft, from the jars in ``.cache/kafka``) and every service (``python -m
<service> serve``, SQLite) on free loopback ports, loads the territory's demo (the loaders of
``make run``), starts the portal (``python -m portal serve``) pointed at them, then asks each main
page N times in a row as its user (a session cookie minted by the dev issuer) after 5 warm-up
requests. Each answer's ``Server-Timing`` header gives the page's total on the server and the
time its calls to the services took; the table shows p50/p95 of the total, p95 of the services'
share, the portal's own share (total minus services) at p95, and the ratio of the page's p95 to
its services' p95 (the portal's overhead as a ratio). No timed assertion: the figures
go to docs/performance.md. Every process is stopped at the end; every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from benecomune_cli import demo, demo_booking
from devstack.kafka import KafkaBroker
from devstack.ports import free_port
from devstack.processes import ready, serving
from servicekit.auth import DevIssuer

SERVICES = ("catalog", "wallet", "booking", "vouchers", "notifications")
GOAL_MS = 150.0
TIMING = re.compile(r"(\w+);dur=([\d.]+)")
# (page, role, subject id): the pages people open most, each as its user.
PAGES = [
    ("/", None, None),
    ("/search?q=assistenza", None, None),
    ("/offerings/{offering}", None, None),
    ("/packages/{package}", None, None),
    ("/me/wallet", "beneficiary", "b-biella-001"),
    ("/me/bookings", "beneficiary", "b-biella-001"),
    ("/me/vouchers", "beneficiary", "b-biella-001"),
    ("/me/inbox", "beneficiary", "b-biella-001"),
    ("/shop/till", "merchant", "m-biella-001"),
    ("/provider/bookings", "provider", "coop-il-filo"),
    ("/employer/plans", "employer", "e-biella-001"),
    ("/social/applications", "social_worker", None),
    ("/auditor/monitor", "auditor", None),
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_demo(urls: dict[str, str], issuer: DevIssuer) -> dict[str, str]:
    """The demo of every service; returns the ids the pages need (an offering, a package)."""
    for service, loader in demo.demo_loaders().items():
        with httpx.Client(base_url=urls[service], timeout=60) as client:
            if service == "booking":
                booking = demo_booking.BookingDemo(client, issuer, urls)
                try:
                    booking.load()
                finally:
                    booking.close()
            else:
                loader(client, issuer)
    with httpx.Client(base_url=urls["catalog"], timeout=30) as client:
        package = client.get("/packages").json()[0]
    return {"package": package["package_id"], "offering": package["offering_ids"][0]}


@contextlib.contextmanager
def portal(root: Path, urls: dict[str, str]) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "BENECOMUNE_KEYS_DIR": str(root / "keys"),
        "PORTAL_HTTP_PORT": str(port),
        "PORTAL_LOG_LEVEL": "WARNING",
        **{f"PORTAL_{name.upper()}_URL": url for name, url in urls.items()},
    }
    log = (root / "portal.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "portal", "serve"], env=env, stdout=log, stderr=log,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not ready(url):  # bounded by the deadline
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the portal did not start; see portal.log")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def measure(client: httpx.Client, path: str, requests: int) -> dict[str, list[float]] | str:
    figures: dict[str, list[float]] = {"total": [], "services": [], "calls": []}
    for n in range(5 + requests):
        response = client.get(path)
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        if n < 5:
            continue
        timing = dict(TIMING.findall(response.headers.get("server-timing", "")))
        figures["total"].append(float(timing["total"]))
        figures["services"].append(float(timing["services"]))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-portal-") as tmp:
        root = Path(tmp)
        broker = KafkaBroker(root / "kafka", port=free_port(), controller_port=free_port())
        broker.fetch_jars()
        broker.ensure_formatted()
        broker.start()
        try:
            broker.wait_ready(timeout=120)
            with serving(SERVICES, root, broker.bootstrap) as running:
                urls = {name: service.url for name, service in running.items()}
                issuer = DevIssuer("biella", root / "keys")
                started = time.perf_counter()
                ids = load_demo(urls, issuer)
                print(f"demo loaded in {time.perf_counter() - started:.0f} s")
                with portal(root, urls) as url:
                    report(url, issuer, ids, args.requests)
        finally:
            broker.stop()
    return 0


def report(url: str, issuer: DevIssuer, ids: dict[str, str], requests: int) -> None:
    print(f"\n{requests} requests per page, one at a time; milliseconds on the portal's server")
    print(
        f"{'page':<28}{'p50':>8}{'p95':>8}{'services p95':>14}{'portal p95':>12}{'ratio':>8}  goal"
    )
    for template, role, subject in PAGES:
        path = template.format(**ids)
        cookies = {"bc_session": issuer.mint(role, subject)} if role else {}
        with httpx.Client(base_url=url, cookies=cookies, timeout=30) as client:
            figures = measure(client, path, requests)
        if isinstance(figures, str):
            print(f"{template:<28}{figures:>30}")
            continue
        own = [t - s for t, s in zip(figures["total"], figures["services"], strict=True)]
        p95 = percentile(figures["total"], 0.95)
        services_p95 = percentile(figures["services"], 0.95)
        ratio = p95 / services_p95 if services_p95 else float("inf")
        print(
            f"{template:<28}{percentile(figures['total'], 0.5):>8.1f}{p95:>8.1f}"
            f"{services_p95:>14.1f}{percentile(own, 0.95):>12.1f}{ratio:>8.2f}"
            f"  {'met' if p95 < GOAL_MS else 'NOT met'}"
        )


if __name__ == "__main__":
    sys.exit(main())
