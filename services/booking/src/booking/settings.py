from pydantic_settings import SettingsConfigDict
from servicekit.settings import ServiceSettings


class BookingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BOOKING_", extra="ignore")

    service_name: str = "booking"
    http_port: int = 8003
    # Trust an offering's facts sent with a booking request when the catalog has not published
    # the offering to this service (tests, demos): never in production, where a client must
    # not name its own price. The catalog's published facts always win.
    request_facts_fallback: bool = False
