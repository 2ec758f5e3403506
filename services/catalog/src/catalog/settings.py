from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore")

    service_name: str = "catalog"
    http_port: int = 8001
    # The search read model (SQLAlchemy URL); empty: a SQLite file next to the event store.
    read_model_url: str = ""
    # How long a slot hold lasts when the caller does not say.
    default_hold_seconds: int = 900

    def read_model_database_url(self) -> str:
        return self.read_model_url or f"sqlite:///{self.data_dir / 'catalog-read.sqlite'}"
