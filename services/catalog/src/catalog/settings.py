from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings
from sqlalchemy.engine import URL


class CatalogSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore")

    service_name: str = "catalog"
    http_port: int = 8001
    # The search read model (SQLAlchemy URL). Empty: beside the event store, that is a SQLite
    # file next to it, or with the PostgreSQL store the same database and schema.
    read_model_url: str = ""
    # How long a slot hold lasts when the caller does not say.
    default_hold_seconds: int = 900

    def read_model_database_url(self) -> str:
        if self.read_model_url:
            return self.read_model_url
        if self.store == "postgres":
            return URL.create(
                "postgresql+psycopg",
                username=self.postgres_user,
                password=self.postgres_password.get_secret_value(),
                host=self.postgres_host,
                port=self.postgres_port,
                database=self.postgres_dbname,
            ).render_as_string(hide_password=False)
        return f"sqlite:///{self.data_dir / 'catalog-read.sqlite'}"

    def read_model_schema(self) -> str | None:
        """The PostgreSQL schema of the read model's tables when it sits beside the event store
        (the service's own schema); None for SQLite or an explicit ``read_model_url``."""
        if self.read_model_url or self.store != "postgres":
            return None
        return self.postgres_schema or self.service_name
