"""Settings shared by every service, read from environment variables with one prefix per service.

A service declares its own subclass with ``env_prefix="VOUCHERS_"`` (and its default HTTP port);
everything else — where Kafka is, which store, which territory, how tokens are verified — is the
same for every service, so an operator configures them all the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# The repository root when running from a checkout; deployments override the paths below.
REPO_ROOT = Path(__file__).resolve().parents[4]
SHARED_ENV_PREFIX = "BENECOMUNE_"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BENECOMUNE_", extra="ignore")

    service_name: str = "service"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Larger request bodies answer 413 (a service that takes files raises its own default).
    http_max_body_bytes: int = Field(default=1_048_576, ge=1024)

    kafka_bootstrap: str = "127.0.0.1:9092"
    # Put in front of every topic name, so that several territories (or test runs) can share
    # one Kafka cluster without reading each other's events, e.g. "biella.".
    kafka_topic_prefix: str = Field(default="", pattern=r"^[a-z0-9._-]*$")
    # Replicas of the topics a service creates when they are missing: 1 for the local single
    # broker; a production cluster creates its topics itself (Strimzi KafkaTopic) or sets 3.
    kafka_replication_factor: int = Field(default=1, ge=1, le=5)

    # The event store: "sqlite" (embedded default, a file under var/) or "postgres".
    store: Literal["sqlite", "postgres"] = "sqlite"
    data_dir: Path = REPO_ROOT / "var" / "data"
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_dbname: str = "benecomune"
    postgres_user: str = "benecomune"
    postgres_password: SecretStr = SecretStr("benecomune")
    # Several services may share one PostgreSQL database; each keeps its own schema.
    postgres_schema: str = ""

    territory: str = "biella"
    territories_dir: Path = REPO_ROOT / "territories"

    # Token verification. The dev issuer keeps a key pair per territory under keys_dir; a
    # production deployment points jwks_url (or jwt_public_key_file) at its OIDC provider.
    keys_dir: Path = REPO_ROOT / "var" / "keys"
    jwks_url: str | None = None
    jwt_public_key_file: Path | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None

    # Static group membership: a consumer restarted with the same instance id takes its
    # partitions back at once, instead of waiting for the dead member's session to time out.
    # Give each consumer process of a service its own stable id (e.g. "notifications-0").
    consumer_instance_id: str | None = None
    consumer_session_timeout_ms: int = Field(default=10_000, ge=6_000)
    # A notification id further than this past a partition's position is dead-lettered, not
    # believed (see servicekit/consumer.py); raise it for an upstream with many private events.
    consumer_max_notification_jump: int = Field(default=10_000_000, ge=1_000)

    log_level: str = "INFO"
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_idle_poll_seconds: float = Field(default=0.2, gt=0)
    # Jobs on the service's own clock (see ServiceDefinition.periodic); the factor scales every
    # job's interval (tests and demos run them faster).
    periodic_jobs_enabled: bool = True
    periodic_interval_factor: float = Field(default=1.0, gt=0, le=1000)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # VOUCHERS_KAFKA_BOOTSTRAP wins over BENECOMUNE_KAFKA_BOOTSTRAP, which sets it for all
        # services at once: what is the same everywhere is configured once.
        shared = EnvSettingsSource(settings_cls, env_prefix=SHARED_ENV_PREFIX)
        return init_settings, env_settings, shared, dotenv_settings, file_secret_settings

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / f"{self.service_name}.sqlite"

    def topic(self, name: str) -> str:
        """The physical Kafka topic for a contract topic name."""
        return f"{self.kafka_topic_prefix}{name}"
