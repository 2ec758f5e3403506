"""A territory's look: its primary colour and the shades derived from it, as a small CSS file
that overrides Bootstrap Italia's compiled blue (``#0066CC``, reserved to central government)
where the portal uses it — header, footer, links, primary buttons, focus ring.

Every colour pair the portal actually draws is checked for WCAG 2.1 contrast (1.4.3, 4.5:1 for
normal text): a palette that fails is refused with a message naming the pair, its ratio and what
to change (:func:`check_palette`, run by the app on start and by ``python -m portal
check-theme``).
"""

from __future__ import annotations

from dataclasses import dataclass

from servicekit.territory import Territory

MIN_CONTRAST = 4.5
WHITE = "#FFFFFF"
# Bootstrap Italia's blue: the colour of central government's sites, not a territory's.
RESERVED_PRIMARY = "#0066CC"


class PaletteError(ValueError):
    """A territory's palette that the portal refuses to draw."""


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(255.0, c))):02X}" for c in rgb)


def relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of an sRGB colour written #RRGGBB."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.1 contrast ratio, from 1 (same colour) to 21 (black on white)."""
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def shade(colour: str, black: float) -> str:
    """``colour`` mixed with ``black`` (0..1) parts of black, as Bootstrap's ``shade-color``."""
    return _hex(tuple(c * (1 - black) for c in _rgb(colour)))  # type: ignore[arg-type]


def tint(colour: str, white: float) -> str:
    """``colour`` mixed with ``white`` (0..1) parts of white, as Bootstrap's ``tint-color``."""
    return _hex(tuple(c + (255 - c) * white for c in _rgb(colour)))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Palette:
    primary: str
    primary_dark: str  # hover and active states, the slim header bar
    primary_darker: str  # the footer
    primary_light: str  # a pale background (the hero band), under body text

    @classmethod
    def of(cls, territory: Territory) -> Palette:
        primary = territory.branding.primary_color.upper()
        return cls(
            primary=primary,
            primary_dark=shade(primary, 0.15),
            primary_darker=shade(primary, 0.25),
            primary_light=tint(primary, 0.9),
        )

    def pairs(self) -> list[tuple[str, str, str]]:
        """Every (what, foreground, background) the portal draws with this palette."""
        return [
            ("text on the primary colour (header, primary buttons)", WHITE, self.primary),
            ("text on the hover shade (buttons, slim header)", WHITE, self.primary_dark),
            ("text on the footer shade", WHITE, self.primary_darker),
            ("links on white", self.primary, WHITE),
            ("hovered links on white", self.primary_dark, WHITE),
            ("links on the pale band", self.primary, self.primary_light),
            ("body text on the pale band", "#1A1A1A", self.primary_light),
        ]


def check_palette(territory: Territory) -> Palette:
    """The territory's palette, or :class:`PaletteError` naming every pair under 4.5:1."""
    palette = Palette.of(territory)
    problems: list[str] = []
    if palette.primary == RESERVED_PRIMARY:
        problems.append(
            f"primary_color {RESERVED_PRIMARY} is Bootstrap Italia's blue, reserved to central "
            "government: choose the territory's own colour"
        )
    for what, foreground, background in palette.pairs():
        ratio = contrast_ratio(foreground, background)
        if ratio < MIN_CONTRAST:
            problems.append(
                f"{what}: {foreground} on {background} has contrast {ratio:.2f}:1, under "
                f"{MIN_CONTRAST}:1 (WCAG 2.1 SC 1.4.3)"
            )
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise PaletteError(
            f"territory {territory.id!r}: the palette in [branding] is refused:\n{listing}\n"
            "Pick a darker primary_color in "
            f"territories/{territory.id}.toml (white text must read on it)."
        )
    return palette


def theme_css(palette: Palette) -> str:
    """The CSS that puts the territory's colours where Bootstrap Italia compiled its blue."""
    p = palette
    r, g, b = _rgb(p.primary)
    return f"""/* Generated from the territory's [branding]; checked for WCAG contrast. */
:root {{
  --bs-primary: {p.primary};
  --bs-primary-rgb: {r}, {g}, {b};
  --bs-link-color: {p.primary};
  --bs-link-color-rgb: {r}, {g}, {b};
  --bs-link-hover-color: {p.primary_dark};
  --bc-primary-light: {p.primary_light};
}}
.it-header-slim-wrapper {{ background: {p.primary_dark}; }}
.it-header-center-wrapper, .it-header-navbar-wrapper {{ background: {p.primary}; }}
.it-footer-main {{ background-color: {p.primary_darker}; }}
.bg-primary {{ background-color: {p.primary} !important; }}
.text-primary {{ color: {p.primary} !important; }}
.bc-hero {{ background-color: {p.primary_light}; }}
.btn-primary {{
  --bs-btn-bg: {p.primary};
  --bs-btn-border-color: {p.primary};
  --bs-btn-hover-bg: {p.primary_dark};
  --bs-btn-hover-border-color: {p.primary_dark};
  --bs-btn-active-bg: {p.primary_darker};
  --bs-btn-active-border-color: {p.primary_darker};
  --bs-btn-disabled-bg: {p.primary};
  --bs-btn-disabled-border-color: {p.primary};
  --bs-btn-focus-shadow-rgb: {r}, {g}, {b};
}}
.btn-outline-primary {{
  --bs-btn-color: {p.primary};
  --bs-btn-border-color: {p.primary};
  --bs-btn-hover-bg: {p.primary};
  --bs-btn-hover-border-color: {p.primary};
  --bs-btn-active-bg: {p.primary_dark};
}}
.form-control:focus, .form-select:focus, .btn:focus-visible {{
  border-color: {p.primary};
}}
"""
