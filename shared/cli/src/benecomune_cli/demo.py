"""``benecomune demo``: demo data for a territory, loaded through the services' public APIs
(as a real operator would), once: a marker under var/ remembers it was done."""

from __future__ import annotations

from pathlib import Path

import httpx
import typer
from servicekit.auth import DevIssuer
from servicekit.settings import ServiceSettings

app = typer.Typer(name="demo", no_args_is_help=True, help="Load demo data into running services.")

DEFAULT_VOUCHERS_URL = "http://127.0.0.1:8004"

# Biella's share of the 2020 national food-voucher measure, a bank foundation's donation, and
# a neighbouring town's allocation: the story an operator sees on the first screen.
DEMO_FUNDS = [
    {
        "municipality_istat": "096004",
        "source_kind": "state_transfer",
        "source_reference": "OCDPC 658/2020",
        "amount_cents": 26_834_500,
    },
    {
        "municipality_istat": "096020",
        "source_kind": "state_transfer",
        "source_reference": "OCDPC 658/2020",
        "amount_cents": 9_872_300,
    },
]
DEMO_DONATION = {
    "source_kind": "donation",
    "source_reference": "Fondazione Cassa di Risparmio di Biella",
    "amount_cents": 5_000_000,
}


def marker_path(territory: str) -> Path:
    # Beside the stores: deleting the data forgets the demo too, so it is loaded again.
    return ServiceSettings().data_dir / f"demo-{territory}.loaded"


def load_demo(vouchers_url: str, territory: str, keys_dir: Path) -> list[str]:
    """Allocate the demo funds and a donation; returns the fund ids."""
    token = DevIssuer(territory, keys_dir).mint("operator")
    headers = {"Authorization": f"Bearer {token}", "X-Correlation-ID": "demo-data"}
    fund_ids: list[str] = []
    with httpx.Client(base_url=vouchers_url, headers=headers, timeout=10) as client:
        for fund in DEMO_FUNDS:
            response = client.post("/funds", json=fund)
            response.raise_for_status()
            fund_ids.append(response.json()["fund_id"])
        client.post(f"/funds/{fund_ids[0]}/top-ups", json=DEMO_DONATION).raise_for_status()
    return fund_ids


def load_once(vouchers_url: str, territory: str, keys_dir: Path) -> bool:
    """Load the demo data unless it was loaded before; True when it loaded now."""
    marker = marker_path(territory)
    if marker.exists():
        return False
    fund_ids = load_demo(vouchers_url, territory, keys_dir)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("\n".join(fund_ids) + "\n")
    return True


@app.command("load")
def load(
    vouchers_url: str = typer.Option(DEFAULT_VOUCHERS_URL, help="Base URL of the vouchers API."),
    force: bool = typer.Option(False, help="Load again even if it was loaded before."),
) -> None:
    """Load the demo funds of the territory into the running services."""
    settings = ServiceSettings()
    if force:
        marker_path(settings.territory).unlink(missing_ok=True)
    if load_once(vouchers_url, settings.territory, settings.keys_dir):
        typer.echo(f"demo data for {settings.territory} loaded")
    else:
        typer.echo(f"demo data for {settings.territory} was already loaded (use --force)")
