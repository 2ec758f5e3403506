"""Each role's own navigation: the pages it works with, the first one its home after login.
Labels are marked for translation (``N_``) and translated when the menu is rendered."""

from __future__ import annotations

from typing import NamedTuple

from servicekit.auth import ROLES

from portal.labels import N_


class Entry(NamedTuple):
    path: str
    label: str


PUBLIC = (Entry("/", N_("Home")), Entry("/search", N_("Find a service")))

BY_ROLE: dict[str, tuple[Entry, ...]] = {
    "beneficiary": (
        Entry("/me/wallet", N_("My wallet")),
        Entry("/me/bookings", N_("My bookings")),
        Entry("/me/vouchers", N_("My vouchers")),
        Entry("/me/applications", N_("Apply for vouchers")),
        Entry("/me/inbox", N_("Messages")),
    ),
    "merchant": (
        Entry("/shop/till", N_("Till")),
        Entry("/shop/claims", N_("Reimbursements")),
    ),
    "provider": (
        Entry("/provider/bookings", N_("Bookings to handle")),
        Entry("/provider/offerings", N_("Offerings and slots")),
        Entry("/provider/statement", N_("Statement")),
    ),
    "employer": (
        Entry("/employer/plans", N_("Welfare plans")),
        Entry("/employer/reports", N_("Reports")),
    ),
    "social_worker": (
        Entry("/social/applications", N_("Applications")),
        Entry("/social/book", N_("Book for a citizen")),
    ),
    "operator": (
        Entry("/operator/providers", N_("Providers")),
        Entry("/operator/funds", N_("Funds and rounds")),
        Entry("/operator/bookings", N_("Bookings to watch")),
        Entry("/operator/territory", N_("Territory")),
    ),
    "auditor": (
        Entry("/auditor/monitor", N_("Fund monitor")),
        Entry("/auditor/audits", N_("Audits")),
    ),
}
assert set(BY_ROLE) == set(ROLES), "every role needs its navigation"


def entries(role: str | None) -> tuple[Entry, ...]:
    """The menu of a visitor (``None``) or of a signed-in role."""
    return PUBLIC + (BY_ROLE.get(role, ()) if role else ())


def home_of(role: str) -> str:
    """Where a user of ``role`` lands after logging in."""
    return BY_ROLE[role][0].path
