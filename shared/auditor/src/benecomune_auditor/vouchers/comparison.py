"""The vouchers service's own figures — over its HTTP API or through its store hook — and their
comparison with the tally's, figure by figure, to the cent."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from benecomune_auditor.service_hooks import LedgerStore
from benecomune_auditor.vouchers.naming import EventRef, Trail, euro

if TYPE_CHECKING:
    import httpx

    from benecomune_auditor.vouchers.tally import VouchersTally

__all__ = [
    "FUND_FIGURES",
    "MERCHANT_FIGURES",
    "Comparison",
    "Difference",
    "ServiceFigures",
    "compare",
    "figures_from_answer",
    "figures_from_api",
    "figures_from_store",
]

FUND_FIGURES = (
    "allocated_cents",
    "assigned_to_rounds_cents",
    "issued_cents",
    "redeemed_cents",
    "reimbursed_cents",
    "returned_cents",
    "available_cents",
)
MERCHANT_FIGURES = ("redeemed_cents", "claimed_cents", "approved_cents", "reimbursed_cents")


@dataclass(frozen=True)
class ServiceFigures:
    """The figures the service reports, per fund and per (round, merchant)."""

    against: str
    funds: dict[str, dict[str, int]]
    merchants: dict[tuple[str, str], dict[str, int]] | None = None


def figures_from_answer(answer: Mapping[str, Any], against: str) -> ServiceFigures:
    """The figures in the service's answer to ``GET /audit/figures?upto=`` (the same JSON its
    store hook gives: ``{"funds": [...], "merchants": [...]}``)."""
    funds: dict[str, dict[str, int]] = {}
    merchants: dict[tuple[str, str], dict[str, int]] = {}
    for item in answer["funds"]:
        funds[str(item["fund_id"])] = {name: int(item[name]) for name in FUND_FIGURES}
    for item in answer["merchants"]:
        merchants[(str(item["round_id"]), str(item["merchant_id"]))] = {
            name: int(item[name]) for name in MERCHANT_FIGURES
        }
    return ServiceFigures(against, funds, merchants)


def figures_from_store(store: LedgerStore, upto: int | None = None) -> ServiceFigures:
    """In-process, through the service's store hook: its figures now or, given ``upto`` (the
    last notification id the replay read), at the point the replay reached, however far the
    service moved on."""
    if upto is None:
        return figures_from_answer(store.figures_at(None), "the service's application (in-process)")
    return figures_from_answer(
        store.figures_at(upto),
        f"the service's application (in-process, up to notification {upto})",
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
    /audit/figures?upto=`` (the figures once the events up to that notification were
    stored); otherwise the live figures, ``GET /funds``, then ``GET /rounds/{id}/merchants``
    for every round of every fund. Raises ``httpx.HTTPError`` (``HTTPStatusError`` for a
    4xx/5xx answer: 409 when the store does not reach ``upto``)."""
    import httpx

    own = client is None
    http = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
    headers = {"Authorization": f"Bearer {token}"}
    funds: dict[str, dict[str, int]] = {}
    merchants: dict[tuple[str, str], dict[str, int]] = {}
    try:
        if upto is not None:
            response = http.get("/audit/figures", headers=headers, params={"upto": upto})
            response.raise_for_status()
            return figures_from_answer(
                response.json(), f"the service's API at {base_url} (up to notification {upto})"
            )
        response = http.get("/funds", headers=headers)
        response.raise_for_status()
        for item in response.json():
            fund_id = str(item["fund_id"])
            funds[fund_id] = {name: int(item[name]) for name in FUND_FIGURES}
            for round_id in item.get("round_ids", []):
                answer = http.get(f"/rounds/{round_id}/merchants", headers=headers)
                answer.raise_for_status()
                for account in answer.json():
                    merchants[(str(round_id), str(account["merchant_id"]))] = {
                        name: int(account[name]) for name in MERCHANT_FIGURES
                    }
    finally:
        if own:
            http.close()
    return ServiceFigures(f"the service's API at {base_url}", funds, merchants)


@dataclass(frozen=True)
class Difference:
    """A figure on which the tally and the service disagree (None: one side lacks it)."""

    subject: str
    figure: str
    tally_cents: int | None
    service_cents: int | None
    events_counted: int
    events: tuple[EventRef, ...]

    def describe(self) -> str:
        tally = "none" if self.tally_cents is None else euro(self.tally_cents)
        service = "none" if self.service_cents is None else euro(self.service_cents)
        gap = ""
        if self.tally_cents is not None and self.service_cents is not None:
            gap = f" (difference {euro(self.tally_cents - self.service_cents)})"
        return (
            f"{self.subject} {self.figure}: events say {tally}, the service says {service}"
            f"{gap}; {self.events_counted} events counted"
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["events"] = [e.as_dict() for e in self.events]
        return data


@dataclass(frozen=True)
class Comparison:
    against: str
    funds: int
    merchants: int
    differences: list[Difference]

    def as_dict(self) -> dict[str, Any]:
        return {
            "against": self.against,
            "funds_compared": self.funds,
            "merchant_accounts_compared": self.merchants,
            "differences": [d.as_dict() for d in self.differences],
            "match": not self.differences,
        }


def compare(tally: VouchersTally, service: ServiceFigures) -> Comparison:
    """Every figure of every fund (and shop, when the service gave them), to the cent."""
    differences: list[Difference] = []
    ours = tally.fund_figures()
    for fund_id in sorted(ours.keys() | service.funds.keys()):
        trails = tally.fund_trails(fund_id) if fund_id in ours else {}
        differences.extend(
            _differences(f"fund {fund_id}", ours.get(fund_id), service.funds.get(fund_id), trails)
        )
    merchants = 0
    if service.merchants is not None:
        our_merchants = tally.merchant_figures()
        keys = sorted(our_merchants.keys() | service.merchants.keys())
        merchants = len(keys)
        for round_id, merchant_id in keys:
            differences.extend(
                _differences(
                    f"merchant {merchant_id} in round {round_id}",
                    our_merchants.get((round_id, merchant_id)),
                    service.merchants.get((round_id, merchant_id)),
                    tally.merchant_trails(round_id, merchant_id),
                )
            )
    return Comparison(
        service.against, len(ours.keys() | service.funds.keys()), merchants, differences
    )


def _differences(
    subject: str,
    ours: dict[str, int] | None,
    theirs: dict[str, int] | None,
    trails: dict[str, Trail],
) -> Iterator[Difference]:
    names = list((ours or theirs or {}).keys())
    for name in names:
        mine = None if ours is None else ours.get(name)
        service = None if theirs is None else theirs.get(name)
        if mine != service:
            trail = trails.get(name, Trail())
            yield Difference(subject, name, mine, service, trail.events, tuple(trail.last))
