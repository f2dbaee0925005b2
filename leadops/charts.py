"""Charts drawn on the server as SVG: no front-end build, readable wherever HTML is (the embedded demo too).

Every label passes through ``format_html``, so a lead source named ``<script>`` is text.
"""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#2f6db5", "#2e9e6b", "#d08a1e", "#a2403c")


def bar_chart(bars: list[tuple[str, int, str]], *, title: str, width: int = 640) -> SafeString:
    """Return horizontal bars, one per ``(label, value, link or "")``, longest first as given."""
    if not bars:
        return format_html('<p class="chart-empty">{}: nothing to draw.</p>', title)
    row, label_width = 22, 230
    top = max(value for _, value, _ in bars) or 1
    height = row * len(bars) + 30
    scale = (width - label_width - 60) / top

    def bar(index: int, label: str, value: int, href: str) -> SafeString:
        y = 24 + index * row
        body = format_html(
            '<text x="{}" y="{}" text-anchor="end">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
            '<text x="{}" y="{}">{}</text>',
            label_width - 6,
            y + 12,
            label,
            label_width,
            y,
            max(1, round(value * scale)),
            row - 6,
            COLOURS[0],
            label_width + round(value * scale) + 4,
            y + 12,
            value,
        )
        return format_html('<a href="{}">{}</a>', href, body) if href else body

    bodies = mark_safe("".join(bar(i, *item) for i, item in enumerate(bars)))  # each part escaped by format_html
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}" '
        'font-family="sans-serif" font-size="12"><title>{}</title>'
        '<text x="0" y="14" font-weight="bold">{}</text>{}</svg>',
        title,
        width,
        height,
        width,
        height,
        title,
        title,
        bodies,
    )


def line_chart(xs: list[str], series: dict[str, list[int]], *, title: str, width: int = 640) -> SafeString:
    """Return one line per series over the labels ``xs`` (weeks), with a legend and the first and last label."""
    if not xs:
        return format_html('<p class="chart-empty">{}: nothing to draw.</p>', title)
    height, left, right, top, bottom = 220, 40, 10, 34, 30
    peak = max((max(values) for values in series.values() if values), default=0) or 1
    step = (width - left - right) / max(1, len(xs) - 1)

    def point(i: int, value: int) -> str:
        return f"{left + i * step:.1f},{top + (height - top - bottom) * (1 - value / peak):.1f}"

    # A dot per week too: a single week is a point, and a point is what one reads off a line.
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{} {}: {}</title></circle>',
        (
            (*point(i, v).split(","), COLOURS[n % len(COLOURS)], name, xs[i], v)
            for n, (name, values) in enumerate(series.items())
            for i, v in enumerate(values)
        ),
    )
    lines = format_html_join(
        "",
        '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"><title>{}</title></polyline>'
        '<text x="{}" y="26" fill="{}">{}</text>',
        (
            (
                COLOURS[n % len(COLOURS)],
                " ".join(point(i, v) for i, v in enumerate(values)),
                name,
                left + n * 150,
                COLOURS[n % len(COLOURS)],
                name,
            )
            for n, (name, values) in enumerate(series.items())
        ),
    )
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}" '
        'font-family="sans-serif" font-size="12"><title>{}</title>'
        '<text x="0" y="12" font-weight="bold">{}</text>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>'
        '<text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">0</text>'
        '{}{}<text x="{}" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text></svg>',
        title,
        width,
        height,
        width,
        height,
        title,
        title,
        left,
        height - bottom,
        width - right,
        height - bottom,
        left - 4,
        top + 4,
        peak,
        left - 4,
        height - bottom,
        lines,
        dots,
        left,
        height - 10,
        xs[0],
        width - right,
        height - 10,
        xs[-1],
    )
