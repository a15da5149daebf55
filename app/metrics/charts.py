"""Server-side SVG bar charts: no script, no outside network.

Each chart is ``role="img"`` with a ``<title>`` and ``<desc>``; the table
printed next to it is its accessible alternative, with the same numbers.
"""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH = 640
LABEL_WIDTH = 200
VALUE_WIDTH = 70
BAR_HEIGHT = 22
GAP = 8
BAR_COLOUR = "#1f5a96"  # on white: contrast 7:1
TEXT_COLOUR = "#1b1f24"


def bar_chart(chart_id: str, title: str, description: str,
              items: list[tuple[str, float, str]]) -> Markup:
    """A horizontal bar chart of ``(label, value, value text)`` items."""
    height = max(len(items), 1) * (BAR_HEIGHT + GAP) + GAP
    top = max((value for _label, value, _text in items), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for i, (label, value, text) in enumerate(items):
        y = GAP + i * (BAR_HEIGHT + GAP)
        length = max(value, 0) / top * span
        middle = y + BAR_HEIGHT / 2
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{middle:.1f}" text-anchor="end" '
            f'dominant-baseline="middle" font-size="13" fill="{TEXT_COLOUR}">'
            f'{escape(_shorten(label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
            f'fill="{BAR_COLOUR}"/>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{middle:.1f}" '
            f'dominant-baseline="middle" font-size="13" fill="{TEXT_COLOUR}">'
            f'{escape(text)}</text>')
    parts.append("</svg>")
    # B704 (bandit): texts escaped, the rest is our numbers
    return Markup("".join(parts))  # nosec B704


def _shorten(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
