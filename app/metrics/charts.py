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


def _svg_start(chart_id: str, height: float, title: str, description: str) -> list[str]:
    """The opening of an accessible chart: role img, named by its title and description."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def bar_chart(chart_id: str, title: str, description: str,
              items: list[tuple[str, float, str]]) -> Markup:
    """A horizontal bar chart of ``(label, value, value text)`` items."""
    height = max(len(items), 1) * (BAR_HEIGHT + GAP) + GAP
    top = max((value for _label, value, _text in items), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = _svg_start(chart_id, height, title, description)
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


# Series colours, each at least 3:1 against white (WCAG non-text contrast) and
# told apart by the legend and the white gaps between stacked parts.
SERIES_COLOURS = ["#1f5a96", "#b35c00", "#2e7d32", "#6a3d9a", "#a3195b", "#00707a",
                  "#5d4037"]
OTHER_COLOUR = "#5f6770"
COLUMNS_HEIGHT = 260
AXIS_WIDTH = 48
LEGEND_ROW = 22


def stacked_columns(chart_id: str, title: str, description: str, periods: list[str],
                    series: list[tuple[str, list[int]]], *, other_label: str) -> Markup:
    """Vertical columns, one per period, stacked by series, with a legend.

    ``series`` is ``(name, one value per period)``; past the seventh, the
    rest are drawn together as ``other_label`` (the table keeps them apart).
    """
    if len(series) > len(SERIES_COLOURS):
        kept, rest = series[:len(SERIES_COLOURS) - 1], series[len(SERIES_COLOURS) - 1:]
        series = [*kept, (other_label, [sum(v) for v in zip(*(s[1] for s in rest),
                                                            strict=True)])]
    colours = [*SERIES_COLOURS[:len(series)]]
    if series and series[-1][0] == other_label:
        colours[-1] = OTHER_COLOUR
    count = max(len(periods), 1)
    totals = [sum(values[i] for _name, values in series) for i in range(len(periods))]
    top = _nice_top(max(totals, default=0))
    plot_width = WIDTH - AXIS_WIDTH - 8
    slot = plot_width / count
    bar = max(min(slot * 0.7, 48), 2)
    legend_top = COLUMNS_HEIGHT + 44
    legend_rows = (len(series) + 2) // 3
    height = legend_top + legend_rows * LEGEND_ROW + 8
    parts = _svg_start(chart_id, height, title, description)
    for step in range(5):  # gridlines and their values
        value = top * step / 4
        y = COLUMNS_HEIGHT - value / top * (COLUMNS_HEIGHT - 10)
        parts.append(
            f'<line x1="{AXIS_WIDTH}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#c4c9cf" stroke-width="1"/>'
            f'<text x="{AXIS_WIDTH - 6}" y="{y:.1f}" text-anchor="end" '
            f'dominant-baseline="middle" font-size="12" fill="{TEXT_COLOUR}">'
            f'{_int_text(value)}</text>')
    label_every = max(1, -(-count // 8))  # at most 8 period labels
    for i, name in enumerate(periods):
        x = AXIS_WIDTH + i * slot + (slot - bar) / 2
        y = float(COLUMNS_HEIGHT)
        for (_series, values), colour in zip(series, colours, strict=True):
            size = values[i] / top * (COLUMNS_HEIGHT - 10) if values[i] else 0
            if size:
                y -= size
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                             f'height="{size:.1f}" fill="{colour}" stroke="#ffffff" '
                             f'stroke-width="1"/>')
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{COLUMNS_HEIGHT + 18}" text-anchor="middle" '
                f'font-size="12" fill="{TEXT_COLOUR}">{escape(name)}</text>')
    for index, ((name, _values), colour) in enumerate(zip(series, colours, strict=True)):
        x = AXIS_WIDTH + (index % 3) * 196
        y = legend_top + (index // 3) * LEGEND_ROW
        parts.append(
            f'<rect x="{x}" y="{y}" width="14" height="14" fill="{colour}"/>'
            f'<text x="{x + 20}" y="{y + 7}" dominant-baseline="middle" font-size="13" '
            f'fill="{TEXT_COLOUR}">{escape(_shorten(name, 24))}</text>')
    parts.append("</svg>")
    # B704 (bandit): texts escaped, the rest is our numbers
    return Markup("".join(parts))  # nosec B704


def _nice_top(value: float) -> int:
    """An axis maximum at or above ``value`` whose quarters are round whole numbers
    (1 to 10 × 10^n each), so the four gridlines read e.g. 0, 5, 10, 15, 20."""
    quarter = max(value, 4) / 4
    magnitude = 10 ** (len(str(int(quarter))) - 1)
    for factor in (1, 2, 3, 4, 5, 6, 8, 10):
        if factor * magnitude >= quarter:
            return int(factor * magnitude * 4)
    return int(10 * magnitude * 4)


def _int_text(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")
