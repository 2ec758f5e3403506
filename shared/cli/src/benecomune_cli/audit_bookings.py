"""``benecomune audit bookings``: the booking saga reconciled from the topics.

Reads the territory's ``benecomune.booking``, ``benecomune.wallet``, ``benecomune.vouchers``
and ``benecomune.catalog`` topics from offset 0 (a consumer of its own, nothing committed) and
checks, with the auditor's own rules (:mod:`benecomune_auditor.booking`): every captured
component equals the wallet capture + voucher capture + co-payment recorded for it, to the
cent; every released hold belongs to a cancelled or compensated booking (or a component whose
capture took less); no hold is open past its deadline at the end of the replay (the topics'
last event time, or ``--at-now``); every confirmed booking's slots were confirmed by the
catalog. A topic that does not exist yet (no voucher ever held) is read as empty; without the
catalog's topic the slots are not checked (and the report says so).

There is no ``--compare api`` yet: the booking service publishes no audit figures, and the
money it reconciles is the wallet's and the vouchers' (audited, and compared with their
services, by ``audit wallet`` and ``audit vouchers``).

Exit code: 0 when every booking reconciles, 1 when not (each violation named with its rule,
booking and component), 2 for a usage error (unreachable Kafka, no booking topic).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from benecomune_auditor.pdf import text_pdf

from benecomune_cli import audit

if TYPE_CHECKING:
    from benecomune_auditor.booking import BookingAudit

PDF_TITLE = "Rendicontazione prenotazioni (booking audit)"


@audit.app.command("bookings")
def bookings(
    bootstrap: str | None = audit.BOOTSTRAP,
    topic_prefix: str | None = audit.TOPIC_PREFIX,
    territory: str | None = audit.TERRITORY,
    out: Path | None = audit.OUT,
    timeout: float = audit.TIMEOUT,
    compare_with: audit.CompareWith = typer.Option(
        audit.CompareWith.none,
        "--compare",
        help="Only 'none': the booking service publishes no audit figures (the money is "
        "compared with the wallet and vouchers services by their own audits).",
    ),
    at_now: bool = typer.Option(
        False,
        "--at-now",
        help="Check the holds' deadlines at the current time, not at the topics' last event.",
    ),
) -> None:
    """Reconcile every booking from the booking, wallet, vouchers and catalog topics: captures
    to the cent, releases explained, no hold open past its deadline, confirmed slots.
    Exit 0: all sound; 1: something is not; 2: usage."""
    if compare_with is not audit.CompareWith.none:
        audit._usage("audit bookings compares with nothing yet: use --compare none")
    settings = _settings(bootstrap, topic_prefix, territory)
    result = run(
        settings.kafka_bootstrap,
        settings.kafka_topic_prefix,
        timeout=timeout,
        as_of=datetime.now(UTC) if at_now else None,
    )
    for line in result.summary_lines():
        typer.echo(line)
    if out is not None:
        for written in write_outputs(result, out):
            typer.echo(f"wrote {written}")
    audit.finished = True
    raise typer.Exit(0 if result.ok else 1)


def _settings(bootstrap: str | None, prefix: str | None, territory: str | None) -> Any:
    """The booking service's Kafka settings, read from the environment as it reads them
    (``BOOKING_*``, then ``BENECOMUNE_*``), without importing it."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsConfigDict
    from servicekit.settings import ServiceSettings

    class BookingAuditSettings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="BOOKING_", extra="ignore")
        service_name: str = "booking"
        http_port: int = 8003

    overrides: dict[str, Any] = {}
    for key, value in (
        ("kafka_bootstrap", bootstrap),
        ("kafka_topic_prefix", prefix),
        ("territory", territory),
    ):
        if value is not None:
            overrides[key] = value
    try:
        return BookingAuditSettings(**overrides)
    except ValidationError as error:
        _usage(f"invalid setting: {error.errors()[0]['msg']}")


def run(
    bootstrap: str, prefix: str, *, timeout: float = 300.0, as_of: datetime | None = None
) -> BookingAudit:
    """Read the topics and audit them (a usage error if Kafka or the booking topic is not
    there)."""
    from benecomune_auditor.booking import TOPICS, audit_bookings
    from benecomune_auditor.kafka_copy import KafkaReadError, read_kafka

    copies = []
    read_catalog = True
    for name in TOPICS:
        topic = f"{prefix}{name}"
        typer.echo(f"Reading topic {topic} from {bootstrap} ...", err=True)
        try:
            copies.append(read_kafka(bootstrap, topic, timeout_seconds=timeout, workers=0))
        except KafkaReadError as error:
            if name == TOPICS[0] or "does not exist" not in str(error):
                _usage(str(error))
            read_catalog = read_catalog and name != TOPICS[3]

    def items() -> Iterator[Any]:
        for copy in copies:
            yield from copy.problems
            yield from copy.records()

    source = f"topics {', '.join(c.topic for c in copies)} at {bootstrap}"
    try:
        return audit_bookings(items(), source=source, as_of=as_of, read_catalog=read_catalog)
    except KafkaReadError as error:
        _usage(str(error))


def _usage(message: str) -> NoReturn:
    audit._usage(message)


def write_outputs(result: BookingAudit, directory: Path) -> list[Path]:
    """``booking-audit.json``, ``booking-audit.csv`` and ``booking-audit.pdf``."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "booking-audit.json"
    json_path.write_text(
        json.dumps(result.as_dict(), indent=2, ensure_ascii=False, default=str) + "\n",
        encoding="utf-8",
    )
    csv_path = directory / "booking-audit.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(result.CSV_COLUMNS))
        writer.writeheader()
        writer.writerows(result.csv_rows())
    pdf_path = directory / "booking-audit.pdf"
    lines = [f"Generata il {result.generated_at:%Y-%m-%d %H:%M} UTC", ""]
    lines += [line.replace("€", "EUR ") for line in result.summary_lines()]
    pdf_path.write_bytes(text_pdf(PDF_TITLE, lines, created=result.generated_at))
    return [json_path, csv_path, pdf_path]
