"""Query latency of the vouchers API as the territory grows: the same queries with a small and a
large number of applications in one store, in the same run, and the ratio large / small.

    .venv/bin/python bench/vouchers_queries.py [--small 1000] [--large 100000] [--issue 50]

What is timed, each through the HTTP API the kit builds (FastAPI's TestClient, no Kafka), so
that the figures cover what a user waits for and the script measures any version of the
service the same way:

- ``my applications``: ``GET /applications/mine`` of a beneficiary with two applications;
- ``my vouchers``: ``GET /vouchers/mine`` of that beneficiary (its own vouchers and one it
  spends as a delegate);
- ``applications in round (first page)``: ``GET /rounds/{id}/applications?limit=50`` as the
  operator, in the round that holds the bulk of the applications (a version of the service
  without pagination ignores ``limit`` and answers the whole round);
- ``issue vouchers, per served``: ``POST /rounds/{id}/issue`` in that round when ``--issue``
  newly approved households wait to be served, divided by the households served.

Two stores are filled, one to ``--small`` and one to ``--large`` applications (each with its
two one-per-household index entries), in batches of 1,000 aggregates per ``save()`` (not
timed); the first query on each, which catches its read model up (if the service has one), is
timed apart. Then the two stores take turns, query by query, for ``--rounds`` rounds, so that
the machine's load drifting (2 shared cores) does not show as a ratio: each query is repeated
until half a second has passed (at least once, at most 15 times) and the table shows the
median of the rounds. No assertion on time: the ratio is the figure (≤ 1.5 is the target of
issue 16). SQLite, as ``make run`` uses.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from servicekit.auth import DevIssuer
from servicekit.http import create_http_app
from servicekit.italian_ids import fiscal_code_check_character
from servicekit.logging import configure_logging
from servicekit.service import ServiceRuntime
from vouchers.application import commands as cmd
from vouchers.application.app import VouchersApplication
from vouchers.domain.household_application import HouseholdApplication, HouseholdIndexEntry
from vouchers.service import DEFINITION
from vouchers.settings import VouchersSettings

BIELLA = "096004"
ME = "b-me"
CARER = "b-carer"
BATCH = 1000


def fiscal_code(n: int) -> str:
    body = f"BNC{chr(65 + n % 26)}{chr(65 + (n // 26) % 26)}{chr(65 + (n // 676) % 26)}85T10A562"
    return body + fiscal_code_check_character(body)


class Bench:
    def __init__(self, client: TestClient, issuer: DevIssuer, app: VouchersApplication) -> None:
        self.client = client
        self.issuer = issuer
        self.app = app
        self.filled = 0
        self.submitted = 0

    def headers(self, role: str, subject_id: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.mint(role, subject_id)}"}

    def round(self, fund_id: Any, title: str) -> Any:
        now = datetime.now(UTC)
        return self.app.open_round(
            cmd.OpenRound(
                fund_id=str(fund_id),
                title=title,
                opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=60),
                budget_cents=500_000_000,
                rules=cmd.EntitlementRulesInput(
                    base_cents=5_000, per_extra_member_cents=0, per_minor_cents=0, cap_cents=5_000
                ),
                denominations_cents=[2_500],
            )
        )

    def submit(self, round_id: Any, applicant: str, isee_cents: int) -> Any:
        n = self.submitted
        self.submitted += 1
        return self.app.submit_application(
            cmd.SubmitApplication(
                round_id=str(round_id),
                applicant=cmd.Person(fiscal_code=fiscal_code(n), first_name="A", last_name="B"),
                address="Via Italia 1",
                isee_cents=isee_cents,
                other_public_support=False,
                self_declaration=True,
            ),
            applicant,
        )

    def prepare(self) -> None:
        """A fund, the big round, a smaller one; the beneficiary ME served in both (four
        vouchers), one of them delegated to CARER and one of CARER's delegated to ME."""
        fund = self.app.allocate_fund(
            cmd.AllocateFund(
                municipality_istat=BIELLA,
                source_kind="state_transfer",
                source_reference="OCDPC 658/2020",
                amount_cents=2_000_000_000,
            )
        )
        self.big = self.round(fund, "Buoni spesa — Biella")
        other = self.round(fund, "Buoni spesa — Biella, seconda finestra")
        for round_id in (self.big, other):
            for who in (ME, CARER):
                application = self.submit(round_id, who, 100_000)
                self.app.approve_application(application, "sw-1")
            self.app.issue_vouchers(round_id)
        mine = [v for a in self.app.applications_of(ME) for v in a.voucher_ids]
        theirs = [v for a in self.app.applications_of(CARER) for v in a.voucher_ids]
        self.app.name_delegate(uuid.UUID(mine[0]), ME, cmd.NameDelegate(delegate_id=CARER))
        self.app.name_delegate(uuid.UUID(theirs[0]), CARER, cmd.NameDelegate(delegate_id=ME))

    def fill_to(self, total: int) -> float:
        """Submitted applications in the big round (with their index entries), saved in
        batches, until the store holds ``total``; returns the seconds it took."""
        started = time.perf_counter()
        while self.filled < total:
            batch: list[Any] = []
            for n in range(self.filled, min(total, self.filled + BATCH)):
                application = HouseholdApplication(
                    round_id=self.big,
                    household_id=uuid.uuid4(),
                    applicant=f"b-{n}",
                    members=2,
                    minors=0,
                    isee_cents=200_000 + n % 500_000,
                    other_support=False,
                    sealed_personal_data="bench: not sealed",
                )
                batch.append(application)
                for key in (f"{self.big}/member-{n}", f"{self.big}/account:b-{n}"):
                    batch.append(HouseholdIndexEntry(key, application.id))
            self.app.save(*batch)
            self.filled = min(total, self.filled + BATCH)
        return time.perf_counter() - started

    def approve_waiting(self, count: int) -> None:
        for _ in range(count):
            application = self.submit(self.big, f"b-new-{self.submitted}", 150_000)
            self.app.approve_application(application, "sw-1")

    def get(self, path: str, role: str, subject_id: str | None = None) -> Any:
        response = self.client.get(path, headers=self.headers(role, subject_id))
        assert response.status_code == 200, response.text
        return response.json()

    def queries(self) -> dict[str, Callable[[], Any]]:
        return {
            "my applications": lambda: self.get("/applications/mine", "beneficiary", ME),
            "my vouchers": lambda: self.get("/vouchers/mine", "beneficiary", ME),
            "applications in round (first page)": lambda: self.get(
                f"/rounds/{self.big}/applications?limit=50", "operator"
            ),
        }

    def issue(self) -> tuple[float, int]:
        started = time.perf_counter()
        response = self.client.post(f"/rounds/{self.big}/issue", headers=self.headers("operator"))
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
        return elapsed, int(response.json()["served"])


def timed(query: Callable[[], Any]) -> float:
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < 15 and (not samples or time.perf_counter() - started < 0.5):
        t = time.perf_counter()
        query()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def issue_per_served(bench: Bench, count: int) -> float:
    bench.approve_waiting(count)
    bench.get("/applications/mine", "beneficiary", ME)  # the approvals projected, if any
    elapsed, served = bench.issue()
    return elapsed / max(served, 1)


def open_store(stack: ExitStack, directory: Path) -> Bench:
    settings = VouchersSettings(data_dir=directory / "data", keys_dir=directory / "keys")
    runtime = ServiceRuntime(DEFINITION, settings)
    client = stack.enter_context(TestClient(create_http_app(runtime, with_workers=False)))
    configure_logging("bench", "WARNING")  # after the kit's own configuration
    app = runtime.application
    assert isinstance(app, VouchersApplication)
    return Bench(client, DevIssuer(settings.territory, settings.keys_dir), app)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--issue", type=int, default=50, help="households served per issue")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (medians)")
    args = parser.parse_args()
    sizes = (args.small, args.large)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        benches = [open_store(stack, Path(tmp) / str(size)) for size in sizes]
        for size, bench in zip(sizes, benches, strict=True):
            bench.prepare()
            fill = bench.fill_to(size)
            t = time.perf_counter()
            bench.get("/applications/mine", "beneficiary", ME)  # catch-up, if any
            first = time.perf_counter() - t
            print(
                f"{size:>7} applications ({bench.app.last_notification_id()} events): filled in "
                f"{fill:.1f} s, first query (read model catch-up, if any) {first:.1f} s"
            )
        # Small and large store take turns, so that a change in the machine's load between
        # them does not show as a ratio.
        samples: dict[str, list[list[float]]] = {}
        for _ in range(args.rounds):
            for name in [*benches[0].queries(), "issue vouchers, per served"]:
                row = samples.setdefault(name, [[], []])
                for i, bench in enumerate(benches):
                    if name == "issue vouchers, per served":
                        row[i].append(issue_per_served(bench, args.issue))
                    else:
                        row[i].append(timed(bench.queries()[name]))
    print()
    print(f"{'query':<38} {sizes[0]:>9} ms {sizes[1]:>9} ms  ratio")
    for name, (small, large) in samples.items():
        a, b = statistics.median(small), statistics.median(large)
        print(f"{name:<38} {a * 1000:>12.2f} {b * 1000:>12.2f}  {b / a:5.2f}")


if __name__ == "__main__":
    main()
