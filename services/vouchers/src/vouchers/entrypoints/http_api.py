"""The vouchers service's HTTP API: one router per area, all behind the kit's bearer auth."""

from __future__ import annotations

from fastapi import APIRouter

from vouchers.entrypoints import (
    applications,
    audit_figures,
    funds,
    merchants,
    reports,
    rounds,
    vouchers,
)


def routers() -> list[APIRouter]:
    return [
        funds.router,
        rounds.router,
        applications.router,
        vouchers.router,
        merchants.router,
        reports.router,
        audit_figures.router,
    ]
