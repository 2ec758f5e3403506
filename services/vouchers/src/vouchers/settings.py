from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings


class VouchersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VOUCHERS_", extra="ignore")

    service_name: str = "vouchers"
    http_port: int = 8004
