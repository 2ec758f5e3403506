"""The OpenAPI page of every service, with its assets served by the service itself.

FastAPI's default page loads Swagger UI from a CDN, so it is blank offline or behind a strict
firewall; the assets come from the ``swagger-ui-bundle-v2`` package instead. The root URL
leads to the page rather than answering a bare 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"


def swagger_assets_dir() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


def install_docs_page(api: FastAPI) -> None:
    """``/docs`` with local assets and ``/`` leading to it. Build the app with
    ``docs_url=None, redoc_url=None`` first (ReDoc would load from a CDN too)."""
    api.mount(ASSETS_PATH, StaticFiles(directory=swagger_assets_dir()), name="docs-assets")

    @api.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=api.openapi_url or "/openapi.json",
            title=f"{api.title} — API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        )

    @api.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/docs")
