"""A provider's lifecycle as its own events tell it: who did what, when. Contact changes name
the fields that changed, never their values."""

from __future__ import annotations

from typing import Any

from catalog.domain.provider import Provider


def history_entry(e: object) -> dict[str, Any]:
    """What a provider's event means in its history (``event``, ``by`` and its ``details``)."""
    if isinstance(e, Provider.Applied):
        return {
            "event": "applied",
            "by": e.by,
            "details": {"kind": e.kind, "municipalities": e.municipalities},
        }
    if isinstance(e, Provider.Accredited):
        return {"event": "accredited", "by": e.by, "details": {}}
    if isinstance(e, Provider.Suspended):
        return {
            "event": "suspended",
            "by": e.by,
            "details": {"reason_code": e.reason_code, "reason": e.reason},
        }
    if isinstance(e, Provider.Reinstated):
        return {"event": "reinstated", "by": e.by, "details": {}}
    if isinstance(e, Provider.CertificationAdded):
        return {
            "event": "certification_added",
            "by": e.by,
            "details": {"certification": e.certification},
        }
    if isinstance(e, Provider.MerchantAffiliated):
        return {
            "event": "merchant_affiliated",
            "by": e.by,
            "details": {"goods_categories": e.goods_categories},
        }
    if isinstance(e, Provider.ContactsUpdated):
        return {"event": "contacts_updated", "by": e.by, "details": {"changed": e.changed}}
    return {"event": type(e).__name__, "by": None, "details": {}}


def provider_history(events: list[Any]) -> list[dict[str, Any]]:
    """The provider's events as history entries, oldest first, each with its version and
    time."""
    return [
        {"version": e.originator_version, "at": e.timestamp, **history_entry(e)} for e in events
    ]
