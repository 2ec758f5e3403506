"""The SVG bar chart helper: bars as attributes only (the CSP refuses inline styles), on one
scale, every bar named with its value, the text escaped, a title and description for readers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from portal.charts import Bar, Group, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def widths(svg: str) -> list[int]:
    return [int(w) for w in re.findall(r'<rect [^>]*width="(\d+)"', svg)]


def test_bars_share_one_scale_and_carry_their_values() -> None:
    chart = bar_chart(
        [
            Group("Biella", [Bar("Allocated", 1000), Bar("Issued", 500)]),
            Group("Valdilana", [Bar("Allocated", 250)]),
        ],
        title="Funds",
        description="Figures in the table below.",
        value_text=lambda cents: f"{cents / 100:.2f} €",
        chart_id="funds",
    )
    svg = str(chart)
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "funds-title funds-desc"
    assert root.find(f"{SVG}title").text == "Funds"  # type: ignore[union-attr]
    longest, half, quarter = widths(svg)
    assert abs(longest - 2 * half) <= 1 and abs(longest - 4 * quarter) <= 2
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Biella" in texts and "Valdilana" in texts
    assert texts.count("Allocated") == 2 and "10.00 €" in texts and "2.50 €" in texts
    assert "style" not in svg
    for rect in root.iter(f"{SVG}rect"):
        assert re.fullmatch(r"#[0-9a-f]{6}", rect.get("fill") or "")
        assert rect.get("height") and rect.get("width") is not None


def test_a_small_value_stays_visible_and_zero_is_empty() -> None:
    svg = str(
        bar_chart(
            [Group("", [Bar("a", 1_000_000), Bar("b", 1), Bar("c", 0)])], title="t", description="d"
        )
    )
    assert widths(svg)[1:] == [1, 0]


def test_no_bars_or_all_zero_draws_an_empty_chart() -> None:
    assert "<rect" not in str(bar_chart([], title="t", description="d"))
    assert widths(str(bar_chart([Group("", [Bar("a", 0)])], title="t", description="d"))) == [0]


def test_text_is_escaped() -> None:
    svg = str(bar_chart([Group("<b>&", [Bar("<script>", 5)])], title="a<b", description='"q"'))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&lt;b" in svg
    ET.fromstring(svg)
