"""``benecomune token``: development bearer tokens signed by the territory's dev key.

The key pair lives under ``BENECOMUNE_KEYS_DIR/<territory>/`` (see servicekit.auth.DevIssuer), the
same place the services read it from, so a minted token is accepted by every local service.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

import typer
from servicekit.auth import PARTY_ROLES, ROLES, DevIssuer, subject_for
from servicekit.settings import ServiceSettings

app = typer.Typer(
    name="token",
    no_args_is_help=True,
    help="Mint development bearer tokens signed by the territory's local key.",
)


class RoleChoice(StrEnum):
    operator = "operator"
    social_worker = "social_worker"
    merchant = "merchant"
    provider = "provider"
    employer = "employer"
    beneficiary = "beneficiary"
    auditor = "auditor"


assert tuple(RoleChoice) == ROLES, "RoleChoice must list servicekit.auth.ROLES in order"


class OutputFormat(StrEnum):
    table = "table"
    export = "export"


# Where a territory's demo data names a party differently from the pattern below: Biella's demo
# provider is the home-care cooperative of its catalogue, so its token has offerings to manage.
DEMO_SUBJECT_OVERRIDES = {("provider", "biella"): "coop-il-filo"}


def demo_subject_id(role: str, territory: str) -> str | None:
    """The demo id for a party role, e.g. ``m-biella-001`` for a merchant of Biella."""
    if role not in PARTY_ROLES:
        return None
    return DEMO_SUBJECT_OVERRIDES.get((role, territory), f"{role[0]}-{territory}-001")


def _issuer(territory: str | None) -> DevIssuer:
    settings = ServiceSettings()
    try:
        return DevIssuer(territory or settings.territory, settings.keys_dir)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--territory") from None


def _ttl(hours: float) -> timedelta:
    if hours <= 0:
        raise typer.BadParameter("must be positive", param_hint="--ttl-hours")
    return timedelta(hours=hours)


@app.command("mint")
def mint(
    role: RoleChoice = typer.Option(..., "--role", help="The caller's role."),
    subject: str | None = typer.Option(
        None,
        "--subject",
        help="Party id for merchant, provider, employer and beneficiary (e.g. m-001).",
    ),
    territory: str | None = typer.Option(
        None, "--territory", help="Territory id (default: $BENECOMUNE_TERRITORY, else biella)."
    ),
    ttl_hours: float = typer.Option(12.0, "--ttl-hours", help="Hours until the token expires."),
) -> None:
    """Print one signed token: TOKEN=$(benecomune token mint --role merchant --subject m-001)."""
    ttl = _ttl(ttl_hours)
    issuer = _issuer(territory)
    try:
        token = issuer.mint(role.value, subject, ttl)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--subject") from None
    typer.echo(token)


@app.command("demo")
def demo(
    territory: str | None = typer.Option(
        None, "--territory", help="Territory id (default: $BENECOMUNE_TERRITORY, else biella)."
    ),
    ttl_hours: float = typer.Option(12.0, "--ttl-hours", help="Hours until the tokens expire."),
    output: OutputFormat = typer.Option(
        OutputFormat.table,
        "--format",
        help="'table' to read, 'export' for eval \"$(benecomune token demo --format export)\".",
    ),
) -> None:
    """Print one ready-made token per role, with demo ids such as merchant:m-biella-001."""
    ttl = _ttl(ttl_hours)
    issuer = _issuer(territory)
    rows = []
    for role in ROLES:
        subject_id = demo_subject_id(role, issuer.territory)
        rows.append((role, subject_for(role, subject_id), issuer.mint(role, subject_id, ttl)))
    if output is OutputFormat.export:
        for role, _, token in rows:
            typer.echo(f"export BENECOMUNE_TOKEN_{role.upper()}={token}")
        return
    # Plain columns, never wrapped, so a token can be copied from the terminal as it is.
    width = max(len(subject) for _, subject, _ in rows)
    typer.echo(f"# territory {issuer.territory}, issuer {issuer.issuer}, valid {ttl_hours:g} h")
    typer.echo(f"{'SUBJECT':<{width}}  TOKEN")
    for _, subject, token in rows:
        typer.echo(f"{subject:<{width}}  {token}")
