"""The territory's palette: WCAG contrast computed right, every pair used checked, the
government blue and a light primary refused with a message that says what to change."""

from __future__ import annotations

from pathlib import Path

import pytest
from portal.theming import (
    Palette,
    PaletteError,
    check_palette,
    contrast_ratio,
    shade,
    theme_css,
    tint,
)
from servicekit.settings import ServiceSettings
from servicekit.territory import Territory, available_territories, load_territory

TERRITORIES = ServiceSettings().territories_dir


def with_primary(colour: str) -> Territory:
    biella = load_territory("biella", TERRITORIES)
    branding = biella.branding.model_copy(update={"primary_color": colour})
    return biella.model_copy(update={"branding": branding})


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    # WebAIM's checker: #767676 on white is the lightest grey that passes, 4.54:1.
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#FFFFFF", "#0066CC") == pytest.approx(5.57, abs=0.01)


def test_shades_and_tints_mix_with_black_and_white() -> None:
    assert shade("#808080", 0.5) == "#404040"
    assert tint("#000000", 0.5) == "#808080"
    assert shade("#00676B", 0) == "#00676B"


@pytest.mark.parametrize("territory_id", available_territories(TERRITORIES))
def test_every_territory_shipped_has_a_palette_that_passes(territory_id: str) -> None:
    palette = check_palette(load_territory(territory_id, TERRITORIES))
    for what, foreground, background in palette.pairs():
        assert contrast_ratio(foreground, background) >= 4.5, what


def test_the_government_blue_is_refused() -> None:
    with pytest.raises(PaletteError, match=r"#0066CC is Bootstrap Italia's blue, reserved"):
        check_palette(with_primary("#0066CC"))


def test_a_light_primary_is_refused_naming_each_failing_pair() -> None:
    with pytest.raises(PaletteError) as refused:
        check_palette(with_primary("#F5B400"))  # a bright yellow: white text cannot read on it
    message = str(refused.value)
    assert "territory 'biella'" in message
    assert "text on the primary colour (header, primary buttons): #FFFFFF on #F5B400" in message
    assert "links on white: #F5B400 on #FFFFFF" in message
    assert "under 4.5:1" in message
    assert "territories/biella.toml" in message


def test_the_app_refuses_to_start_with_a_bad_palette(tmp_path: Path) -> None:
    from portal.app import create_app
    from portal.settings import PortalSettings

    source = (TERRITORIES / "biella.toml").read_text(encoding="utf-8")
    (tmp_path / "biella.toml").write_text(
        source.replace('primary_color = "#00676B"', 'primary_color = "#66CCFF"'), "utf-8"
    )
    settings = PortalSettings(territories_dir=tmp_path, keys_dir=tmp_path / "keys")
    with pytest.raises(PaletteError, match=r"under 4\.5:1"):
        create_app(settings)


def test_biella_and_matera_get_different_css() -> None:
    biella = theme_css(check_palette(load_territory("biella", TERRITORIES)))
    matera = theme_css(check_palette(load_territory("matera", TERRITORIES)))
    assert "--bs-primary: #00676B;" in biella
    assert "--bs-primary: #7A4B12;" in matera
    assert "#0066CC" not in biella + matera


def test_the_palette_derives_darker_hover_and_footer_shades() -> None:
    palette = Palette.of(load_territory("matera", TERRITORIES))
    assert palette.primary == "#7A4B12"
    assert contrast_ratio("#FFFFFF", palette.primary_dark) > contrast_ratio(
        "#FFFFFF", palette.primary
    )
