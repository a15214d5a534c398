"""Charts and the data map, drawn as SVG on the server: no script, no CDN, readable by screen readers
(each SVG has a title and a description, and the numbers are also in the text)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from mamoru.words import month, word


def bar_chart(
    title: str,
    series: Sequence[tuple[str, float | None]],
    *,
    lang: str = "ja",
    unit: str = "",
    width: int = 420,
    height: int = 170,
) -> Markup:
    """A small bar chart of months: one bar per (``2026-11``, value). A value of None (nothing to
    measure, e.g. no request answered that month) draws no bar and reads "no answers", never a zero.
    Months read as people write them (2026年11月); under the axis, the year is given for the first
    month and each January."""
    top = max((v for _, v in series if v is not None), default=0) or 1
    n = max(len(series), 1)
    slot = (width - 20) / n
    nothing = word("chart_no_answers", lang)
    bars = []
    for i, (key, value) in enumerate(series):
        full = month(key, lang)
        h = (height - 62) * (value or 0) / top
        x = 10 + i * slot + slot * 0.15
        y = height - 34 - h
        shown = "–" if value is None else f"{value:g}{unit}"
        spoken = nothing if value is None else shown
        short = month(key, lang, short=True)
        year = full.replace(short, "").strip() if (i == 0 or short in ("1月", "Jan")) else ""
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="#0017c1"><title>{escape(full)}: {escape(spoken)}</title></rect>'
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle" fill="#1a1a1a">{escape(shown)}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{height - 20}" font-size="10" text-anchor="middle" fill="#1a1a1a">{escape(short)}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{height - 6}" font-size="9" text-anchor="middle" fill="#4d4d4d">{escape(year)}</text>'
        )
    desc = "; ".join(
        f"{month(key, lang)} {nothing if value is None else f'{value:g}{unit}'}" for key, value in series
    )
    return Markup(
        f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" class="chart"><title>{escape(title)}</title><desc>{escape(desc)}</desc>'
        f'<text x="8" y="15" font-size="12" font-weight="bold" fill="#1a1a1a">{escape(title)}</text>'
        f'<line x1="8" y1="{height - 33}" x2="{width - 8}" y2="{height - 33}" stroke="#767676"/>{"".join(bars)}</svg>'
    )
