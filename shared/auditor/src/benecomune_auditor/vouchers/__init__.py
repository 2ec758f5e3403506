"""The auditor's independent tally of the vouchers ledger ("Cura Italia" public money).

Built ONLY from the public contract events (read from Kafka by :mod:`benecomune_auditor.kafka_copy`,
or from the store by :mod:`benecomune_auditor.store_reader`), never from the service's aggregates or
figures: per fund, round, merchant account (a shop in a round) and household it adds up what was
allocated, assigned to rounds, issued, redeemed (net of voids), claimed, approved, reimbursed,
returned (unspent value of expired or revoked vouchers) and what is available.

Then it checks the money rules, naming the events involved in any violation:

* **issued ≤ allocated** — a round never commits more than its budget has left (issued -
  returned ≤ budget, at every event of the round), the budgets never exceed the fund
  (assigned ≤ allocated, at every event of the fund), so issued - returned ≤ allocated. Money
  that returns is issued again, so the *gross* issue may exceed the allocation. The budget goes
  only to approved applications, once each, up to the approved entitlement, and no voucher is
  committed twice;
* **redeemed ≤ issued** — redeemed + returned ≤ issued for every round and fund; no voucher is
  spent below zero, after expiry (the till's time against the voucher's expiry; redemptions
  recorded before 2026-11-25 carry their recording time) or revocation, and what a redemption
  says remains is what the voucher's own history leaves;
* **reimbursed ≤ redeemed** — reimbursed ≤ approved ≤ claimed ≤ redeemed for every shop, a claim
  takes only credited, not voided, not yet claimed redemptions, for exactly their sum;
* **held ≤ balance, captured ≤ held, no capture without hold** — a booking's hold on a service
  voucher (buoni servizio, of a services round) takes at most what is available, for a category
  its round covers and an accredited provider of the round; a capture (a redemption credited
  to the provider, counted in redeemed like a sale) or release ends an open hold, once, a
  capture taking at most the hold; a service voucher is never spent at a till;
* **the streams agree with each other** — every voucher a round committed was issued for that
  household and the values add up to the commitment; every redemption (and void) on a voucher
  is credited (and debited) to an affiliated shop of the round, for the same amount, and vice
  versa; every return to a round matches a voucher's expiry or revocation; every round's budget
  was assigned by its fund.

Checks of a stream whose hash chain broke are not repeated (the chain already names the event):
its state can no longer be trusted.

Finally the tally is compared, to the cent, with the figures the service reports at the point the
replay reached: over its HTTP API (``GET /audit/figures?upto=N`` with an auditor token) or
through the store hook the service names (:mod:`benecomune_auditor.service_hooks`).

One concern a module: :mod:`.naming` (how events, trails and violations are named),
:mod:`.entities` (what the tally keeps), :mod:`.tally` (funds, rounds and applications, and the
dispatch of every event), :mod:`.voucher_rules` (issue, spend, void, expire),
:mod:`.shop_rules` (shops' accounts and claims), :mod:`.service_rules` (service vouchers
held, captured and released by bookings), :mod:`.end_checks` (the checks across
streams), :mod:`.tally_figures` (the figures the tally adds up), :mod:`.comparison` (the
service's figures and the comparison) and :mod:`.result` (the audit: JSON, CSV, summary).
"""

from benecomune_auditor.vouchers.comparison import (
    FUND_FIGURES,
    MERCHANT_FIGURES,
    Comparison,
    Difference,
    ServiceFigures,
    compare,
    figures_from_answer,
    figures_from_api,
    figures_from_store,
)
from benecomune_auditor.vouchers.naming import EventRef, Violation, euro
from benecomune_auditor.vouchers.result import VouchersAudit, audit_vouchers
from benecomune_auditor.vouchers.tally import VouchersTally

__all__ = [
    "FUND_FIGURES",
    "MERCHANT_FIGURES",
    "Comparison",
    "Difference",
    "EventRef",
    "ServiceFigures",
    "Violation",
    "VouchersAudit",
    "VouchersTally",
    "audit_vouchers",
    "compare",
    "euro",
    "figures_from_answer",
    "figures_from_api",
    "figures_from_store",
]
