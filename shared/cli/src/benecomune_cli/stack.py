"""``benecomune stack``: the local stack — the real Kafka broker and every service that exists.

``benecomune stack run`` (what ``make run`` calls) starts Kafka from var/kafka (data kept across
runs), starts each service as ``python -m <service> serve`` with its log under var/log, loads the
territory's demo data once, prints where to look and a token per role, and on Ctrl-C stops the
services and then Kafka.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

import httpx
import typer
from devstack.kafka import KafkaBroker, fetch_jars
from servicekit.settings import REPO_ROOT, ServiceSettings
from servicekit.territory import load_territory

from benecomune_cli import demo, tokens
from benecomune_cli.local_services import (
    existing_services,
    portal_installed,
    service_port,
    service_url,
)
from benecomune_cli.supervisor import Supervisor

app = typer.Typer(name="stack", no_args_is_help=True, help="Run the local stack.")

VAR = REPO_ROOT / "var"
READY_TIMEOUT_SECONDS = 90


def broker(port: int) -> KafkaBroker:
    return KafkaBroker(data_dir=VAR / "kafka", port=port, log_dir=VAR / "log")


@app.command("fetch")
def fetch() -> None:
    """Fetch the Kafka broker jars once (cached under .cache/)."""
    typer.echo(f"Kafka jars in {fetch_jars()}")


def _wait_ready(url: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


@app.command("run")
def run(
    kafka_port: int = typer.Option(9092, envvar="BENECOMUNE_KAFKA_PORT", help="Broker port."),
    load_demo: bool = typer.Option(True, help="Load the territory's demo data (once)."),
) -> None:
    """Start Kafka and every service, load demo data, and wait for Ctrl-C."""
    settings = ServiceSettings()
    kafka = broker(kafka_port)
    supervisor = Supervisor()
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        typer.echo(f"Starting Kafka on 127.0.0.1:{kafka_port} (data in {kafka.data_dir}) ...")
        kafka.start()
        kafka.wait_ready(timeout=90)
        services = existing_services()
        for name in services:
            env = {
                **os.environ,
                "BENECOMUNE_KAFKA_BOOTSTRAP": kafka.bootstrap,
                f"{name.upper()}_HTTP_PORT": str(service_port(name)),
                f"{name.upper()}_CONSUMER_INSTANCE_ID": f"{name}-local-0",
            }
            supervisor.add(
                name, [sys.executable, "-m", name, "serve"], env, VAR / "log" / f"{name}.log"
            )
        if portal_installed():
            portal_env = {
                **os.environ,
                "PORTAL_HTTP_PORT": str(service_port("portal")),
                **{f"PORTAL_{name.upper()}_URL": service_url(name) for name in services},
            }
            portal_cmd = [sys.executable, "-m", "portal", "serve"]
            supervisor.add("portal", portal_cmd, portal_env, VAR / "log" / "portal.log")
        supervisor.start_all()
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        for name in [*services, *(["portal"] if portal_installed() else [])]:
            url = f"http://127.0.0.1:{service_port(name)}"
            if not _wait_ready(url, deadline):
                raise typer.Exit(_fail(f"{name} did not become ready; see var/log/{name}.log"))
        if load_demo:
            urls = {name: service_url(name) for name in services}
            for name in demo.load_once(urls, settings.territory, settings.keys_dir):
                typer.echo(f"Loaded the {name} demo data of {settings.territory}.")
        _print_welcome(services, settings)
        while not stopping:
            supervisor.check()
            time.sleep(0.5)
    finally:
        typer.echo("Stopping services and Kafka ...")
        supervisor.stop_all()
        kafka.stop()
        typer.echo("Stopped. Data kept in var/ (delete var/ to start afresh).")


def _fail(message: str) -> int:
    typer.echo(message, err=True)
    return 1


def _print_welcome(services: list[str], settings: ServiceSettings) -> None:
    typer.echo("")
    if portal_installed():
        portal = service_url("portal")
        typer.echo(f"Open the portal of {settings.territory}: {portal}")
        typer.echo(f"Log in at {portal}/login as one of the demo users:")
        territory = load_territory(settings.territory, settings.territories_dir)
        for user in territory.demo_users:
            who = f"{user.role}:{user.subject_id}" if user.subject_id else user.role
            typer.echo(f"  {who:<28} {user.name}")
        typer.echo("")
    typer.echo("Benecomune is running. OpenAPI docs:")
    for name in services:
        typer.echo(f"  {name:<14} http://127.0.0.1:{service_port(name)}/docs")
    typer.echo(f"  {'kafka':<14} {settings.kafka_bootstrap.split(',')[0]} (logs in var/log/)")
    typer.echo("Logs: var/log/<service>.log (JSON lines). Ready-made tokens (12 h):")
    tokens.demo(territory=None, ttl_hours=12.0, output=tokens.OutputFormat.table)
    typer.echo(
        'Try: curl -H "Authorization: Bearer <operator token>" '
        f"http://127.0.0.1:{service_port('notifications')}/inbox/operator"
    )
    typer.echo(
        "Audit the public money (in another terminal): .venv/bin/benecomune audit vouchers "
        "--out var/audit (and: audit wallet)"
    )
    typer.echo("Press Ctrl-C to stop everything.")


@app.command("postgres")
def postgres(
    port: int = typer.Option(5433, help="Port on 127.0.0.1 for the local cluster."),
    dbname: str = typer.Option("benecomune", help="Database to create for the services."),
) -> None:
    """Run a local PostgreSQL cluster (data in var/pg) until Ctrl-C, printing the settings
    that point the services at it."""
    from devstack.postgres import PostgresCluster

    cluster = PostgresCluster(data_dir=VAR / "pg", port=port, fsync=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly on SIGTERM too
    cluster.start()
    try:
        with contextlib.suppress(Exception):  # already there from an earlier run
            cluster.create_database(dbname)
        typer.echo("PostgreSQL is running. Point the services at it with:")
        typer.echo(
            f"export BENECOMUNE_STORE=postgres BENECOMUNE_POSTGRES_HOST={cluster.host} "
            f"BENECOMUNE_POSTGRES_PORT={cluster.port} BENECOMUNE_POSTGRES_DBNAME={dbname} "
            f"BENECOMUNE_POSTGRES_USER={cluster.user}"
        )
        typer.echo("Press Ctrl-C to stop it (the data stays in var/pg).")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
    finally:
        cluster.stop()
