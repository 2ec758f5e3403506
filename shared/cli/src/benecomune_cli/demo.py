"""``benecomune demo``: demo data for a territory, loaded through the services' public APIs
(as a real operator, social worker, household and shop would), once: a marker under var/
remembers it was done.

The Biella story: the city's share of the 2020 national food-voucher measure and a bank
foundation's donation; a round whose budget cannot serve every household; twelve households
in every status (served, waitlisted, approved and waiting, rejected with a reason, not yet
reviewed); three shops of the city, where vouchers are partly spent; one reimbursement paid,
one approved and waiting for payment. The demo tokens (``benecomune token demo``) act for
``beneficiary:b-biella-001`` and ``merchant:m-biella-001``, who both have something to see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import typer
from servicekit.auth import DevIssuer
from servicekit.italian_ids import fiscal_code_check_character
from servicekit.settings import ServiceSettings
from servicekit.territory import load_territory

from benecomune_cli import demo_booking, demo_catalog, demo_wallet
from benecomune_cli.demo_api import DemoApi
from benecomune_cli.demo_territory import BIELLA, SHOPS
from benecomune_cli.local_services import service_url

DemoLoad = Callable[[httpx.Client, DevIssuer], list[str]]

app = typer.Typer(name="demo", no_args_is_help=True, help="Load demo data into running services.")

# Biella's share of the 2020 national food-voucher measure, a bank foundation's donation, and
# a neighbouring town's allocation: the story an operator sees on the first screen.
DEMO_FUNDS = [
    {
        "municipality_istat": BIELLA,
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

# 150 EUR per household, 50 more per extra member and per minor, at most 500 EUR; ISEE up to
# 9,360 EUR; households already helped by other public support come after the others.
DEMO_RULES = {
    "base_cents": 15_000,
    "per_extra_member_cents": 5_000,
    "per_minor_cents": 5_000,
    "cap_cents": 50_000,
    "isee_threshold_cents": 936_000,
    "other_support_policy": "lower_priority",
}
# Enough for the five neediest households approved (1,450 EUR), not for the three after them.
DEMO_ROUND_BUDGET_CENTS = 150_000


def fiscal_code(body: str) -> str:
    """A personal fiscal code from its first 15 characters (born in Biella: A859)."""
    return body + fiscal_code_check_character(body)


@dataclass(frozen=True)
class Member:
    body: str  # the fiscal code's first 15 characters
    first_name: str
    last_name: str
    minor: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "fiscal_code": fiscal_code(self.body),
            "first_name": self.first_name,
            "last_name": self.last_name,
            "minor": self.minor,
        }


@dataclass(frozen=True)
class Household:
    beneficiary: str
    address: str
    isee_cents: int
    applicant: Member
    others: list[Member] = field(default_factory=list)
    other_public_support: bool = False
    # What the social worker does: "approve" (before issuance), "approve_later" (after it: the
    # household waits for the next issuance), "reject" (with the reason) or nothing yet.
    review: str = "approve"
    reason: tuple[str, str] | None = None


HOUSEHOLDS = [
    Household(
        "b-biella-001",
        "Via Italia 12, 13900 Biella",
        420_000,
        Member("FRRLCU84C52A859", "Lucia", "Ferrero"),
        [
            Member("FRRGLI15H43A859", "Giulia", "Ferrero", minor=True),
            Member("FRRLCU18P21A859", "Luca", "Ferrero", minor=True),
        ],
    ),
    Household(
        "b-biella-002",
        "Via Pietro Micca 5, 13900 Biella",
        310_000,
        Member("BRTGNN58A15A859", "Giovanni", "Bertolino"),
    ),
    Household(
        "b-biella-003",
        "Corso del Piazzo 21, 13900 Biella",
        650_000,
        Member("GLLNNA90E47A859", "Anna", "Gallo"),
        [
            Member("RSSDVD88S30A859", "Davide", "Rosso"),
            Member("GLLSFO20B54A859", "Sofia", "Gallo", minor=True),
        ],
    ),
    Household(
        "b-biella-004",
        "Via Lamarmora 40, 13900 Biella",
        280_000,
        Member("CRSPLA49L04A859", "Paolo", "Crosa"),
        [Member("PZZMRA51R50A859", "Maria", "Pozzo")],
    ),
    Household(
        "b-biella-005",
        "Via Rosselli 77, 13900 Biella",
        150_000,
        Member("LDRFTM87D62Z330", "Fatima", "El Idrissi"),
        [
            Member("LDRMNA12M41A859", "Amina", "El Idrissi", minor=True),
            Member("LDRYSF14T05A859", "Youssef", "El Idrissi", minor=True),
            Member("LDRSRA19C59A859", "Sara", "El Idrissi", minor=True),
        ],
    ),
    Household(
        "b-biella-006",
        "Via Bertodano 3, 13900 Biella",
        800_000,
        Member("SLLGPP62B28A859", "Giuseppe", "Sella"),
    ),
    Household(
        "b-biella-007",
        "Strada Campagnè 9, 13900 Biella",
        190_000,
        Member("ZGNRSO95H56A859", "Rosa", "Zegna"),
        [Member("ZGNLRD21A09A859", "Leonardo", "Zegna", minor=True)],
        other_public_support=True,
    ),
    Household(
        "b-biella-008",
        "Via Trossi 18, 13900 Biella",
        700_000,
        Member("VRCMRC70R02A859", "Marco", "Vercellone"),
        [Member("BNCLNE72T52A859", "Elena", "Bianco")],
    ),
    Household(
        "b-biella-009",
        "Via Mazzini 2, 13900 Biella",
        500_000,
        Member("MSCTRS44M65A859", "Teresa", "Mosca"),
        review="approve_later",
    ),
    Household(
        "b-biella-010",
        "Via Torino 51, 13900 Biella",
        1_500_000,
        Member("PLLNDR80D04A859", "Andrea", "Pellegrino"),
        review="reject",
        reason=("isee_above_threshold", "ISEE 15,000.00 EUR, above the 9,360.00 EUR threshold"),
    ),
    Household(
        "b-biella-011",
        "Via Cernaia 14, 13900 Biella",
        260_000,
        Member("CDOSLV78P49A859", "Silvia", "Coda"),
        [Member("CDOPTR16E05A859", "Pietro", "Coda", minor=True)],
        review="reject",
        reason=("incomplete_documents", "The self-declaration came without an identity document"),
    ),
    Household(
        "b-biella-012",
        "Via Milano 88, 13900 Biella",
        340_000,
        Member("BTTFNC66C03A859", "Franco", "Botta"),
        review="",
    ),
]

# At the till: (household, which of its vouchers, shop, amount, goods).
PURCHASES = [
    ("b-biella-001", 0, "m-biella-001", 4_250, "food"),
    ("b-biella-001", 0, "m-biella-002", 380, "food"),
    ("b-biella-001", 1, "m-biella-003", 1_290, "hygiene"),
    ("b-biella-005", 0, "m-biella-001", 3_175, "food"),
    ("b-biella-005", 1, "m-biella-003", 1_890, "baby_care"),
    ("b-biella-002", 0, "m-biella-002", 670, "food"),
    ("b-biella-004", 0, "m-biella-001", 2_460, "food"),
]


def marker_path(territory: str, service: str) -> Path:
    # Beside the stores: deleting the data forgets the demo too, so it is loaded again. One
    # marker per service, so a service added later still gets its demo on the next run.
    return ServiceSettings().data_dir / f"demo-{territory}-{service}.loaded"


class DemoLoader(DemoApi):
    """Drives the vouchers API as each role would, with that role's development token."""

    def __init__(self, client: httpx.Client, issuer: DevIssuer) -> None:
        super().__init__(client, issuer, "vouchers")

    def load(self) -> list[str]:
        fund_ids = [self.call("POST", "/funds", "operator", json=f)["fund_id"] for f in DEMO_FUNDS]
        biella_fund = fund_ids[0]
        self.call("POST", f"/funds/{biella_fund}/top-ups", "operator", json=DEMO_DONATION)
        round_id = self.open_round(biella_fund)
        for shop in SHOPS:
            body = {
                "merchant_id": shop.merchant_id,
                "vat_number": shop.vat_number,
                "goods_categories": shop.goods_categories,
            }
            # 409: the shop already joined the round, from the catalogue's demo (its
            # MerchantAffiliated event reached the vouchers service first).
            self.call("POST", f"/rounds/{round_id}/merchants", "operator", json=body, accept=(409,))
        applications = {h.beneficiary: self.apply(round_id, h) for h in HOUSEHOLDS}
        for household in HOUSEHOLDS:
            self.review(household, applications[household.beneficiary], "approve", "reject")
        self.call("POST", f"/rounds/{round_id}/issue", "operator")
        for household in HOUSEHOLDS:
            self.review(household, applications[household.beneficiary], "approve_later")
        self.shop(round_id)
        return fund_ids

    def open_round(self, fund_id: str) -> str:
        now = datetime.now(UTC).replace(microsecond=0)
        body = {
            "fund_id": fund_id,
            "title": "Buoni spesa alimentari — Città di Biella",
            "opens_at": (now - timedelta(days=7)).isoformat(),
            "closes_at": (now + timedelta(days=23)).isoformat(),
            "budget_cents": DEMO_ROUND_BUDGET_CENTS,
            "rules": DEMO_RULES,
            "validity_days": 90,
        }
        round_id: str = self.call("POST", "/rounds", "operator", json=body)["round_id"]
        return round_id

    def apply(self, round_id: str, household: Household) -> str:
        body = {
            "round_id": round_id,
            "applicant": household.applicant.as_json(),
            "other_members": [m.as_json() for m in household.others],
            "address": household.address,
            "isee_cents": household.isee_cents,
            "other_public_support": household.other_public_support,
            "self_declaration": True,
        }
        answer = self.call("POST", "/applications", "beneficiary", household.beneficiary, json=body)
        application_id: str = answer["application_id"]
        return application_id

    def review(self, household: Household, application_id: str, *now: str) -> None:
        if household.review not in now:
            return
        path = f"/applications/{application_id}"
        if household.review == "reject":
            assert household.reason is not None
            code, reason = household.reason
            body = {"reason_code": code, "reason": reason}
            self.call("POST", f"{path}/reject", "social_worker", json=body)
        else:
            self.call("POST", f"{path}/approve", "social_worker")

    def shop(self, round_id: str) -> None:
        codes: dict[str, list[str]] = {}
        for number, (beneficiary, index, merchant_id, amount, goods) in enumerate(PURCHASES):
            if beneficiary not in codes:
                mine = self.call("GET", "/vouchers/mine", "beneficiary", beneficiary)
                codes[beneficiary] = [v["code"] for v in mine]
            body = {
                "code": codes[beneficiary][index],
                "amount_cents": amount,
                "goods_category": goods,
                "request_id": f"demo-{number:04d}",
            }
            self.call(
                "POST", f"/merchants/{merchant_id}/redemptions", "merchant", merchant_id, json=body
            )
        # A mistaken amount at the bakery, voided at once and typed again.
        code = codes["b-biella-002"][0]
        wrong = {
            "code": code,
            "amount_cents": 1_200,
            "goods_category": "food",
            "request_id": "demo-w",
        }
        redemption = self.call(
            "POST", "/merchants/m-biella-002/redemptions", "merchant", "m-biella-002", json=wrong
        )
        void = {"code": code, "redemption_id": redemption["redemption_id"]}
        self.call("POST", "/merchants/m-biella-002/voids", "merchant", "m-biella-002", json=void)
        right = {**wrong, "amount_cents": 120, "request_id": "demo-r"}
        self.call(
            "POST", "/merchants/m-biella-002/redemptions", "merchant", "m-biella-002", json=right
        )
        # Paolo Crosa names his neighbour, who does his shopping, as delegate on one voucher.
        voucher_id = self.call("GET", "/vouchers/mine", "beneficiary", "b-biella-004")[0][
            "voucher_id"
        ]
        self.call(
            "POST",
            f"/vouchers/{voucher_id}/delegate",
            "beneficiary",
            "b-biella-004",
            json={"delegate_id": "b-biella-012"},
        )
        # The grocer is paid; the bakery's claim is approved and awaits payment. Claim periods
        # are the territory's calendar days (a sale at 23:30 UTC is tomorrow in Biella).
        zone = load_territory(self.issuer.territory, ServiceSettings().territories_dir).zoneinfo
        today = datetime.now(zone).date()
        period = {"period_from": str(today - timedelta(days=7)), "period_to": str(today)}
        due = {"payment_due_on": str(today + timedelta(days=30))}
        for merchant_id, paid in (("m-biella-001", True), ("m-biella-002", False)):
            claim = self.call(
                "POST",
                f"/merchants/{merchant_id}/rounds/{round_id}/claims",
                "merchant",
                merchant_id,
                json=period,
            )
            path = f"/rounds/{round_id}/merchants/{merchant_id}/claims/{claim['claim_id']}"
            self.call("POST", f"{path}/approve", "operator", json=due)
            if paid:
                reference = {"payment_reference": f"CRO {today:%Y%m%d}0001"}
                self.call("POST", f"{path}/pay", "operator", json=reference)


def load_vouchers_demo(client: httpx.Client, issuer: DevIssuer) -> list[str]:
    """The vouchers story through the vouchers API; returns the fund ids."""
    return DemoLoader(client, issuer).load()


def demo_loaders() -> dict[str, DemoLoad]:
    """Each service's demo, in the order they are loaded (the catalogue first: it is what
    people see first)."""
    return {
        "catalog": demo_catalog.load,
        "vouchers": load_vouchers_demo,
        "wallet": demo_wallet.load,
        "booking": demo_booking.load,  # after the catalogue's and the wallet's: it uses them
    }


def load_once(urls: Mapping[str, str], territory: str, keys_dir: Path) -> list[str]:
    """Load the demo of every running service (``urls``: name → base URL) whose demo was not
    loaded before; returns the services loaded now. A service whose load fails half-way has
    no marker and is tried again next time (``--force`` is not needed)."""
    issuer = DevIssuer(territory, keys_dir)
    loaded = []
    for service, loader in demo_loaders().items():
        marker = marker_path(territory, service)
        if service not in urls or marker.exists():
            continue
        with httpx.Client(base_url=urls[service], timeout=30) as client:
            ids = loader(client, issuer)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("\n".join(ids) + "\n")
        loaded.append(service)
    return loaded


@app.command("load")
def load(
    services: list[str] = typer.Option(
        [], "--service", help="Only this service's demo (repeatable; default: every service)."
    ),
    force: bool = typer.Option(False, help="Load again even if it was loaded before."),
) -> None:
    """Load the territory's demo data into the running services (on their local ports, or
    <SERVICE>_HTTP_PORT)."""
    settings = ServiceSettings()
    known = demo_loaders()
    unknown = sorted(set(services) - known.keys())
    if unknown:
        typer.echo(f"error: no demo for {', '.join(unknown)} (known: {', '.join(known)})", err=True)
        raise typer.Exit(2)
    chosen = services or list(known)
    if force:
        for service in chosen:
            marker_path(settings.territory, service).unlink(missing_ok=True)
    urls = {service: service_url(service) for service in chosen}
    try:
        loaded = load_once(urls, settings.territory, settings.keys_dir)
    except httpx.HTTPError as error:
        typer.echo(f"error: a service did not answer ({error!r}); is `make run` running?", err=True)
        raise typer.Exit(1) from None
    for service in chosen:
        state = "loaded" if service in loaded else "was already loaded (use --force)"
        typer.echo(f"{service} demo data for {settings.territory} {state}")
