"""The auditor's own copy of the wallet ledger's rules. An independent audit does not import the
rule it checks from the service it audits: a rule changed in the service (by mistake, or to
hide something) would change the audit with it. These are written from the public rules (the
README's wallet section and the contracts); a test keeps them in step with the service's.
"""

from __future__ import annotations

__all__ = ["may_go_negative", "taxable_fringe_cents"]


def may_go_negative(account: str) -> bool:
    """Where money enters the ledger (an employer's contributions and productivity bonuses) and
    the memo ledgers' contra accounts (fringe benefits, converted bonus) may go negative; every
    other account (a plan's funding and returned accounts, an employee's wallet accounts,
    holds, a provider's payable, the fringe memo's exempt and taxable accounts) never does."""
    return account.startswith("employer:") or (
        account.startswith(("fringe:", "bonus:")) and account.endswith(":contra")
    )


def taxable_fringe_cents(net_total_cents: int, cap_cents: int) -> int:
    """A year's taxable fringe amount: its whole net total (committed minus given back) when
    that is over the cap, nothing when it is at the cap or below."""
    return net_total_cents if net_total_cents > cap_cents else 0
