"""Bar charts as inline SVG, drawn on the server: no chart library, no script, no ``style``
(the portal's CSP refuses inline styles), only SVG presentation attributes (``fill``, ``width``,
``height``). A chart is a picture of figures the page also gives in a table: it carries a title
and a description for screen readers, and every bar is labelled with its text and its value, so
colour is never the only way to tell the bars apart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 640
VALUE_WIDTH = 130  # the value written after the longest bar
LABEL_LINE = 18  # each bar's label, on its own line above the bar (long names fit)
BAR_HEIGHT = 18
BAR_GAP = 6
GROUP_HEADING = 24  # the line naming a group above its bars
GROUP_GAP = 10
FONT_SIZE = 13
TEXT_COLOUR = "#1a1a1a"  # on white: contrast above 15:1
# Dark fills (at least 3:1 against white, WCAG 1.4.11), told apart by their labels too.
PALETTE = ("#1f5a7a", "#7a3e1f", "#2e6b2e", "#5b2e7a", "#7a6a1f", "#1f6b6b")


@dataclass(frozen=True)
class Bar:
    label: str
    value: int


@dataclass(frozen=True)
class Group:
    label: str
    bars: Sequence[Bar]


def _text(x: float, y: float, content: str, *, anchor: str = "start", bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    size = FONT_SIZE + 1 if bold else FONT_SIZE
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" fill="{TEXT_COLOUR}" '
        f'text-anchor="{anchor}"{weight}>{escape(content)}</text>'
    )


def bar_chart(
    groups: Sequence[Group],
    *,
    title: str,
    description: str,
    value_text: Callable[[int], str] = str,
    chart_id: str = "chart",
) -> Markup:
    """Horizontal bars, grouped (a group may have one bar), all on the same scale: the longest
    bar is the largest value. ``value_text`` writes a value (money in the page's language);
    ``chart_id`` makes the title's and description's ids unique on the page."""
    largest = max((bar.value for group in groups for bar in group.bars), default=0)
    span = WIDTH - VALUE_WIDTH
    parts: list[str] = []
    y = 0
    for group_index, group in enumerate(groups):
        if group.label:
            y += GROUP_HEADING
            parts.append(_text(0, y - 7, group.label, bold=True))
        for index, bar in enumerate(group.bars):
            length = 0 if largest <= 0 else max(0, round(span * bar.value / largest))
            if bar.value > 0:
                length = max(length, 1)  # a figure above zero is never invisible
            fill = PALETTE[index % len(PALETTE)]
            parts.append(_text(0, y + LABEL_LINE - 5, bar.label))
            y += LABEL_LINE
            middle = y + BAR_HEIGHT / 2 + FONT_SIZE / 2 - 2
            parts.append(
                f'<rect x="0" y="{y}" width="{length}" height="{BAR_HEIGHT}" '
                f'fill="{fill}"><title>{escape(bar.label)}: {escape(value_text(bar.value))}'
                "</title></rect>"
            )
            parts.append(_text(length + 6, middle, value_text(bar.value)))
            y += BAR_HEIGHT + BAR_GAP
        if group_index < len(groups) - 1:
            y += GROUP_GAP
    height = max(y, BAR_HEIGHT)
    title_id, description_id = f"{chart_id}-title", f"{chart_id}-desc"
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bc-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" height="{height}" '
        f'aria-labelledby="{title_id} {description_id}">'
        f'<title id="{title_id}">{escape(title)}</title>'
        f'<desc id="{description_id}">{escape(description)}</desc>' + "".join(parts) + "</svg>"
    )
    return Markup(svg)
