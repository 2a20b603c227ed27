"""SVG charts made at build time: no JavaScript, no CDN, Chinese labels.

Each function returns an inline ``<svg>`` (:class:`Markup`) wrapped in a
``<figure>``; labels are escaped. Colours follow Material's palette through
CSS custom properties with fallbacks, so charts read in light and dark mode.
"""

from __future__ import annotations

from typing import Optional, Sequence

from .render import Markup, esc

FONT = "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"
PALETTE = ("#3f51b5", "#ff9800", "#009688", "#e91e63", "#8bc34a", "#9c27b0", "#795548", "#607d8b")


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _figure(svg: str, caption: str, cls: str) -> Markup:
    return Markup(
        f'<figure class="crm-chart {cls}" data-search-exclude="1">{svg}'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    caption: str,
    unit: str = "",
    width: int = 560,
    bar: int = 22,
    hrefs: Optional[Sequence[Optional[str]]] = None,
) -> Markup:
    """Horizontal bars, one per (label, value); a bar links where ``hrefs`` says."""
    items = list(items)
    label_w = max([4] + [len(str(label)) for label, _ in items]) * 14 + 12
    label_w = min(label_w, 220)
    top = 8
    height = top + len(items) * (bar + 8) + 8
    peak = max([v for _, v in items] + [1e-9])
    plot_w = width - label_w - 80
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="crm-svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="{FONT}" font-size="13">',
        f"<title>{esc(caption)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y = top + i * (bar + 8)
        w = 0 if value <= 0 else max(1.0, plot_w * value / peak)
        colour = PALETTE[i % len(PALETTE)]
        rect = (
            f'<text x="{label_w - 8}" y="{_n(y + bar * 0.72)}" text-anchor="end" fill="currentColor">{esc(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{_n(w)}" height="{bar}" rx="3" fill="{colour}"/>'
            f'<text x="{_n(label_w + w + 6)}" y="{_n(y + bar * 0.72)}" fill="currentColor">{esc(_fmt(value))}{esc(unit)}</text>'
        )
        href = hrefs[i] if hrefs and i < len(hrefs) else None
        if href:
            rect = f'<a href="{esc(href)}">{rect}</a>'
        parts.append(rect)
    parts.append("</svg>")
    return _figure("".join(parts), caption, "crm-bars")


def _fmt(value: float) -> str:
    if abs(value - round(value)) < 1e-9:
        return f"{int(round(value)):,}"
    return f"{value:,.1f}"


def _nice(raw: float) -> float:
    """The smallest round step (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k) not below ``raw``."""
    import math

    if raw <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(raw))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if raw <= m * base + 1e-12:
            return m * base
    return 10 * base


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Optional[float]]]],
    *,
    caption: str,
    unit: str = "",
    width: int = 600,
    height: int = 240,
    y_min: Optional[float] = None,
    y_max: Optional[float] = None,
) -> Markup:
    """Lines over the x labels (months, weeks); None values leave a gap."""
    left, right, top, bottom = 56, 16, 16, 44 + 18 * ((len(series) + 2) // 3)
    plot_w = width - left - right
    plot_h = height - top - bottom
    if plot_h < 60:
        height += 60 - plot_h
        plot_h = 60
    values = [v for _, vs in series for v in vs if v is not None]
    lo = y_min if y_min is not None else min(values + [0.0])
    hi = y_max if y_max is not None else max(values + [1.0])
    if hi <= lo:
        hi = lo + 1
    if y_max is None:  # round the top up so the four steps are round numbers
        step = _nice((hi - lo) / 4)
        hi = lo + step * 4
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - lo) / (hi - lo))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="crm-svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="{FONT}" font-size="12">',
        f"<title>{esc(caption)}</title>",
    ]
    for k in range(5):  # grid and y ticks
        v = lo + (hi - lo) * k / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_n(y(v))}" y2="{_n(y(v))}" stroke="currentColor" stroke-opacity="0.15"/>'
            f'<text x="{left - 6}" y="{_n(y(v) + 4)}" text-anchor="end" fill="currentColor">{esc(_fmt(v))}</text>'
        )
    step = max(1, (n + 11) // 12)
    for i, label in enumerate(labels):
        if i % step == 0:
            parts.append(
                f'<text x="{_n(x(i))}" y="{top + plot_h + 16}" text-anchor="middle" fill="currentColor">{esc(label)}</text>'
            )
    for s, (name, vs) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        path, pen = [], "M"
        for i, v in enumerate(vs):
            if v is None:
                pen = "M"
                continue
            path.append(f"{pen}{_n(x(i))},{_n(y(v))}")
            pen = "L"
            parts.append(
                f'<circle cx="{_n(x(i))}" cy="{_n(y(v))}" r="3" fill="{colour}"><title>{esc(name)} {esc(labels[i])}：{esc(_fmt(v))}{esc(unit)}</title></circle>'
            )
        if path:
            parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        lx = left + (s % 3) * (plot_w / 3)
        ly = top + plot_h + 34 + 18 * (s // 3)
        parts.append(
            f'<rect x="{_n(lx)}" y="{ly - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{_n(lx + 16)}" y="{ly}" fill="currentColor">{esc(name)}</text>'
        )
    parts.append("</svg>")
    return _figure("".join(parts), caption, "crm-lines")
