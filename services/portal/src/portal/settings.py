"""The portal's settings: ``PORTAL_<SETTING>`` for the portal alone, ``BENECOMUNE_<SETTING>`` for
what every service shares (the territory, the keys directory, token verification).

Production login goes through an OpenID Connect provider (SPID/CIE through a regional OIDC
gateway): set ``PORTAL_OIDC_ISSUER_URL``, ``PORTAL_OIDC_CLIENT_ID`` and
``PORTAL_OIDC_CLIENT_SECRET``, and ``PORTAL_DEV_LOGIN=false`` (see ``portal.oidc``); register
``PORTAL_OIDC_REDIRECT_URL`` (``https://<portal>/login/callback``) at the provider. The
services (and the portal) trust the provider's keys through ``BENECOMUNE_JWKS_URL``,
``BENECOMUNE_JWT_ISSUER`` and ``BENECOMUNE_JWT_AUDIENCE``: the access token it issues must carry
the ``role`` claim and ``sub`` as ``<role>:<id>`` (``servicekit.auth``). The development login
(the demo users of the territory file, tokens from the territory's dev key) needs none of them.
"""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings


class PortalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    service_name: str = "portal"
    http_port: int = 8000
    # The services' HTTP APIs the portal calls (server side, with the user's token).
    catalog_url: str = "http://127.0.0.1:8001"
    wallet_url: str = "http://127.0.0.1:8002"
    booking_url: str = "http://127.0.0.1:8003"
    vouchers_url: str = "http://127.0.0.1:8004"
    notifications_url: str = "http://127.0.0.1:8005"
    http_timeout_seconds: float = 5.0

    # Development login: a page listing the demo users of each role, tokens minted with the
    # territory's dev key (the same key the services trust). Off in production.
    dev_login: bool = True
    # OpenID Connect (production): the issuer's URL (its /.well-known/openid-configuration),
    # the portal's client id and secret at that provider.
    oidc_issuer_url: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    # Where the provider sends the browser back (registered at the provider); unset: this
    # portal's /login/callback as the request reached it (set it behind a proxy).
    oidc_redirect_url: str | None = None
    # Where the provider sends the browser after its logout; unset: this portal's home.
    oidc_post_logout_redirect_url: str | None = None
    oidc_scopes: str = "openid profile"

    @property
    def oidc_configured(self) -> bool:
        return bool(self.oidc_issuer_url and self.oidc_client_id and self.oidc_client_secret)
