"""Charts and the data map, drawn as SVG on the server: no script, no CDN, readable by screen readers
(each SVG has a title and a description, and the numbers are also in the text)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from mamoru.policy.model import Policy
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


def data_map(policy: Policy, ledger: Sequence[tuple[str, str, list[str]]], lang: str) -> Markup:
    """Where personal data flows: ledger entries → purposes → processors and recipients (with country)."""
    purposes = [p for p in policy.purposes]
    parties = [
        ("processor", p.id, p.name.in_(lang), p.country, set(p.purposes)) for p in policy.processors
    ] + [("recipient", r.id, r.name.in_(lang), r.country, set(r.purposes)) for r in policy.recipients]
    row = 26
    height = 40 + row * max(len(ledger), len(purposes), len(parties))
    width = 1000
    cols = (10, 440, 700)
    y_ledger = {code: 40 + i * row for i, (code, _, _) in enumerate(ledger)}
    y_purpose = {p.id: 40 + i * row for i, p in enumerate(purposes)}
    y_party = {pid: 40 + i * row for i, (_, pid, _, _, _) in enumerate(parties)}
    parts: list[str] = []
    for code, _, entry_purposes in ledger:
        for pid in entry_purposes:
            if pid in y_purpose:
                parts.append(
                    f'<line x1="{cols[1] - 40}" y1="{y_ledger[code] - 4}" x2="{cols[1]}" y2="{y_purpose[pid] - 4}" stroke="#9bb7cf"/>'
                )
    for kind, pid, _, _, party_purposes in parties:
        for purpose in party_purposes:
            if purpose in y_purpose:
                colour = "#c98a2b" if kind == "recipient" else "#5a9a5a"
                parts.append(
                    f'<line x1="{cols[1] + 140}" y1="{y_purpose[purpose] - 4}" x2="{cols[2]}" y2="{y_party[pid] - 4}" stroke="{colour}"/>'
                )
    for code, name, _ in ledger:
        parts.append(
            f'<text x="{cols[0]}" y="{y_ledger[code]}" font-size="11">{escape(code)} {escape(name[:16])}</text>'
        )
    for p in purposes:
        mark = " ★" if p.my_number else ""
        parts.append(
            f'<text x="{cols[1] + 4}" y="{y_purpose[p.id]}" font-size="11">{escape(p.id)}{mark}</text>'
        )
    for kind, pid, name, country, _ in parties:
        flag = "" if country == "JP" else f" [{country}]"
        fill = "#a0521d" if country != "JP" else "#222"
        label = ("→ " if kind == "recipient" else "⇢ ") + name[:40] + flag
        parts.append(
            f'<text x="{cols[2] + 4}" y="{y_party[pid]}" font-size="11" fill="{fill}">{escape(label)}</text>'
        )
    headers = (
        ("台帳", "Ledger"),
        ("利用目的", "Purposes"),
        ("委託先（⇢）・提供先（→）", "Processors (⇢) and recipients (→)"),
    )
    for x, (ja, en) in zip(cols, headers, strict=True):
        parts.append(
            f'<text x="{x}" y="18" font-size="12" font-weight="bold">{escape(ja if lang == "ja" else en)}</text>'
        )
    desc = f"{len(ledger)} ledger entries, {len(purposes)} purposes, {len(parties)} processors and recipients"
    return Markup(
        f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" '
        f'class="datamap"><title>Data map</title><desc>{escape(desc)}</desc>{"".join(parts)}</svg>'
    )
