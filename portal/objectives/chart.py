"""A small server-side SVG trend chart: one bar per period, coloured met / not met, a dashed
target line, period names under the bars; a period with nothing to measure is a gap.

Written by hand rather than with a chart library: the picture is simple, and every text
that reaches the SVG (an objective's name comes from a person) is escaped here, in one place.
No script, no external reference: the file is safe to serve as image/svg+xml and to embed."""
from xml.sax.saxutils import escape, quoteattr

from flask_babel import gettext as _

from portal.validation import xml_safe

FONT = ("'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', "
        "'WenQuanYi Micro Hei', SimHei, sans-serif")
MET, NOT_MET, NEUTRAL, TARGET = "#2e7d32", "#c62828", "#607d8b", "#37474f"
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 34, 56


def _text(value) -> str:
    return escape(xml_safe(value))


def _number(value: float) -> str:
    if value is None:
        return ""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _scale(rows: list[dict], target: float) -> tuple[float, float]:
    numbers = [r["value"] for r in rows if r["value"] is not None] + [target]
    low, high = min(0.0, *numbers), max(numbers)
    if high == low:
        high = low + 1
    return low, high + (high - low) * 0.1


def render_chart(title: str, rows: list[dict], target: float, unit: str, comparison: str = ">=") -> str:
    """The SVG document (text) for `rows` as values() answers them."""
    low, high = _scale(rows, target)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h * (high - value) / (high - low)

    suffix = "%" if unit == "%" else ""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" font-family={quoteattr(FONT)} font-size="11">',
           f"<title>{_text(title)}</title>",
           f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
           f'<text x="{LEFT}" y="18" font-size="13" font-weight="bold">{_text(title)}</text>']
    # axes and a few gridlines with their values
    for i in range(5):
        value = low + (high - low) * i / 4
        gy = y(value)
        out.append(f'<line x1="{LEFT}" y1="{gy:.1f}" x2="{WIDTH - RIGHT}" y2="{gy:.1f}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end" fill="#555">'
                   f"{_text(_number(value) + suffix)}</text>")
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#999"/>')
    out.append(f'<line x1="{LEFT}" y1="{y(max(low, 0)):.1f}" x2="{WIDTH - RIGHT}" '
               f'y2="{y(max(low, 0)):.1f}" stroke="#999"/>')
    slot = plot_w / max(len(rows), 1)
    bar = max(2.0, min(40.0, slot * 0.6))
    base = y(max(low, 0))
    label_every = max(1, round(len(rows) / 12))
    for i, row in enumerate(rows):
        cx = LEFT + slot * (i + 0.5)
        value = row["value"]
        if value is not None:
            top = y(value)
            colour = NEUTRAL if row.get("met") is None else (MET if row["met"] else NOT_MET)
            out.append(f'<rect x="{cx - bar / 2:.1f}" y="{min(top, base):.1f}" width="{bar:.1f}" '
                       f'height="{max(abs(base - top), 0.5):.1f}" fill="{colour}">'
                       f"<title>{_text(row['period'])}: {_text(_number(value) + suffix)}</title></rect>")
            if len(rows) <= 24:
                out.append(f'<text x="{cx:.1f}" y="{min(top, base) - 3:.1f}" text-anchor="middle" '
                           f'font-size="10">{_text(_number(value))}</text>')
        if i % label_every == 0:
            out.append(f'<text x="{cx:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" fill="#333">'
                       f"{_text(row['period'])}</text>")
    ty = y(target)
    out.append(f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" stroke="{TARGET}" '
               f'stroke-width="1.5" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{WIDTH - RIGHT}" y="{ty - 4:.1f}" text-anchor="end" fill="{TARGET}">'
               f"{_text(_('Target') + ' ' + comparison + ' ' + _number(target) + suffix)}</text>")
    legend_y = HEIGHT - 14
    for j, (colour, label) in enumerate(((MET, _("Met")), (NOT_MET, _("Not met")))):
        lx = LEFT + j * 80
        out.append(f'<rect x="{lx}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 14}" y="{legend_y}">{_text(label)}</text>')
    out.append("</svg>")
    return "\n".join(out)
