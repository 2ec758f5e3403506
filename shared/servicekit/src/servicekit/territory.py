"""A territory's configuration: who it is, which municipalities it covers, how it looks and the
default rules its services start from.

One instance of Benecomune serves one territory; its description lives in
``territories/<id>.toml`` and is read with :func:`load_territory`::

    territory = load_territory(settings.territory, settings.territories_dir)
    territory.default_language                       # "it"
    territory.rules.vouchers.denominations_cents     # [1000, 2000, 2500, 5000]
    territory.rules.fringe_benefits.cap_for(2025, with_children=True)   # 200000

``rules`` is typed for the defaults the platform already knows about and open to more: any other
table under ``[rules]`` is kept as it is and can be read with :meth:`TerritoryRules.extra_table`.

``demo_users`` (optional ``[[demo_users]]`` tables) lists the people of the territory's demo data a
tester can log in as on the portal's development login: a role, the subject id the role acts
for (none for operator, social worker and auditor), a name, and a note per language saying what
they can do. A territory without demo data lists none.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "TERRITORY_ID_PATTERN",
    "Branding",
    "DemoUser",
    "FringeBenefitRules",
    "Municipality",
    "Territory",
    "TerritoryConfigError",
    "TerritoryError",
    "TerritoryNotFoundError",
    "TerritoryRules",
    "VoucherRules",
    "available_territories",
    "load_territory",
]

# A territory id is also a file name, a key directory and part of token audiences: keep it plain.
TERRITORY_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ISTAT_CODE = re.compile(r"^\d{6}$")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


class TerritoryError(Exception):
    """Base class of the errors raised while loading a territory."""


class TerritoryNotFoundError(TerritoryError, LookupError):
    """No ``<id>.toml`` exists for the requested territory."""


class TerritoryConfigError(TerritoryError, ValueError):
    """A territory file exists but cannot be read or does not describe a valid territory."""


def _istat_code(value: str) -> str:
    if not _ISTAT_CODE.fullmatch(value):
        raise ValueError(
            f"ISTAT municipality code must be exactly 6 digits (e.g. '096004'), got {value!r}"
        )
    return value


def _colour(value: str) -> str:
    if not _COLOUR.fullmatch(value):
        raise ValueError(f"colour must be written as #RRGGBB (e.g. '#0066CC'), got {value!r}")
    return value.upper()


IstatCode = Annotated[str, AfterValidator(_istat_code)]
Colour = Annotated[str, AfterValidator(_colour)]
NonEmptyStr = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Municipality(_Model):
    istat_code: IstatCode
    name: NonEmptyStr


class Branding(_Model):
    primary_color: Colour
    secondary_color: Colour
    # A path relative to the territories directory, or an absolute http(s) URL.
    logo: NonEmptyStr

    @property
    def logo_is_url(self) -> bool:
        return self.logo.startswith(("http://", "https://"))


class VoucherRules(_Model):
    """Defaults for public voucher rounds ("buoni spesa"); a round may override them."""

    denominations_cents: list[PositiveInt] = Field(
        default_factory=lambda: [1000, 2000, 2500, 5000], min_length=1
    )
    validity_days: PositiveInt = 180

    @field_validator("denominations_cents")
    @classmethod
    def _distinct_and_sorted(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("voucher denominations must be distinct")
        return sorted(value)


class FringeBenefitRules(_Model):
    """Yearly cap of tax-free fringe benefits per employee (TUIR art. 51 c. 3), in euro cents.

    Keys are calendar years; a year without an entry has no configured cap.
    """

    cap_cents: dict[int, PositiveInt] = Field(default_factory=dict)
    cap_with_children_cents: dict[int, PositiveInt] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _children_cap_not_lower(self) -> FringeBenefitRules:
        for year, cap in self.cap_with_children_cents.items():
            base = self.cap_cents.get(year)
            if base is not None and cap < base:
                raise ValueError(
                    f"the {year} cap with dependent children ({cap}) is lower than the"
                    f" ordinary cap ({base})"
                )
        return self

    def cap_for(self, year: int, *, with_children: bool = False) -> int | None:
        """The cap in cents for ``year``, or None when the territory configures none."""
        if with_children and year in self.cap_with_children_cents:
            return self.cap_with_children_cents[year]
        return self.cap_cents.get(year)


class TerritoryRules(BaseModel):
    """Default rules the services read. Known tables are typed; other tables are kept as given."""

    model_config = ConfigDict(frozen=True, extra="allow")

    vouchers: VoucherRules = Field(default_factory=VoucherRules)
    fringe_benefits: FringeBenefitRules = Field(default_factory=FringeBenefitRules)

    def extra_table(self, name: str) -> dict[str, Any]:
        """An untyped ``[rules.<name>]`` table (empty when absent), for rules added later."""
        extra = self.model_extra or {}
        value = extra.get(name, {})
        if not isinstance(value, dict):
            raise TypeError(f"rules.{name} is not a table")
        return value


class DemoUser(_Model):
    """Someone of the demo data a tester may log in as (development login only)."""

    role: NonEmptyStr
    # The party the role acts for (``"<role>:<subject_id>"`` in a token); none for the roles that
    # act for the territory itself.
    subject_id: str | None = None
    name: NonEmptyStr
    # What this user can do, per language (two-letter code): ``note = { it = "...", en = "..." }``.
    note: dict[str, NonEmptyStr] = Field(default_factory=dict)

    @field_validator("subject_id")
    @classmethod
    def _no_empty_subject(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _role_and_subject_agree(self) -> DemoUser:
        from servicekit.auth import subject_for  # auth imports this module: import it late

        subject_for(self.role, self.subject_id)  # raises ValueError naming the problem
        for language in self.note:
            if not _LANGUAGE.fullmatch(language):
                raise ValueError(
                    f"a note's language must be a two-letter ISO 639-1 code, got {language!r}"
                )
        return self

    def note_in(self, language: str, fallback: str | None = None) -> str:
        """The note in ``language``, else in ``fallback``, else in any language, else empty."""
        for wanted in (language, fallback):
            if wanted is not None and wanted in self.note:
                return self.note[wanted]
        return next(iter(self.note.values()), "")


class Territory(_Model):
    id: str = Field(pattern=TERRITORY_ID_PATTERN.pattern)
    name: NonEmptyStr
    region: NonEmptyStr
    municipalities: list[Municipality] = Field(min_length=1)
    # ISO 639-1 codes; the first one is the default language of the territory.
    languages: list[str] = Field(min_length=1)
    branding: Branding
    currency: Literal["EUR"] = "EUR"
    timezone: str = "Europe/Rome"
    rules: TerritoryRules = Field(default_factory=TerritoryRules)
    demo_users: list[DemoUser] = Field(default_factory=list)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        for language in value:
            if not _LANGUAGE.fullmatch(language):
                raise ValueError(
                    f"languages must be two-letter lower-case ISO 639-1 codes, got {language!r}"
                )
        if len(set(value)) != len(value):
            raise ValueError("languages must not repeat")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("municipalities")
    @classmethod
    def _distinct_municipalities(cls, value: list[Municipality]) -> list[Municipality]:
        seen: set[str] = set()
        for municipality in value:
            if municipality.istat_code in seen:
                raise ValueError(f"ISTAT code {municipality.istat_code} is listed twice")
            seen.add(municipality.istat_code)
        return value

    @field_validator("demo_users")
    @classmethod
    def _distinct_demo_users(cls, value: list[DemoUser]) -> list[DemoUser]:
        seen: set[tuple[str, str | None]] = set()
        for user in value:
            key = (user.role, user.subject_id)
            if key in seen:
                raise ValueError(f"demo user {user.role} {user.subject_id or ''} is listed twice")
            seen.add(key)
        return value

    def demo_user(self, role: str, subject_id: str | None) -> DemoUser | None:
        """The demo user with this role and subject id (None: no subject id), if listed."""
        wanted = subject_id or None
        return next((u for u in self.demo_users if u.role == role and u.subject_id == wanted), None)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @property
    def zoneinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def municipality(self, istat_code: str) -> Municipality | None:
        """The municipality with this ISTAT code, or None when the territory does not cover it."""
        return next((m for m in self.municipalities if m.istat_code == istat_code), None)

    def covers(self, istat_code: str) -> bool:
        return self.municipality(istat_code) is not None


def available_territories(territories_dir: Path) -> list[str]:
    """The ids of the territories configured in ``territories_dir``, sorted."""
    if not territories_dir.is_dir():
        return []
    return sorted(
        path.stem
        for path in territories_dir.glob("*.toml")
        if path.is_file() and TERRITORY_ID_PATTERN.fullmatch(path.stem)
    )


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"]) or "(file)"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {location}: {message}")
    return "\n".join(lines)


def load_territory(territory_id: str, territories_dir: Path) -> Territory:
    """Read and validate ``territories_dir/<territory_id>.toml``.

    Raises :class:`TerritoryNotFoundError` (listing the available territories) when there is no
    such file, and :class:`TerritoryConfigError` naming the file when its content is invalid.
    """
    if not TERRITORY_ID_PATTERN.fullmatch(territory_id):
        raise TerritoryNotFoundError(
            f"{territory_id!r} is not a valid territory id (lower-case letters, digits, '-', '_')"
        )
    path = territories_dir / f"{territory_id}.toml"
    if not path.is_file():
        available = available_territories(territories_dir)
        listing = ", ".join(available) if available else "none"
        raise TerritoryNotFoundError(
            f"unknown territory {territory_id!r}: no {path.name} in {territories_dir}"
            f" (available: {listing})"
        )
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise TerritoryConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise TerritoryConfigError(f"{path}: cannot be read: {error.strerror}") from None
    try:
        territory = Territory.model_validate(data)
    except ValidationError as error:
        raise TerritoryConfigError(
            f"{path}: invalid territory configuration\n{_describe(error)}"
        ) from None
    if territory.id != territory_id:
        raise TerritoryConfigError(
            f"{path}: declares id {territory.id!r} but the file name says {territory_id!r}"
        )
    return territory
