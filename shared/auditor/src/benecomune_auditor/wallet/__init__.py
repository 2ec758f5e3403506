"""The auditor's independent tally of the wallet ledger (employers' welfare money).

Built ONLY from the public contract events (read from Kafka or mapped from the store by the
replay in :mod:`benecomune_auditor.replay`), never from the service's aggregates: every account is
rebuilt from the transfers the events carry. A transfer between accounts of two streams (a grant:
plan → wallet; an expiry: wallet → plan; a carry-over: wallet → wallet) is carried by both
streams with the same ``transfer_id``: it is counted once, and its two legs must agree.

The rules checked, naming the events involved in any violation:

* **zero sum** — all balances add up to zero (every transfer is balanced by construction; a
  transfer whose legs disagree is reported);
* **non-negative** — no account that must not go negative (a plan's funding and returned
  accounts, an employee's wallet accounts, holds, a provider's payable, the fringe memo's
  exempt and taxable accounts) ever goes below zero, at any event, in the order stored;
* **the fringe cap** — a year's exempt fringe amount never exceeds its cap; the taxable amount
  is the rule's, from the amounts committed and given back: the year's whole net total when it
  is over the cap, nothing when it is at the cap or below (a release or refund that brings a
  year back under the cap makes it tax-free again);
* **the bonus limit** — the productivity bonus an employee converted into welfare in a year
  never exceeds the yearly limit, and is converted only into plans that allow it.

Then the per-plan figures (loaded, carried in, converted from a productivity bonus — for plans
that allow it —, spent per category, held, left, expired, carried over, unallocated, returned)
and the taxable fringe amount per employee and year are compared, to the cent, with what the
service reports (its plan statements and payroll lines, over its HTTP API or through its store
hook). Events that move no money (family

One concern a module: :mod:`.rules` (the auditor's own copy of the ledger's rules: which
accounts may go negative, when a fringe year is taxable), :mod:`.tally` (the accounts rebuilt
and the rules checked), :mod:`.comparison` (the service's figures and the comparison) and
:mod:`.result` (the audit: JSON, CSV, summary)."""

from benecomune_auditor.wallet.comparison import (
    PLAN_FIGURES,
    Difference,
    ServiceFigures,
    compare,
    figures_from_answer,
    figures_from_api,
    figures_from_store,
)
from benecomune_auditor.wallet.result import WalletAudit, audit_wallet
from benecomune_auditor.wallet.tally import Violation, WalletTally

__all__ = [
    "PLAN_FIGURES",
    "Difference",
    "ServiceFigures",
    "Violation",
    "WalletAudit",
    "WalletTally",
    "audit_wallet",
    "compare",
    "figures_from_answer",
    "figures_from_api",
    "figures_from_store",
]
