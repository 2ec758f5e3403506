"""Names of the catalog's codes for people: marked with ``N_`` for extraction, translated when
rendered (``_(label)`` in the templates)."""

from __future__ import annotations

from servicekit.auth import ROLES


def N_(message: str) -> str:
    return message


CATEGORY_LABELS = {
    "services_no_cap": N_("Social and care services"),
    "education_childcare": N_("Education and childcare"),
    "elderly_care": N_("Care of the elderly and dependent people"),
    "transport": N_("Public transport"),
    "fringe_purchase": N_("Purchase vouchers"),
}

DELIVERY_LABELS = {
    "at_provider": N_("At the provider's premises"),
    "at_home": N_("At home"),
    "remote": N_("Remote"),
}

UNIT_LABELS = {
    "hour": N_("per hour"),
    "session": N_("per session"),
    "month": N_("per month"),
    "package": N_("per package"),
}

ROLE_LABELS = {
    "operator": N_("Operator of the territory"),
    "social_worker": N_("Municipal social worker"),
    "merchant": N_("Affiliated shop"),
    "provider": N_("Service provider"),
    "employer": N_("Employer (HR)"),
    "beneficiary": N_("Citizen / employee"),
    "auditor": N_("Auditor"),
}
assert set(ROLE_LABELS) == set(ROLES), "every role needs a label"

# The demo ids of the party roles, as ``benecomune token demo`` mints them (the demo data's
# names): Biella's provider is the home-care cooperative of its catalogue.
_DEMO_OVERRIDES = {("provider", "biella"): "coop-il-filo"}
_PARTY_ROLES = ("merchant", "provider", "employer", "beneficiary")


def demo_subject_id(role: str, territory: str) -> str | None:
    if role not in _PARTY_ROLES:
        return None
    return _DEMO_OVERRIDES.get((role, territory), f"{role[0]}-{territory}-001")
