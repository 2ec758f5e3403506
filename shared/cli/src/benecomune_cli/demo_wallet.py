"""The Biella demo of the wallet service (employer welfare plans, TUIR art. 51), loaded through
the wallet's public HTTP API as HR, employees, the booking saga and providers would drive it.

The story: three employers of the Biella district each fund a plan for the current year: a wool
mill (unspent credit carries over to next year's plan), a mechanical firm and a cooperative bank
(unspent credit goes back to them). HR uploads each plan's staff from a CSV export; one row of the
mill's file has a mistyped fiscal code and is rejected on its own. The mechanical firm's plan
lets employees take their productivity bonus as welfare credit: one converts 1,500 EUR of it.
Lucia names her son and her mother as family members and a caregiver as her delegate. Employees
then book services of the demo catalogue (at its prices): bookings delivered (captured), two
partly delivered, one cancelled (released), one still waiting for the provider (held: home care
for Lucia's mother, booked by the caregiver), one partly refunded by the provider; two purchases
under the fringe-benefit cap at a shop, and one employee who crosses the 1,000 EUR cap, is warned
(HTTP 409) and confirms that his whole year's fringe amount becomes taxable.

The demo tokens (``benecomune token demo``) act for ``employer:e-biella-001`` (the mill),
``beneficiary:b-biella-001`` (Lucia Ferrero, the same person as in the vouchers demo, who works
part-time at the mill) and ``provider:coop-il-filo`` (the catalogue's home-care cooperative):
each of them has something to see.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import httpx
from servicekit.auth import DevIssuer
from servicekit.italian_ids import fiscal_code_check_character, vat_number_check_digit

from benecomune_cli.demo_api import DemoApi, DemoDataError

log = logging.getLogger(__name__)

# The ids of the demo tokens (see benecomune_cli.tokens.demo_subject_id).
DEMO_EMPLOYER = "e-biella-001"
DEMO_EMPLOYEE = "b-biella-001"
DEMO_PROVIDER = "coop-il-filo"

# Where the money goes: providers of the demo catalogue (demo_catalog.py), by the id each uses
# in its bearer token, with the catalogue's prices.
LA_BESSA = "coop-la-bessa"  # after-school club, 160 EUR a month
VALLE_CERVO = "coop-valle-cervo"  # social transport, 18 EUR a trip
# Home care, 23.50 EUR an hour, by the cooperative the demo provider token acts for: it has
# captures and a refund to see.
HOME_CARE = DEMO_PROVIDER
SHOP = "m-biella-001"  # Alimentari del Piazzo: an affiliated shop, where fringe vouchers go
PROVIDERS = (LA_BESSA, VALLE_CERVO, HOME_CARE)

# Lucia's family (pseudonymous ids she chose: never names) and her mother's caregiver, another
# beneficiary of the territory, whom she names as her delegate.
LUCIA_SON = "son-1"
LUCIA_MOTHER = "mother-1"
FAMILY = {LUCIA_SON: "child", LUCIA_MOTHER: "parent"}
CAREGIVER = "b-biella-015"

# Pending bookings wait this long for the provider's acceptance before the hold expires.
HOLD_DAYS = 3


def vat_number(body: str) -> str:
    """A partita IVA from its first 10 digits (office code 096: Biella)."""
    return body + vat_number_check_digit(body)


def fiscal_code(body: str) -> str:
    """A personal fiscal code from its first 15 characters."""
    return body + fiscal_code_check_character(body)


def mistyped_fiscal_code(body: str) -> str:
    """The fiscal code with the next letter in place of its check character: HR's typo."""
    check = fiscal_code_check_character(body)
    return body + chr((ord(check) - ord("A") + 1) % 26 + ord("A"))


@dataclass(frozen=True)
class Employee:
    employee_id: str  # the pseudonymous id the employee logs in with
    name: str
    fiscal_code: str
    dependent_children: bool = False  # doubles the fringe-benefit cap (2,000 EUR)
    amount_eur: str = ""  # as HR types it; empty: the plan's credit per employee

    def csv_row(self) -> str:
        children = "sì" if self.dependent_children else "no"
        return f"{self.employee_id};{self.fiscal_code};{children};{self.amount_eur}"


@dataclass(frozen=True)
class Employer:
    employer_id: str
    name: str
    vat_number: str
    budget_cents: int
    credit_per_employee_cents: int
    categories: list[str]
    end_policy: Literal["reset", "carry_over"]
    staff: list[Employee] = field(default_factory=list)
    productivity_bonus: bool = False  # employees may convert their bonus into credit

    def plan_body(self, year: int) -> dict[str, Any]:
        # The plan runs for the calendar year of today's date (UTC): it is always active.
        return {
            "vat_number": self.vat_number,
            "year": year,
            "starts_on": str(date(year, 1, 1)),
            "ends_on": str(date(year, 12, 31)),
            "budget_cents": self.budget_cents,
            "credit_per_employee_cents": self.credit_per_employee_cents,
            "categories": self.categories,
            "end_policy": self.end_policy,
            "productivity_bonus": self.productivity_bonus,
        }

    def csv(self) -> str:
        """The staff as an Italian spreadsheet exports it: semicolons, sì/no, decimal commas."""
        rows = [e.csv_row() for e in self.staff]
        return "\n".join(["employee_id;fiscal_code;dependent_children;amount_eur", *rows]) + "\n"


# The one row meant to be rejected: its check letter is wrong.
MISTYPED_EMPLOYEE_ID = "b-biella-104"

EMPLOYERS = [
    Employer(
        DEMO_EMPLOYER,
        "Lanificio Alta Valsessera S.p.A.",
        vat_number("0203857096"),
        budget_cents=500_000,  # what is not allocated now is kept for new hires
        credit_per_employee_cents=80_000,
        categories=["education_childcare", "elderly_care", "fringe_purchase", "services_no_cap"],
        end_policy="carry_over",
        staff=[
            # Lucia Ferrero of the vouchers demo: the same person, the same fiscal code.
            Employee(DEMO_EMPLOYEE, "Lucia Ferrero", fiscal_code("FRRLCU84C52A859"), True),
            Employee("b-biella-101", "Marco Rondi", fiscal_code("RNDMRC79L05A859")),
            Employee("b-biella-102", "Chiara Bocca", fiscal_code("BCCCHR91S63A859"), True),
            Employee("b-biella-103", "Ion Popescu", fiscal_code("PPSNIO86B14Z129")),
            Employee(MISTYPED_EMPLOYEE_ID, "Paola Grosso", mistyped_fiscal_code("GRSPLA88E60A859")),
        ],
    ),
    Employer(
        "e-biella-002",
        "Officine Meccaniche Cossatesi S.r.l.",
        vat_number("0229318096"),
        budget_cents=400_000,
        credit_per_employee_cents=60_000,
        categories=["education_childcare", "fringe_purchase", "services_no_cap", "transport"],
        end_policy="reset",
        productivity_bonus=True,
        staff=[
            Employee("b-biella-201", "Stefano Gili", fiscal_code("GLISFN75P30A859"), True),
            # He takes 1,500 EUR of his productivity bonus as welfare credit (BONUS_CONVERSIONS).
            Employee("b-biella-202", "Roberto Vineis", fiscal_code("VNSRRT68D02A859")),
            Employee("b-biella-203", "Elisa Ramella", fiscal_code("RMLLSE93H57L219")),
            Employee("b-biella-204", "Salvatore Esposito", fiscal_code("SPSSVT72T08F839"), True),
        ],
    ),
    Employer(
        "e-biella-003",
        "Banca di Credito Cooperativo della Serra",
        vat_number("0154076096"),
        budget_cents=300_000,
        credit_per_employee_cents=100_000,
        categories=["education_childcare", "elderly_care", "services_no_cap", "transport"],
        end_policy="reset",
        staff=[
            Employee("b-biella-301", "Giorgia Perazzo", fiscal_code("PRZGRG88A59A859"), True),
            Employee("b-biella-302", "Luigi Ferraris", fiscal_code("FRRGUI61R11A859")),
        ],
    ),
]


@dataclass(frozen=True)
class Booking:
    """A booking at a provider, as the booking saga drives the wallet: hold the money, then
    capture it on delivery or release it on cancellation; a refund comes from the provider."""

    request_id: str
    employee_id: str
    provider_id: str
    category: str
    amount_cents: int
    outcome: Literal["delivered", "cancelled", "pending"]
    delivered_cents: int | None = None  # None: the whole hold
    refunded_cents: int = 0
    for_member: str | None = None  # the employee's family member the booking is for
    by_delegate: str | None = None  # the employee's delegate booked it (else the saga holds)


# Spending categories (TUIR art. 51 c. 2: no cap) of the bookings below.
CHILDCARE = "education_childcare"
ELDERLY_CARE = "elderly_care"
TRANSPORT = "transport"

BOOKINGS = [
    # Lucia's son at La Bessa's after-school club for two months; eight hours of home care for
    # her mother, booked by the caregiver, still wait for the cooperative's acceptance.
    Booking(
        "demo-booking-01",
        DEMO_EMPLOYEE,
        LA_BESSA,
        CHILDCARE,
        32_000,
        "delivered",
        for_member=LUCIA_SON,
    ),
    Booking(
        "demo-booking-02",
        DEMO_EMPLOYEE,
        HOME_CARE,
        ELDERLY_CARE,
        18_800,
        "pending",
        for_member=LUCIA_MOTHER,
        by_delegate=CAREGIVER,
    ),
    # Twenty hours of home care for Marco's father; four did not take place and are refunded.
    Booking(
        "demo-booking-03",
        "b-biella-101",
        HOME_CARE,
        ELDERLY_CARE,
        47_000,
        "delivered",
        refunded_cents=9_400,
    ),
    Booking("demo-booking-04", "b-biella-102", LA_BESSA, CHILDCARE, 16_000, "cancelled"),
    # Three months of after-school held, two used: less is captured than was held.
    Booking(
        "demo-booking-05",
        "b-biella-201",
        LA_BESSA,
        CHILDCARE,
        48_000,
        "delivered",
        delivered_cents=32_000,
    ),
    # Ten trips to the hospital's day clinic for Elisa's mother.
    Booking("demo-booking-06", "b-biella-203", VALLE_CERVO, TRANSPORT, 18_000, "delivered"),
    Booking("demo-booking-07", "b-biella-204", LA_BESSA, CHILDCARE, 48_000, "delivered"),
    Booking("demo-booking-08", "b-biella-301", LA_BESSA, CHILDCARE, 48_000, "delivered"),
    # Thirty hours of home care for Luigi's mother held, twenty-eight delivered.
    Booking(
        "demo-booking-09",
        "b-biella-302",
        HOME_CARE,
        ELDERLY_CARE,
        70_500,
        "delivered",
        delivered_cents=65_800,
    ),
]


@dataclass(frozen=True)
class Purchase:
    """Fringe-benefit vouchers (buoni acquisto) bought on the spot, to spend at the shop."""

    request_id: str
    employee_id: str
    amount_cents: int
    crosses_cap: bool = False  # expect the cap warning, then confirm the taxable consequence


# The one employee whose fringe benefits become taxable: 600 + 500 EUR is over his 1,000 EUR cap.
TAXABLE_EMPLOYEE_ID = "b-biella-202"

# Productivity bonuses taken as welfare credit: (employee, cents), tax-free up to 3,000 EUR a year.
BONUS_CONVERSIONS = [(TAXABLE_EMPLOYEE_ID, 150_000)]

PURCHASES = [
    Purchase("demo-purchase-01", DEMO_EMPLOYEE, 25_000),  # well under her 2,000 EUR cap
    Purchase("demo-purchase-02", TAXABLE_EMPLOYEE_ID, 60_000),
    Purchase("demo-purchase-03", TAXABLE_EMPLOYEE_ID, 50_000, crosses_cap=True),
]


class WalletApi(DemoApi):
    """The wallet API as the demo loader calls it."""

    def __init__(self, client: httpx.Client, issuer: DevIssuer) -> None:
        super().__init__(client, issuer, "wallet")


def load(client: httpx.Client, issuer: DevIssuer) -> list[str]:
    """Load the Biella wallet story through the wallet API at ``client``'s base URL; returns
    the ids of its plans (one per employer, in the order of ``EMPLOYERS``).

    Safe to run again after an interrupted load (``demo.load_once`` retries a service whose
    load failed): the plans and staff already there are reused, and every movement of money
    carries a request id, so nothing happens twice."""
    api = WalletApi(client, issuer)
    year = datetime.now(UTC).year
    plan_ids: list[str] = []
    wallets: dict[str, str] = {}  # employee id -> wallet id
    for employer in EMPLOYERS:
        plan_id = plan_of(api, employer, year)
        staff = load_staff(api, employer, plan_id)
        wallets.update(staff)
        plan_ids.append(plan_id)
        for employee_id, cents in BONUS_CONVERSIONS:
            if employee_id in staff:
                convert_bonus(api, employer, plan_id, employee_id, cents)
    name_family(api)
    for booking in BOOKINGS:
        book(api, wallets[booking.employee_id], booking)
    for purchase in PURCHASES:
        buy(api, wallets[purchase.employee_id], purchase)
    return plan_ids


def plan_of(api: WalletApi, employer: Employer, year: int) -> str:
    """The employer's plan of ``year``: the one an interrupted load created, or a new one."""
    for plan in api.call("GET", "/plans", "employer", employer.employer_id):
        if plan["year"] == year and plan["vat_number"] == employer.vat_number:
            found: str = plan["plan_id"]
            return found
    plan = api.call(
        "POST", "/plans", "employer", employer.employer_id, json=employer.plan_body(year)
    )
    plan_id: str = plan["plan_id"]
    return plan_id


def load_staff(api: WalletApi, employer: Employer, plan_id: str) -> dict[str, str]:
    """Upload the employer's CSV; the mistyped row, and only it, must come back rejected.
    Returns the wallet of each loaded employee."""
    path = f"/plans/{plan_id}/wallets"
    wallets = api.call("GET", path, "employer", employer.employer_id)
    if wallets:  # an interrupted load got this far (a CSV loads all its good rows or none)
        return {w["employee_id"]: w["wallet_id"] for w in wallets}
    report = api.call(
        "POST",
        f"/plans/{plan_id}/employees.csv",
        "employer",
        employer.employer_id,
        content=employer.csv().encode(),
        headers={"Content-Type": "text/csv"},
    )
    expected = {e.employee_id for e in employer.staff if e.employee_id == MISTYPED_EMPLOYEE_ID}
    rejected = {row["employee_id"] for row in report["rejected"]}
    if rejected != expected:
        raise DemoDataError(
            f"wallet demo data: the CSV of {employer.name} was expected to reject "
            f"{sorted(expected)}, the report says {report['rejected']}"
        )
    for row in report["rejected"]:
        log.info(
            "wallet demo: %s, CSV line %s rejected: %s", employer.name, row["line"], row["reason"]
        )
    return {row["employee_id"]: row["wallet_id"] for row in report["loaded"]}


def convert_bonus(
    api: WalletApi, employer: Employer, plan_id: str, employee_id: str, cents: int
) -> None:
    """HR records that the employee takes part of the productivity bonus as welfare credit
    (the request id makes a reload convert nothing twice)."""
    body = {
        "request_id": f"demo-bonus-{employee_id}",
        "employee_id": employee_id,
        "amount_cents": cents,
    }
    api.call(
        "POST", f"/plans/{plan_id}/bonus-conversions", "employer", employer.employer_id, json=body
    )


def name_family(api: WalletApi) -> None:
    """Lucia names her son and her mother, and her mother's caregiver as her delegate."""
    for member_id, relationship in FAMILY.items():
        path = f"/me/family/members/{member_id}"
        api.call("PUT", path, "beneficiary", DEMO_EMPLOYEE, json={"relationship": relationship})
    api.call("PUT", "/me/delegate", "beneficiary", DEMO_EMPLOYEE, json={"delegate_id": CAREGIVER})


def book(api: WalletApi, wallet_id: str, booking: Booking) -> None:
    """Hold, then capture or release, as the booking saga does with the operator's token (or
    the employee's delegate, with their own, for the hold)."""
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=HOLD_DAYS)
    hold = {
        "request_id": booking.request_id,
        "provider_id": booking.provider_id,
        "category": booking.category,
        "amount_cents": booking.amount_cents,
        "expires_at": expires_at.isoformat(),
        "for_member_id": booking.for_member,
    }
    path = f"/wallets/{wallet_id}/holds"
    if booking.by_delegate is not None:
        hold_id = api.call("POST", path, "beneficiary", booking.by_delegate, json=hold)["hold_id"]
    else:
        hold_id = api.call("POST", path, "operator", json=hold)["hold_id"]
    path = f"{path}/{hold_id}"
    if booking.outcome == "cancelled":
        release = {"request_id": f"{booking.request_id}-cancelled"}
        api.call("POST", f"{path}/release", "operator", json=release)
    elif booking.outcome == "delivered":
        capture = {
            "request_id": f"{booking.request_id}-delivered",
            "amount_cents": booking.delivered_cents,
        }
        api.call("POST", f"{path}/capture", "operator", json=capture)
        if booking.refunded_cents:
            # The provider itself gives back what it did not deliver.
            refund = {
                "request_id": f"{booking.request_id}-refund",
                "amount_cents": booking.refunded_cents,
            }
            api.call("POST", f"{path}/refund", "provider", booking.provider_id, json=refund)


def buy(api: WalletApi, wallet_id: str, purchase: Purchase) -> None:
    """A fringe purchase by the employee; one crossing the cap is first refused with the
    warning, and goes through once the employee confirms the taxable consequence."""
    body: dict[str, Any] = {
        "request_id": purchase.request_id,
        "provider_id": SHOP,
        "category": "fringe_purchase",
        "amount_cents": purchase.amount_cents,
    }
    path = f"/wallets/{wallet_id}/spend"
    employee = purchase.employee_id
    if purchase.crosses_cap:
        first = api.send("POST", path, "beneficiary", employee, accept=(409,), json=body)
        if first.is_success:  # confirmed by an interrupted load: the same request id
            return
        if first.json().get("code") != "fringe_cap_warning":
            raise DemoDataError(f"wallet demo data: expected the fringe cap warning: {first.text}")
        body["confirm_taxable"] = True
    api.call("POST", path, "beneficiary", employee, json=body)
