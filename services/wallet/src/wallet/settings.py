from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings


class WalletSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WALLET_", extra="ignore")

    service_name: str = "wallet"
    http_port: int = 8002
    # employees.csv uploads take up to 5 MB
    http_max_body_bytes: int = 6 * 1_048_576
