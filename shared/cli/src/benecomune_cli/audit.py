"""``benecomune audit``: the auditor's replay of the public-money ledgers.

``benecomune audit vouchers`` reads every event of the vouchers ledger — from Kafka (the whole
topic, from offset 0, with a consumer of its own) or from the service's store — verifies the
hash chain, adds the events up in an independent tally, checks the money rules and compares
the tally with the figures the service reports, to the cent::

    benecomune audit vouchers --from kafka --bootstrap 127.0.0.1:9092 \\
        --service-url http://127.0.0.1:8004 --out var/audit
    benecomune audit vouchers --from store --data-dir var/data/vouchers --compare store

Exit code: 0 when the chain is intact, every rule holds and every figure matches; 1 when
anything does not (each break, violation and difference is printed with the events involved:
stream, sequence, type); 2 for a usage error (bad option, missing store, unreachable Kafka or
service, refused token).
"""

from __future__ import annotations

import csv
import importlib
import json
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import typer

if TYPE_CHECKING:
    from vouchers.application.app import VouchersApplication
    from vouchers.audit import ServiceFigures, VouchersAudit
    from vouchers.settings import VouchersSettings

app = typer.Typer(
    name="audit",
    no_args_is_help=True,
    help="Replay a public-money ledger from Kafka or the store, verify it and check every euro.",
)

USAGE_ERROR = 2
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class Source(StrEnum):
    kafka = "kafka"
    store = "store"


class CompareWith(StrEnum):
    api = "api"
    store = "store"
    none = "none"


def _usage(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(USAGE_ERROR)


@app.command("vouchers")
def vouchers(
    source: Source = typer.Option(
        Source.kafka, "--from", help="Replay the Kafka topic or the service's own store."
    ),
    bootstrap: str | None = typer.Option(
        None,
        "--bootstrap",
        help="Kafka bootstrap servers (default: $VOUCHERS_KAFKA_BOOTSTRAP, "
        "$BENECOMUNE_KAFKA_BOOTSTRAP, else 127.0.0.1:9092).",
    ),
    topic_prefix: str | None = typer.Option(
        None,
        "--topic-prefix",
        help="Prefix of the territory's topics (default: $BENECOMUNE_KAFKA_TOPIC_PREFIX).",
    ),
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        help="The vouchers service's data directory (default: $VOUCHERS_DATA_DIR). The store "
        "kind and PostgreSQL settings come from the environment, as for the service.",
    ),
    compare_with: CompareWith = typer.Option(
        CompareWith.api,
        "--compare",
        help="Compare with the running service's API, with the figures computed from the "
        "store in-process, or not at all.",
    ),
    service_url: str | None = typer.Option(
        None,
        "--service-url",
        help="The vouchers API (default: http://127.0.0.1:<VOUCHERS_HTTP_PORT>).",
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="BENECOMUNE_AUDIT_TOKEN",
        help="An auditor bearer token. Without one, a local service gets a token minted by the "
        "territory's development key.",
    ),
    territory: str | None = typer.Option(
        None, "--territory", help="Territory id (default: $BENECOMUNE_TERRITORY, else biella)."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Write vouchers-audit.json and vouchers-audit.csv (and vouchers-audit.pdf when a "
        "PDF library is installed) into this directory.",
    ),
    timeout: float = typer.Option(
        300.0, "--timeout", min=1.0, help="Seconds allowed for reading the Kafka topic."
    ),
) -> None:
    """Replay the vouchers ledger, verify its hash chain, check the money rules and compare
    every figure with the service's. Exit 0: all sound; 1: something is not; 2: usage."""
    try:
        from vouchers.audit import audit_vouchers
        from vouchers.contract_mapping import to_contract
    except ImportError:  # pragma: no cover - the CLI installed without the service
        _usage("the vouchers audit needs the benecomune-vouchers package installed")
    from benecomune_contracts import VOUCHERS_TOPIC
    from servicekit.audit import KafkaReadError, read_kafka, store_records

    settings = _settings(data_dir, bootstrap, topic_prefix, territory)
    store_app: VouchersApplication | None = None
    try:
        if source is Source.store or compare_with is CompareWith.store:
            store_app = _open_store(settings)
        figures = _figures_source(compare_with, settings, store_app, service_url, token)
        if source is Source.kafka:
            topic = settings.topic(VOUCHERS_TOPIC.name)
            typer.echo(f"Reading topic {topic} from {settings.kafka_bootstrap} ...", err=True)
            try:
                copy = read_kafka(settings.kafka_bootstrap, topic, timeout_seconds=timeout)
            except KafkaReadError as error:
                _usage(str(error))
            description = f"Kafka topic {topic} at {settings.kafka_bootstrap}"
            audit = audit_vouchers(
                copy.records(), source=description, problems=copy.problems, figures=figures
            )
        else:
            assert store_app is not None
            audit = audit_vouchers(
                store_records(store_app, to_contract),
                source=f"the vouchers store ({_store_name(settings)})",
                figures=figures,
            )
    finally:
        if store_app is not None:
            store_app.close()
            store_app.vault.close()

    for line in audit.summary_lines():
        typer.echo(line)
    if out is not None:
        for written in write_outputs(audit, out):
            typer.echo(f"wrote {written}")
    raise typer.Exit(0 if audit.ok else 1)


# --- helpers ---------------------------------------------------------------------------------


def _settings(
    data_dir: Path | None, bootstrap: str | None, topic_prefix: str | None, territory: str | None
) -> VouchersSettings:
    from pydantic import ValidationError
    from vouchers.settings import VouchersSettings

    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if bootstrap is not None:
        overrides["kafka_bootstrap"] = bootstrap
    if topic_prefix is not None:
        overrides["kafka_topic_prefix"] = topic_prefix
    if territory is not None:
        overrides["territory"] = territory
    try:
        return VouchersSettings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        _usage(f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}")


def _store_name(settings: VouchersSettings) -> str:
    if settings.store == "sqlite":
        return str(settings.sqlite_path)
    schema = settings.postgres_schema or settings.service_name
    return (
        f"postgres {settings.postgres_host}:{settings.postgres_port}/"
        f"{settings.postgres_dbname}, schema {schema}"
    )


def _open_store(settings: VouchersSettings) -> VouchersApplication:
    from vouchers.application.app import VouchersApplication

    if settings.store == "sqlite" and not settings.sqlite_path.is_file():
        _usage(
            f"no vouchers store at {settings.sqlite_path}: give the service's --data-dir "
            "(or VOUCHERS_DATA_DIR)"
        )
    try:
        return VouchersApplication(settings)
    except Exception as error:  # an unreachable database, a bad territory: the operator's input
        _usage(f"cannot open the vouchers store ({_store_name(settings)}): {error}")


def _figures_source(
    compare_with: CompareWith,
    settings: VouchersSettings,
    store_app: VouchersApplication | None,
    service_url: str | None,
    token: str | None,
) -> Callable[[], ServiceFigures] | None:
    """What to compare the tally with; fetched after the replay."""
    from vouchers.audit import figures_from_api, figures_from_application

    if compare_with is CompareWith.none:
        return None
    if compare_with is CompareWith.store:
        assert store_app is not None
        return lambda: figures_from_application(store_app)
    url = (service_url or f"http://127.0.0.1:{settings.http_port}").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        _usage(f"--service-url {url!r} is not an http(s) URL")
    bearer = token or _local_token(settings, parts.hostname)

    def fetch() -> ServiceFigures:
        import httpx

        try:
            return figures_from_api(url, bearer)
        except httpx.HTTPStatusError as error:
            status = error.response.status_code
            if status in (401, 403):
                _usage(f"the service at {url} refused the auditor token ({status})")
            _usage(f"the service at {url} answered {status} to {error.request.url.path}")
        except httpx.HTTPError as error:
            _usage(
                f"cannot read the service's figures at {url} ({error!r}); start the service, "
                "give --service-url, or use --compare store / --compare none"
            )

    return fetch


def _local_token(settings: VouchersSettings, host: str) -> str:
    if host not in LOOPBACK_HOSTS:
        _usage(f"give an auditor --token for {host} (tokens are minted only for local services)")
    from servicekit.auth import DevIssuer

    try:
        issuer = DevIssuer(settings.territory, settings.keys_dir)
    except ValueError as error:
        _usage(str(error))
    typer.echo("Using an auditor token minted with the local development key.", err=True)
    return issuer.mint("auditor", ttl=timedelta(minutes=30))


# --- outputs ---------------------------------------------------------------------------------


def write_outputs(audit: VouchersAudit, directory: Path) -> list[Path]:
    """``vouchers-audit.json``, ``vouchers-audit.csv`` and, when a PDF library is installed,
    ``vouchers-audit.pdf`` (the rendicontazione summary)."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "vouchers-audit.json"
    json_path.write_text(
        json.dumps(audit.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    csv_path = directory / "vouchers-audit.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(audit.CSV_COLUMNS))
        writer.writeheader()
        writer.writerows(audit.csv_rows())
    written = [json_path, csv_path]
    pdf_path = directory / "vouchers-audit.pdf"
    if write_pdf(audit, pdf_path):
        written.append(pdf_path)
    else:
        typer.echo("PDF skipped: no PDF library (fpdf2) is installed.", err=True)
    return written


def rendicontazione_lines(audit: VouchersAudit) -> list[str]:
    """The PDF's text: the summary, in plain Latin-1 (the PDF core fonts' alphabet)."""
    lines = [
        "Rendicontazione buoni spesa - verifica del revisore",
        f"Generata il {audit.generated_at:%Y-%m-%d %H:%M} UTC",
        "",
        *audit.summary_lines(),
    ]
    replacements = {"\u2264": "<=", "\u2014": "-", "\u20ac": "EUR", "\u2212": "-"}
    cleaned = []
    for line in lines:
        for old, new in replacements.items():
            line = line.replace(old, new)
        cleaned.append(line.encode("latin-1", "replace").decode("latin-1"))
    return cleaned


def write_pdf(audit: VouchersAudit, path: Path) -> bool:
    """The summary as a PDF with fpdf2, if it is installed (no heavy dependency is added for
    it); False when it is not."""
    try:
        fpdf: Any = importlib.import_module("fpdf")
    except ImportError:
        return False
    pdf = fpdf.FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    for number, line in enumerate(rendicontazione_lines(audit)):
        pdf.set_font("Helvetica", style="B" if number == 0 else "", size=12 if number == 0 else 8)
        pdf.multi_cell(0, 4.5, line or " ", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return True
