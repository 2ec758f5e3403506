"""``benecomune audit``: the auditor's replay of the public-money ledgers.

``benecomune audit vouchers`` and ``benecomune audit wallet`` read every event of a ledger —
from Kafka (the whole topic, from offset 0, with a consumer of their own) or from the service's
store — verify the hash chain, add the events up in an independent tally, check the money rules
and compare the tally with the figures the service reports, to the cent. Each audit prints the
*seal* of the ledger (the SHA-256 of every stream's head, written to ``<ledger>-heads.csv``);
given to the next audit with ``--since``, it shows events deleted or rewritten since::

    benecomune audit vouchers --from kafka --bootstrap 127.0.0.1:9092 \\
        --service-url http://127.0.0.1:8004 --out var/audit
    benecomune audit wallet --from store --data-dir var/data/wallet --compare store
    benecomune audit vouchers --since var/audit --since-seal <the 64-hex seal it printed>

The driver below is the same for every ledger; the auditor's engine and each ledger's tally are
:mod:`benecomune_auditor` (:func:`benecomune_auditor.ledgers.audited_ledger`). The CLI imports
no service: a service's settings and store (for ``--from store`` and ``--compare store``) come
from the hook it names in the ``benecomune.audit_ledgers`` entry-point group
(:mod:`benecomune_auditor.service_hooks`); without it installed, ``--from kafka`` with
``--compare api`` or ``none`` still works, with the service's settings read from the
environment (``<SERVICE>_*`` and ``BENECOMUNE_*``).

Exit code: 0 when the chain is intact, every rule holds and every figure matches; 1 when
anything does not (each break, violation and difference is printed with the events involved:
stream, sequence, type); 2 for a usage error (bad option, missing store, unreachable Kafka or
service, refused token).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import typer
from benecomune_auditor.pdf import rendicontazione_pdf

if TYPE_CHECKING:
    from benecomune_auditor.kafka_copy import TopicCopy
    from benecomune_auditor.ledger_seal import LedgerSeal
    from benecomune_auditor.ledgers import AuditedLedger, AuditResult
    from benecomune_auditor.records import AuditItem, ReadProblem
    from benecomune_auditor.service_hooks import LedgerStore
    from servicekit.settings import ServiceSettings

finished = False
"""Whether an audit has printed and written everything (the console script then exits without
tearing the interpreter down: see :func:`benecomune_cli.main.main`)."""

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


def _ledger(name: str) -> AuditedLedger:
    from benecomune_auditor.ledgers import audited_ledger

    return audited_ledger(name)


def _usage(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(USAGE_ERROR)


# The options every ledger's command takes (typer reads them from the signatures below).
SOURCE = typer.Option(Source.kafka, "--from", help="Replay the Kafka topic or the service's store.")
BOOTSTRAP = typer.Option(
    None,
    "--bootstrap",
    help="Kafka bootstrap servers (default: the service's <SERVICE>_KAFKA_BOOTSTRAP, "
    "$BENECOMUNE_KAFKA_BOOTSTRAP, else 127.0.0.1:9092).",
)
TOPIC_PREFIX = typer.Option(
    None,
    "--topic-prefix",
    help="Prefix of the territory's topics (default: $BENECOMUNE_KAFKA_TOPIC_PREFIX).",
)
DATA_DIR = typer.Option(
    None,
    "--data-dir",
    help="The service's data directory (default: <SERVICE>_DATA_DIR). The store kind and "
    "PostgreSQL settings come from the environment, as for the service.",
)
COMPARE = typer.Option(
    CompareWith.api,
    "--compare",
    help="Compare with the running service's API, with the figures computed from the store "
    "in-process, or not at all.",
)
SERVICE_URL = typer.Option(
    None, "--service-url", help="The service's API (default: http://127.0.0.1:<its port>)."
)
TOKEN = typer.Option(
    None,
    "--token",
    envvar="BENECOMUNE_AUDIT_TOKEN",
    help="An auditor bearer token. Without one, a local service gets a token minted by the "
    "territory's development key.",
)
TERRITORY = typer.Option(
    None, "--territory", help="Territory id (default: $BENECOMUNE_TERRITORY, else biella)."
)
OUT = typer.Option(
    None,
    "--out",
    help="Write <ledger>-audit.json, <ledger>-audit.csv and the <ledger>-audit.pdf summary "
    "into this directory.",
)
TIMEOUT = typer.Option(
    300.0, "--timeout", min=1.0, help="Seconds allowed for reading the Kafka topic."
)
SINCE = typer.Option(
    None,
    "--since",
    help="An earlier audit's heads file (<ledger>-heads.csv, or the --out directory holding "
    "it): every event it sealed must still be in the ledger with the same hash, so events "
    "deleted or rewritten since that audit are named.",
)
SINCE_SEAL = typer.Option(
    None,
    "--since-seal",
    help="The seal published with that earlier audit: the --since file must be the one it "
    "seals (SHA-256 of the file).",
)


@app.command("vouchers")
def vouchers(
    source: Source = SOURCE,
    bootstrap: str | None = BOOTSTRAP,
    topic_prefix: str | None = TOPIC_PREFIX,
    data_dir: Path | None = DATA_DIR,
    compare_with: CompareWith = COMPARE,
    service_url: str | None = SERVICE_URL,
    token: str | None = TOKEN,
    territory: str | None = TERRITORY,
    out: Path | None = OUT,
    timeout: float = TIMEOUT,
    since: Path | None = SINCE,
    since_seal: str | None = SINCE_SEAL,
) -> None:
    """Replay the vouchers ledger (funds, rounds, vouchers, shops), verify its hash chain,
    check the money rules and compare every figure with the service's.
    Exit 0: all sound; 1: something is not; 2: usage."""
    ledger = _ledger("vouchers")
    run_audit(
        ledger,
        source,
        _settings(ledger, data_dir, bootstrap, topic_prefix, territory),
        compare_with,
        service_url,
        token,
        out,
        timeout,
        _earlier_seal(ledger, since, since_seal),
    )


@app.command("wallet")
def wallet(
    source: Source = SOURCE,
    bootstrap: str | None = BOOTSTRAP,
    topic_prefix: str | None = TOPIC_PREFIX,
    data_dir: Path | None = DATA_DIR,
    compare_with: CompareWith = COMPARE,
    service_url: str | None = SERVICE_URL,
    token: str | None = TOKEN,
    territory: str | None = TERRITORY,
    out: Path | None = OUT,
    timeout: float = TIMEOUT,
    since: Path | None = SINCE,
    since_seal: str | None = SINCE_SEAL,
) -> None:
    """Replay the wallet ledger (plans, wallets, holds, fringe and bonus years): rebuild every
    account, check zero sum, nothing negative, the fringe cap, the bonus limit and the hash
    chain, and compare the plan figures and payroll amounts with the service's.
    Exit 0: all sound; 1: something is not; 2: usage."""
    ledger = _ledger("wallet")
    run_audit(
        ledger,
        source,
        _settings(ledger, data_dir, bootstrap, topic_prefix, territory),
        compare_with,
        service_url,
        token,
        out,
        timeout,
        _earlier_seal(ledger, since, since_seal),
    )


def run_audit(
    ledger: AuditedLedger,
    source: Source,
    settings: ServiceSettings,
    compare_with: CompareWith,
    service_url: str | None,
    token: str | None,
    out: Path | None,
    timeout: float,
    since: LedgerSeal | None = None,
) -> NoReturn:
    from benecomune_auditor.kafka_copy import KafkaReadError, read_kafka
    from benecomune_auditor.store_reader import store_records

    store: LedgerStore | None = None
    copy: TopicCopy | None = None
    unreadable: list[str] = []  # why the service's figures could not be read from its store
    try:
        if source is Source.store or compare_with is CompareWith.store:
            store = _open_store(ledger, settings)
        figures = _figures_source(
            ledger, compare_with, settings, store, service_url, token, unreadable
        )
        items: Iterable[AuditItem]
        problems: Iterable[ReadProblem] = ()
        if source is Source.kafka:
            topic = settings.topic(ledger.topic)
            typer.echo(f"Reading topic {topic} from {settings.kafka_bootstrap} ...", err=True)
            try:
                copy = read_kafka(settings.kafka_bootstrap, topic, timeout_seconds=timeout)
            except KafkaReadError as error:
                _usage(str(error))
            description = f"Kafka topic {topic} at {settings.kafka_bootstrap}"
            if copy.cut is not None:
                description += f", cut at notification {copy.cut.notification_id}"
            items, problems = copy.records(), copy.problems
        else:
            assert store is not None
            description = f"the {ledger.name} store ({_store_name(settings)})"
            items = store_records(store)
        try:
            # The topic is streamed while the audit runs: a broker lost mid-read shows up here.
            audit = ledger.audit(
                items, source=description, problems=problems, figures=figures, since=since
            )
        except KafkaReadError as error:
            _usage(str(error))
    finally:
        if store is not None:
            store.close()

    if copy is not None and copy.cut is not None:  # in the summary, the JSON and the PDF
        audit.replay.cut_at = copy.cut.notification_id
        audit.replay.left_for_next_audit = copy.beyond_cut
    for line in audit.summary_lines():
        typer.echo(line)
    for problem in unreadable:
        typer.echo(
            f"FAILED: the service cannot compute its own figures from this store ({problem}): "
            "it is damaged or was tampered with; see the replay above"
        )
    if out is not None:
        for written in write_outputs(audit, out, ledger.name, ledger.pdf_title):
            typer.echo(f"wrote {written}")
    global finished
    finished = True
    raise typer.Exit(0 if audit.ok and not unreadable else 1)


# --- helpers ---------------------------------------------------------------------------------


def _earlier_seal(ledger: AuditedLedger, since: Path | None, seal: str | None) -> LedgerSeal | None:
    """The heads an earlier audit sealed, read from its file (or its --out directory)."""
    if since is None:
        if seal is not None:
            _usage("--since-seal checks the --since file: give both")
        return None
    from benecomune_auditor.ledger_seal import LedgerSeal, SealFileError

    path = since / heads_file_name(ledger.name) if since.is_dir() else since
    try:
        earlier = LedgerSeal.read(path)
    except SealFileError as error:
        _usage(str(error))
    if seal is None:
        return earlier
    seal = seal.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", seal):
        _usage(f"--since-seal {seal!r} is not a seal: give all 64 hex digits the audit printed")
    if seal != earlier.digest:
        _usage(
            f"{path} is not the heads file sealed by {seal}: its seal is {earlier.digest} "
            "(it was changed, or it is another audit's)"
        )
    return earlier


def heads_file_name(ledger_name: str) -> str:
    return f"{ledger_name}-heads.csv"


def _settings(
    ledger: AuditedLedger,
    data_dir: Path | None,
    bootstrap: str | None,
    topic_prefix: str | None,
    territory: str | None,
) -> ServiceSettings:
    from pydantic import ValidationError

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
        return _settings_of(ledger)(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        _usage(f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}")


def _settings_of(ledger: AuditedLedger) -> Callable[..., ServiceSettings]:
    """The service's own settings, from its hook; without the service installed, the same
    settings read from the environment as the service would (``<SERVICE>_*`` first)."""
    from benecomune_auditor.service_hooks import find_hook

    hook = find_hook(ledger.name)
    if hook is not None:
        return hook.settings
    from pydantic_settings import SettingsConfigDict
    from servicekit.settings import ServiceSettings

    class LedgerSettings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix=f"{ledger.name.upper()}_", extra="ignore")
        service_name: str = ledger.name
        http_port: int = ledger.http_port

    return LedgerSettings


def _store_name(settings: ServiceSettings) -> str:
    if settings.store == "sqlite":
        return str(settings.sqlite_path)
    schema = settings.postgres_schema or settings.service_name
    return (
        f"postgres {settings.postgres_host}:{settings.postgres_port}/"
        f"{settings.postgres_dbname}, schema {schema}"
    )


def _open_store(ledger: AuditedLedger, settings: ServiceSettings) -> LedgerStore:
    from benecomune_auditor.service_hooks import find_hook

    hook = find_hook(ledger.name)
    if hook is None:
        _usage(
            f"reading the {ledger.name} store needs the benecomune-{ledger.name} service "
            "installed (its audit hook); use --from kafka with --compare api or none"
        )
    if settings.store == "sqlite" and not settings.sqlite_path.is_file():
        variable = f"{settings.service_name.upper()}_DATA_DIR"
        _usage(
            f"no {ledger.name} store at {settings.sqlite_path}: give the service's --data-dir "
            f"(or {variable})"
        )
    try:
        return hook.open_store(settings)
    except Exception as error:  # an unreachable database, a bad territory: the operator's input
        _usage(f"cannot open the {ledger.name} store ({_store_name(settings)}): {error}")


def _figures_source(
    ledger: AuditedLedger,
    compare_with: CompareWith,
    settings: ServiceSettings,
    store: LedgerStore | None,
    service_url: str | None,
    token: str | None,
    unreadable: list[str],
) -> Callable[[], Any] | None:
    """What to compare the tally with; fetched after the replay. A store the service cannot
    read back gives no figures, and its reason is added to ``unreadable``."""
    if compare_with is CompareWith.none:
        return None
    if compare_with is CompareWith.store:
        assert store is not None
        opened = store

        def from_store(upto: int | None = None) -> Any:
            try:
                return ledger.figures_from_store(opened, upto)
            except Exception as error:  # a store the service itself cannot read back
                # The replay has been made: report it, and fail the audit for this too.
                unreadable.append(f"{type(error).__name__}: {error}")
                return None

        return from_store
    url = (service_url or f"http://127.0.0.1:{settings.http_port}").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        _usage(f"--service-url {url!r} is not an http(s) URL")
    bearer = token or _local_token(settings, parts.hostname)

    def fetch(upto: int | None = None) -> Any:
        import httpx

        try:
            return ledger.figures_from_api(url, bearer, upto)
        except (ValueError, KeyError, TypeError) as error:  # not JSON, or not the figures
            _usage(
                f"the service at {url} did not answer with its figures "
                f"({type(error).__name__}: {error}); is --service-url the {ledger.name} service?"
            )
        except httpx.HTTPStatusError as error:
            status = error.response.status_code
            if status == 409 or status >= 500:  # after the replay: the audit fails, with it
                unreadable.append(f"{status}: {_message_of(error.response)}")
                return None
            if status in (401, 403):
                _usage(f"the service at {url} refused the auditor token ({status})")
            _usage(f"the service at {url} answered {status} to {error.request.url.path}")
        except httpx.HTTPError as error:
            _usage(
                f"cannot read the service's figures at {url} ({error!r}); start the service, "
                "give --service-url, or use --compare store / --compare none"
            )

    return fetch


def _message_of(response: Any) -> str:
    try:
        return str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return str(response.text)[:200]


def _local_token(settings: ServiceSettings, host: str) -> str:
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


def write_outputs(
    audit: AuditResult, directory: Path, name: str, pdf_title: str | None = None
) -> list[Path]:
    """``<name>-audit.json``, ``<name>-audit.csv``, ``<name>-heads.csv`` (the heads the seal
    covers, for the next audit's ``--since``) and, when the ledger has a title for it,
    ``<name>-audit.pdf`` (the rendicontazione summary)."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / f"{name}-audit.json"
    json_path.write_text(
        json.dumps(audit.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    csv_path = directory / f"{name}-audit.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(audit.CSV_COLUMNS))
        writer.writeheader()
        writer.writerows(audit.csv_rows())
    written = [json_path, csv_path]
    if audit.replay.seal is not None:  # the next audit's --since
        heads_path = directory / heads_file_name(name)
        audit.replay.seal.write(heads_path)
        written.append(heads_path)
    if pdf_title is not None:
        pdf_path = directory / f"{name}-audit.pdf"
        write_pdf(audit, pdf_path, pdf_title)
        written.append(pdf_path)
    return written


def write_pdf(audit: AuditResult, path: Path, title: str) -> None:
    """The summary as a PDF "rendicontazione" (:mod:`benecomune_auditor.pdf`)."""
    path.write_bytes(rendicontazione_pdf(audit, title))
