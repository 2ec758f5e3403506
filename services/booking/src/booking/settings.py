from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings


class BookingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BOOKING_", extra="ignore")

    service_name: str = "booking"
    http_port: int = 8003
