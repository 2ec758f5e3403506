from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings


class WalletSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WALLET_", extra="ignore")

    service_name: str = "wallet"
    http_port: int = 8002
