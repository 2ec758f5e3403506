"""What the auditor's pages read and run.

The fund monitor reads the vouchers service's live fund figures (``GET /funds``, a municipality's
spending ``GET /municipalities/{istat}/spending``) with the auditor's token.

An audit is the auditor's own replay of a public-money ledger, made by :mod:`benecomune_auditor`
(a shared library that imports no service): it reads the ledger's Kafka topic from the start,
verifies the hash chain, adds every event up in an independent tally, checks the money rules and
compares the tally, to the cent, with the figures the service gives the auditor over its API
(``GET /audit/figures?upto=<the last notification replayed>``), with the auditor's own token.
The result is kept as the JSON and CSV the command line writes, and the ledger's seal."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from portal.clients.base import ServiceClient

LEDGERS = ("vouchers", "wallet")
AUDIT_TIMEOUT_SECONDS = 120.0


async def funds(vouchers: ServiceClient, token: str) -> list[dict[str, Any]]:
    """Every fund with its live figures (allocated, issued, redeemed, reimbursed...)."""
    found: list[dict[str, Any]] = await vouchers.get("/funds", token)
    return found


@dataclass
class AuditOutcome:
    """One audit as the portal shows and offers it for download."""

    ledger: str
    ok: bool
    generated_at: datetime
    seal: str | None = None
    sealed_streams: int = 0
    records: int = 0
    ledger_events: int = 0
    chain_intact: bool = False
    compared_with: str | None = None
    differences: list[dict[str, Any]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    breaks: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    error: str | None = None
    """Why the audit could not be made at all (Kafka or the service did not answer)."""
    json_text: str = ""
    csv_text: str = ""


def _describe(item: Any) -> str:
    describe = getattr(item, "describe", None)
    return str(describe()) if callable(describe) else str(item)


def _differences(result: Any) -> list[dict[str, Any]]:
    found = getattr(result, "differences", None)
    if found is None:  # the vouchers audit keeps them in its comparison
        comparison = getattr(result, "comparison", None)
        found = getattr(comparison, "differences", None) or []
    return [
        {
            "subject": d.subject,
            "figure": d.figure,
            "tally_cents": d.tally_cents,
            "service_cents": d.service_cents,
        }
        for d in found
    ]


def outcome_of(ledger: str, result: Any, unreadable: list[str]) -> AuditOutcome:
    """The portal's view of a ``benecomune_auditor`` audit result."""
    replay = result.replay
    rows = io.StringIO()
    writer = csv.DictWriter(rows, fieldnames=list(result.CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(result.csv_rows())
    as_dict = result.as_dict()
    if unreadable:
        as_dict["ok"] = False
        as_dict["service_figures_unreadable"] = unreadable
    return AuditOutcome(
        ledger=ledger,
        ok=bool(result.ok) and not unreadable,
        generated_at=result.generated_at,
        seal=replay.seal.digest if replay.seal is not None else None,
        sealed_streams=len(replay.seal.heads) if replay.seal is not None else 0,
        records=replay.records,
        ledger_events=replay.ledger_events,
        chain_intact=bool(replay.intact),
        compared_with=getattr(result, "compared_with", None)
        or getattr(getattr(result, "comparison", None), "against", None),
        differences=_differences(result),
        violations=[_describe(v) for v in getattr(result, "violations", [])],
        breaks=[_describe(b) for b in replay.breaks],
        unreadable=list(unreadable),
        summary=list(result.summary_lines()),
        json_text=json.dumps(as_dict, indent=2, ensure_ascii=False, default=str) + "\n",
        csv_text=rows.getvalue(),
    )


def failed(ledger: str, error: str) -> AuditOutcome:
    return AuditOutcome(ledger=ledger, ok=False, generated_at=datetime.now(UTC), error=error)


def run_audit(
    ledger_name: str,
    *,
    bootstrap: str,
    topic_prefix: str,
    service_url: str,
    token: str,
    timeout_seconds: float = AUDIT_TIMEOUT_SECONDS,
) -> AuditOutcome:
    """Replay ``ledger_name``'s topic and compare with the service at ``service_url`` (blocking:
    call it in a worker thread). A topic or service that cannot be read makes an outcome with
    ``error``; a service that cannot give its figures at the replay's point fails the audit."""
    import httpx
    from benecomune_auditor.kafka_copy import KafkaReadError, read_kafka
    from benecomune_auditor.ledgers import audited_ledger

    ledger = audited_ledger(ledger_name)
    unreadable: list[str] = []

    def figures(upto: int | None = None) -> Any:
        try:
            return ledger.figures_from_api(service_url, token, upto)
        except httpx.HTTPStatusError as error:
            unreadable.append(f"{error.response.status_code}: {error.response.text[:200]}")
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            unreadable.append(f"{type(error).__name__}: {error}")
        return None

    topic = f"{topic_prefix}{ledger.topic}"
    try:
        copy = read_kafka(bootstrap, topic, timeout_seconds=timeout_seconds, workers=0)
        result = ledger.audit(
            copy.records(),
            source=f"Kafka topic {topic} at {bootstrap}",
            problems=copy.problems,
            figures=figures,
        )
    except KafkaReadError as error:
        return failed(ledger_name, str(error))
    if copy.cut is not None:
        result.replay.cut_at = copy.cut.notification_id
        result.replay.left_for_next_audit = copy.beyond_cut
    return outcome_of(ledger_name, result, unreadable)


Runner = Callable[..., AuditOutcome]
