"""The wallet service's own figures — over its HTTP API or through its store hook — and their
comparison with the tally's, to the cent: every plan figure and every taxable fringe amount."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from benecomune_auditor.service_hooks import LedgerStore

if TYPE_CHECKING:
    import httpx

    from benecomune_auditor.wallet.tally import WalletTally

__all__ = [
    "PLAN_FIGURES",
    "Difference",
    "ServiceFigures",
    "compare",
    "figures_from_answer",
    "figures_from_api",
    "figures_from_store",
]

PLAN_FIGURES = (
    "budget_cents",
    "loaded_cents",
    "carried_in_cents",
    "bonus_converted_cents",  # only for plans that allow the conversion
    "spent_cents",
    "held_cents",
    "left_cents",
    "expired_cents",
    "carried_over_cents",
    "unallocated_cents",
    "returned_to_employer_cents",
)


@dataclass(frozen=True)
class ServiceFigures:
    against: str
    plans: dict[str, dict[str, int]]
    taxable_fringe: dict[tuple[str, int], int]


def figures_from_answer(answer: Mapping[str, Any], against: str) -> ServiceFigures:
    """The figures in the service's answer to ``GET /audit/figures?upto=`` (the same JSON its
    store hook gives: ``{"plans": [statements], "payroll": [lines]}``)."""
    plans = {str(statement["plan_id"]): _plan_figures(statement) for statement in answer["plans"]}
    taxable = {
        (str(line["employee_id"]), int(line["year"])): int(line["taxable_cents"])
        for line in answer["payroll"]
    }
    return ServiceFigures(against, plans, taxable)


def figures_from_store(store: LedgerStore, upto: int | None = None) -> ServiceFigures:
    """In-process, through the service's store hook: the plan statements and payroll now or,
    given ``upto`` (the last notification id the replay read), as they were once the events up
    to there were stored."""
    if upto is None:
        return figures_from_answer(store.figures_at(None), "the service's application")
    return figures_from_answer(
        store.figures_at(upto), f"the service's application (up to notification {upto})"
    )


def figures_from_api(
    base_url: str,
    token: str,
    *,
    upto: int | None = None,
    client: httpx.Client | None = None,
    timeout: float = 120.0,
) -> ServiceFigures:
    """Over the service's HTTP API with an auditor token: given ``upto``, ``GET
    /audit/figures?upto=`` (as they were once the events up to that notification were
    stored); otherwise the live ``GET /plans``, every plan's ``GET /plans/{id}/report`` and
    ``GET /payroll/{year}`` for every plan year. Raises ``httpx.HTTPError``
    (``HTTPStatusError`` for a 4xx/5xx answer: 409 when the store does not reach ``upto``)."""
    import httpx

    own = client is None
    http = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
    headers = {"Authorization": f"Bearer {token}"}

    def get(path: str, **params: Any) -> Any:
        response = http.get(path, headers=headers, params=params)
        response.raise_for_status()
        return response.json()

    try:
        plans: dict[str, dict[str, int]] = {}
        if upto is not None:
            return figures_from_answer(
                get("/audit/figures", upto=upto),
                f"the service's API at {base_url} (up to notification {upto})",
            )
        years: set[int] = set()
        for plan in get("/plans"):
            report = get(f"/plans/{plan['plan_id']}/report")
            plans[str(plan["plan_id"])] = _plan_figures(report)
            years.add(int(plan["year"]))
        taxable = {
            (str(line["employee_id"]), int(line["year"])): int(line["taxable_cents"])
            for year in sorted(years)
            for line in get(f"/payroll/{year}")
        }
    finally:
        if own:
            http.close()
    return ServiceFigures(f"the service's API at {base_url}", plans, taxable)


def _plan_figures(statement: dict[str, Any]) -> dict[str, int]:
    """The audited figures of a plan statement (a figure the plan does not have is None)."""
    return {name: int(v) for name in PLAN_FIGURES if (v := statement.get(name)) is not None}


@dataclass(frozen=True)
class Difference:
    subject: str
    figure: str
    tally_cents: int | None
    service_cents: int | None

    def describe(self) -> str:
        return (
            f"{self.subject} {self.figure}: events say {self.tally_cents}, the service says "
            f"{self.service_cents}"
        )


def compare(tally: WalletTally, service: ServiceFigures) -> list[Difference]:
    differences: list[Difference] = []
    ours = tally.plan_figures()
    for plan_id in sorted(ours.keys() | service.plans.keys()):
        mine, theirs = ours.get(plan_id, {}), service.plans.get(plan_id, {})
        for name in PLAN_FIGURES:
            if mine.get(name) != theirs.get(name):
                differences.append(
                    Difference(f"plan {plan_id}", name, mine.get(name), theirs.get(name))
                )
    taxable = tally.taxable_fringe()
    for key in sorted(taxable.keys() | service.taxable_fringe.keys()):
        if taxable.get(key, 0) != service.taxable_fringe.get(key, 0):
            differences.append(
                Difference(
                    f"employee {key[0]} in {key[1]}",
                    "taxable_fringe_cents",
                    taxable.get(key),
                    service.taxable_fringe.get(key),
                )
            )
    return differences
