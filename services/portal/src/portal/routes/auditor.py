"""Pages of the auditor: the live fund monitor (each municipality's money allocated, issued,
redeemed and reimbursed, from the vouchers service's figures, refreshed every few seconds with
htmx and announced only when a figure changed; without JavaScript, a reload) and the audits
(the independent replay of a ledger with its verdict, the differences, the seal, and the
result to download as CSV, JSON and the PDF "rendicontazione" the command line writes too,
by :mod:`benecomune_auditor.pdf`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Annotated, Any

from babel.dates import format_time
from babel.numbers import format_currency
from benecomune_auditor.pdf import report_lines, text_pdf
from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from portal import charts
from portal.access import signed_in
from portal.clients import auditor as auditor_api
from portal.i18n import translations
from portal.labels import N_
from portal.rendering import language_of, render
from portal.security import check_csrf

router = APIRouter()

POLL_SECONDS = 3
KEPT_AUDITS = 20  # the latest audits' results kept for download (in this process)
FIGURES = (
    ("allocated_cents", N_("Allocated")),
    ("issued_cents", N_("Issued")),
    ("redeemed_cents", N_("Redeemed")),
    ("reimbursed_cents", N_("Reimbursed")),
)
LEDGER_LABELS = {
    "vouchers": N_("Shopping vouchers (funds, rounds, shops)"),
    "wallet": N_("Company welfare (plans, wallets, fringe benefits)"),
}


# --- fund monitor --------------------------------------------------------------------------


def by_municipality(request: Request, funds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The funds' figures added up per municipality, in the territory's order of towns."""
    territory = request.app.state.territory
    names = {m.istat_code: m.name for m in territory.municipalities}
    totals: dict[str, dict[str, Any]] = {}
    for fund in funds:
        istat = str(fund.get("municipality_istat", ""))
        row = totals.setdefault(
            istat,
            {"istat": istat, "name": names.get(istat, istat), "funds": 0}
            | {key: 0 for key, _ in FIGURES},
        )
        row["funds"] += 1
        for key, _ in FIGURES:
            row[key] += int(fund.get(key) or 0)
    order = {code: n for n, code in enumerate(names)}
    return sorted(totals.values(), key=lambda r: (order.get(r["istat"], len(order)), r["istat"]))


def digest_of(rows: list[dict[str, Any]]) -> str:
    """A short fingerprint of the figures: the page polls with it and hears back only a change."""
    text = json.dumps(rows, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _monitor_chart(request: Request, rows: list[dict[str, Any]]) -> Any:
    language = language_of(request)
    _ = translations(language).gettext
    groups = [
        charts.Group(row["name"], [charts.Bar(_(label), row[key]) for key, label in FIGURES])
        for row in rows
    ]
    return charts.bar_chart(
        groups,
        title=_("Funds per municipality"),
        description=_("Bar chart; the figures are in the table that follows."),
        value_text=lambda cents: format_currency(cents / 100, "EUR", locale=language),
        chart_id="monitor",
    )


@router.get("/auditor/monitor", include_in_schema=False)
async def monitor(request: Request, since: Annotated[str, Query(max_length=64)] = "") -> Response:
    session = signed_in(request, "auditor")
    funds = await auditor_api.funds(request.app.state.services.vouchers, session.token)
    rows = by_municipality(request, funds)
    digest = digest_of(rows)
    partial = (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )
    if partial and since == digest:
        return Response(status_code=204)  # nothing changed: htmx swaps nothing, nothing is read out
    territory = request.app.state.territory
    read_at = format_time(
        datetime.now(UTC).astimezone(territory.zoneinfo), "HH:mm:ss", locale=language_of(request)
    )
    context = {
        "rows": rows,
        "figures": FIGURES,
        "digest": digest,
        "changed": partial and bool(since),
        "read_at": read_at,
        "chart": _monitor_chart(request, rows),
        "poll_seconds": POLL_SECONDS,
    }
    template = "auditor/_monitor.html" if partial else "auditor/monitor.html"
    response = render(request, template, context)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "HX-Request, HX-History-Restore-Request, Accept-Language, Cookie"
    return response


# --- audits --------------------------------------------------------------------------------


def _kept(request: Request) -> OrderedDict[str, auditor_api.AuditOutcome]:
    state = request.app.state
    kept: OrderedDict[str, auditor_api.AuditOutcome] | None = getattr(state, "audits", None)
    if kept is None:
        kept = OrderedDict()
        state.audits = kept
    return kept


@router.get("/auditor/audits", include_in_schema=False)
async def audits(request: Request) -> Response:
    signed_in(request, "auditor")
    latest = [(audit_id, outcome) for audit_id, outcome in reversed(_kept(request).items())]
    context = {"ledgers": auditor_api.LEDGERS, "ledger_labels": LEDGER_LABELS, "latest": latest}
    return render(request, "auditor/audits.html", context)


@router.post("/auditor/audits", include_in_schema=False)
async def run_audit(
    request: Request,
    csrf_token: Annotated[str | None, Form()] = None,
    ledger: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    session = signed_in(request, "auditor")
    if ledger not in auditor_api.LEDGERS:
        context = {
            "ledgers": auditor_api.LEDGERS,
            "ledger_labels": LEDGER_LABELS,
            "latest": list(reversed(_kept(request).items())),
            "error": N_("Choose the ledger to audit."),
        }
        return render(request, "auditor/audits.html", context, status=422)
    settings = request.app.state.settings
    service_url = getattr(settings, f"{ledger}_url")
    lock: asyncio.Lock | None = getattr(request.app.state, "audit_lock", None)
    if lock is None:
        lock = request.app.state.audit_lock = asyncio.Lock()
    async with lock:  # one replay at a time: each reads a whole topic
        outcome = await asyncio.to_thread(
            auditor_api.run_audit,
            ledger,
            bootstrap=settings.kafka_bootstrap,
            topic_prefix=settings.kafka_topic_prefix,
            service_url=service_url,
            token=session.token,
        )
    kept = _kept(request)
    audit_id = uuid.uuid4().hex
    kept[audit_id] = outcome
    while len(kept) > KEPT_AUDITS:
        kept.popitem(last=False)
    return RedirectResponse(f"/auditor/audits/{audit_id}", status_code=303)


def _outcome(request: Request, audit_id: str) -> auditor_api.AuditOutcome | None:
    return _kept(request).get(audit_id)


@router.get("/auditor/audits/{audit_id}", include_in_schema=False)
async def audit(request: Request, audit_id: str) -> Response:
    signed_in(request, "auditor")
    outcome = _outcome(request, audit_id)
    if outcome is None:
        return render(request, "auditor/audit_gone.html", {}, status=404)
    context = {"audit_id": audit_id, "outcome": outcome, "ledger_labels": LEDGER_LABELS}
    return render(request, "auditor/audit.html", context)


def _download(request: Request, audit_id: str, kind: str) -> Response:
    signed_in(request, "auditor")
    outcome = _outcome(request, audit_id)
    if outcome is None or outcome.error:
        return render(request, "auditor/audit_gone.html", {}, status=404)
    stamp = outcome.generated_at.strftime("%Y%m%dT%H%M%SZ")
    name = f"{outcome.ledger}-audit-{stamp}.{kind}"
    body: str | bytes
    if kind == "csv":
        body, media = outcome.csv_text, "text/csv; charset=utf-8"
    elif kind == "json":
        body, media = outcome.json_text, "application/json"
    else:
        body, media = audit_pdf(request, outcome), "application/pdf"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def pdf_title(ledger: str) -> str:
    """The rendicontazione's title: the ledger's, as the command line writes it."""
    from benecomune_auditor.ledgers import audited_ledger

    title = audited_ledger(ledger).pdf_title if ledger in auditor_api.LEDGERS else None
    return title or f"Rendicontazione {ledger} - verifica del revisore"


def audit_pdf(request: Request, outcome: auditor_api.AuditOutcome) -> bytes:
    """The audit as a PDF rendicontazione: the verdict the page shows (a service that could not
    give its figures fails it) and the seal, in the page's language, then the audit's own
    summary, as the command line writes it."""
    catalogue = translations(language_of(request))
    _, ngettext = catalogue.gettext, catalogue.ngettext
    head = [_("Verdict: OK") if outcome.ok else _("Verdict: differences found")]
    if outcome.seal:
        streams = ngettext("(%(num)s stream)", "(%(num)s streams)", outcome.sealed_streams)
        head.append(
            f"{_('Seal of the ledger (SHA-256)')}: {outcome.seal} "
            + streams % {"num": outcome.sealed_streams}
        )
    lines = [*head, "", *outcome.summary]
    if outcome.unreadable:
        lines += ["", _("The service could not give its figures"), *outcome.unreadable]
    return text_pdf(
        pdf_title(outcome.ledger),
        report_lines(outcome.generated_at, lines),
        created=outcome.generated_at,
    )


@router.get("/auditor/audits/{audit_id}/result.csv", include_in_schema=False)
async def audit_csv(request: Request, audit_id: str) -> Response:
    return _download(request, audit_id, "csv")


@router.get("/auditor/audits/{audit_id}/result.json", include_in_schema=False)
async def audit_json(request: Request, audit_id: str) -> Response:
    return _download(request, audit_id, "json")


@router.get("/auditor/audits/{audit_id}/result.pdf", include_in_schema=False)
async def audit_pdf_download(request: Request, audit_id: str) -> Response:
    return _download(request, audit_id, "pdf")
