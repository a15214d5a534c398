"""Charts and the data map, drawn as SVG on the server: no script, no CDN, readable by screen readers
(each SVG has a title and a description, and the numbers are also in the text)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup


def bar_chart(
    title: str,
    series: Sequence[tuple[str, float | None]],
    *,
    unit: str = "",
    width: int = 360,
    height: int = 150,
) -> Markup:
    """A small bar chart: one bar per (label, value); a value of None (nothing to measure) draws no bar
    and reads as a dash, never as a zero."""
    top = max((v for _, v in series if v is not None), default=0) or 1
    n = max(len(series), 1)
    slot = (width - 20) / n
    bars = []
    for i, (label, value) in enumerate(series):
        h = (height - 52) * (value or 0) / top
        x = 10 + i * slot + slot * 0.15
        y = height - 22 - h
        shown = "–" if value is None else f"{value:g}{unit}"
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="#2b5f8a"><title>{escape(label)}: {escape(shown)}</title></rect>'
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle">{escape(shown)}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{height - 8}" font-size="10" text-anchor="middle">{escape(label[-5:])}</text>'
        )
    desc = "; ".join(f"{label} {'–' if value is None else f'{value:g}{unit}'}" for label, value in series)
    return Markup(
        f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" class="chart"><title>{escape(title)}</title><desc>{escape(desc)}</desc>'
        f'<text x="8" y="13" font-size="11" font-weight="bold">{escape(title)}</text>'
        f'<line x1="8" y1="{height - 21}" x2="{width - 8}" y2="{height - 21}" stroke="#999"/>{"".join(bars)}</svg>'
    )
