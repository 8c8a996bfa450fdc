"""Server-side SVG charts and their table fallback: readable without JavaScript, CSP-safe."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from markupsafe import Markup

__all__ = [
    "ENGLISH",
    "NO_DATA",
    "ChartWords",
    "Point",
    "Series",
    "bar_chart",
    "data_table",
    "line_chart",
]

NO_DATA = "No data yet for this period."
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class ChartWords:
    """The few words a chart writes itself, in the reader's language (the caller translates:
    this module stays free of Flask)."""

    no_data: str = NO_DATA
    date: str = "Date"
    months: tuple[str, ...] = MONTHS


ENGLISH = ChartWords()

SVG_NS = "http://www.w3.org/2000/svg"
_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
_CHART_ID = re.compile(r"[a-z0-9-]+")
# Characters XML 1.0 forbids: one stray control character would make the whole SVG unparseable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A dash pattern per series, so lines stay distinguishable without colour vision.
_DASHES = ("", "6 3", "2 3", "8 3 2 3")
_TEXT = "#444"
_GRID = "#d9dde3"
_AXIS = "#8a929c"
_FONT_SIZE = 13  # with the page keeping the chart >= 34rem wide, >= 11 px on a phone
_CHAR_WIDTH = 7.3  # rough advance of one character at _FONT_SIZE, for layout estimates
_Y_TICKS = 5
_EPOCH = datetime(1970, 1, 1)
_DAY = timedelta(days=1)
_Scale = Callable[[float], float]


@dataclass(frozen=True)
class Point:
    """One observation at a moment; ``low``/``high`` bound its credible interval when given."""

    x: date | datetime
    y: float
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.x, date):
            raise TypeError(f"Point.x must be a date or datetime, not {type(self.x).__name__}")
        for value in (self.y, self.low, self.high):
            if value is not None and not math.isfinite(value):
                raise ValueError(f"Point values must be finite numbers, got {value!r}")
        if (self.low is None) != (self.high is None):
            raise ValueError("Give both low and high for an interval, or neither")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"Interval low {self.low} is above high {self.high}")


@dataclass(frozen=True)
class Series:
    """A named line; the colour is checked because it is written into SVG attributes."""

    name: str
    points: tuple[Point, ...]
    color: str = "#1f5fa8"

    def __post_init__(self) -> None:
        _check_color(self.color)
        object.__setattr__(self, "points", tuple(self.points))


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    description: str,
    x_label: str,
    y_label: str,
    y_min: float = 0.0,
    y_max: float = 100.0,
    width: int = 640,
    height: int = 260,
    chart_id: str = "chart",
    words: ChartWords = ENGLISH,
) -> Markup:
    """An accessible SVG line chart over time, one polyline (and optional band) per series.

    Values outside [y_min, y_max] are clamped to the plot edge so nothing is drawn outside
    the chart; tooltips and ``data_table`` still show the true value. Aware datetimes are
    placed and labelled in UTC: pass local dates if the labels should be local.
    """
    _check_id(chart_id)
    _check_size(width, height)
    if not (math.isfinite(y_min) and math.isfinite(y_max) and y_min < y_max):
        raise ValueError(f"Need finite y_min < y_max, got {y_min!r} and {y_max!r}")
    series = list(series)
    drawn = [(index, s, sorted(s.points, key=_key)) for index, s in enumerate(series) if s.points]
    if not drawn:
        return _empty(chart_id, "line", title, description, width, height, words)

    left, right, top, bottom = 56.0, width - 28.0, 16.0, height - 44.0
    legend = Markup("")
    if len(series) > 1:
        legend, legend_height = _legend(series, left, right, top=12.0)
        top += legend_height
    if bottom - top < 40:
        raise ValueError(f"height {height} leaves no room to plot under the legend")

    moments = [_moment(p.x) for _, _, points in drawn for p in points]
    first, last = min(moments), max(moments)
    span = (last - first).total_seconds()

    def x_of(moment: datetime) -> float:
        if span == 0:  # a single moment sits in the middle rather than dividing by zero
            return (left + right) / 2
        return left + (moment - first).total_seconds() / span * (right - left)

    def y_of(value: float) -> float:
        clamped = min(max(value, y_min), y_max)
        return bottom - (clamped - y_min) / (y_max - y_min) * (bottom - top)

    parts = [_y_axis(y_min, y_max, y_of, left, right, top, bottom, y_label)]
    parts.append(_line(left, bottom, right, bottom, _AXIS, "chart-axis-line"))
    max_ticks = max(2, min(8, int((right - left) // 64)))
    for moment, label in _x_ticks(first, last, max_ticks, words):
        x = x_of(moment)
        parts.append(_line(x, bottom, x, bottom + 4, _AXIS, "chart-tick"))
        parts.append(_text_el(label, x, bottom + 16, "middle", "chart-tick-label"))
    parts.append(_text_el(x_label, (left + right) / 2, height - 8, "middle", "chart-axis-label"))

    for index, s, points in drawn:
        dash = _DASHES[index % len(_DASHES)]
        shapes = [_band(run, s.color, x_of, y_of) for run in _interval_runs(points)]
        coordinates = " ".join(f"{_num(x_of(_moment(p.x)))},{_num(y_of(p.y))}" for p in points)
        shapes.append(
            _el(
                "polyline",
                points=coordinates,
                fill="none",
                stroke=s.color,
                stroke_width=2,
                stroke_linejoin="round",
                stroke_dasharray=dash,
            )
        )
        for p in points:
            tooltip = f"{_plain(s.name)}: {_moment_label(_moment(p.x), words)}, {_num(p.y, 2)}"
            if p.low is not None and p.high is not None:
                tooltip += f" ({_num(p.low, 2)}–{_num(p.high, 2)})"
            shapes.append(
                _el(
                    "circle",
                    _el("title", tooltip),
                    cx=x_of(_moment(p.x)),
                    cy=y_of(p.y),
                    r=3.5,
                    fill=s.color,
                    stroke="#fff",
                    stroke_width=1,
                )
            )
        parts.append(_el("g", *shapes, class_=f"chart-series chart-series-{index}"))
    parts.append(legend)
    return _svg(chart_id, "line", title, description, width, height, parts)


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    description: str,
    y_label: str,
    y_max: float | None = None,
    width: int = 640,
    height: int = 220,
    chart_id: str = "bars",
    color: str = "#1f5fa8",
    words: ChartWords = ENGLISH,
) -> Markup:
    """An accessible SVG bar chart with the value written above each bar.

    Without ``y_max`` the scale rounds the largest value up to a readable number. Values
    are clamped to [0, y_max] for drawing; the labels and tooltips show the true value.
    """
    _check_id(chart_id)
    _check_size(width, height)
    _check_color(color)
    bars = [(label, float(value)) for label, value in bars]
    if not bars:
        return _empty(chart_id, "bar", title, description, width, height, words)
    values = [value for _, value in bars]
    if not all(math.isfinite(value) for value in values):
        raise ValueError("Bar values must be finite numbers")
    top_value = _nice_max(max(values)) if y_max is None else float(y_max)
    if not (math.isfinite(top_value) and top_value > 0):
        raise ValueError(f"y_max must be a positive number, got {y_max!r}")

    left, right, top, bottom = 56.0, width - 16.0, 20.0, height - 32.0

    def y_of(value: float) -> float:
        return bottom - min(max(value, 0.0), top_value) / top_value * (bottom - top)

    parts = [_y_axis(0.0, top_value, y_of, left, right, top, bottom, y_label)]
    slot = (right - left) / len(bars)
    bar_width = min(slot * 0.7, 72.0)
    label_chars = int(slot / _CHAR_WIDTH)
    shapes = []
    for index, (label, value) in enumerate(bars):
        centre = left + slot * (index + 0.5)
        y = y_of(value)
        shapes.append(
            _el(
                "rect",
                _el("title", f"{_plain(label)}: {_num(value, 2)}"),
                x=centre - bar_width / 2,
                y=y,
                width=bar_width,
                height=bottom - y,
                fill=color,
            )
        )
        if slot >= 20:  # narrower slots would overlap; the bar's tooltip still has the value
            shapes.append(_text_el(_num(value, 2), centre, y - 4, "middle", "chart-value"))
        if label_chars >= 2:
            short = _truncate(_plain(label), label_chars)
            shapes.append(_text_el(short, centre, bottom + 14, "middle", "chart-tick-label"))
    parts.append(_el("g", *shapes, class_="chart-bars"))
    parts.append(_line(left, bottom, right, bottom, _AXIS, "chart-axis-line"))
    return _svg(chart_id, "bar", title, description, width, height, parts)


def data_table(
    series: Sequence[Series],
    *,
    caption: str,
    value_format: str = "{:.1f}",
    words: ChartWords = ENGLISH,
) -> Markup:
    """The same numbers as a table, for screen readers, copying, and readers who prefer text.

    One row per distinct moment across all series; a series without a value there shows
    "—". If a series has two points at one moment, the later one in its tuple wins.
    """
    series = list(series)
    rows: dict[datetime, dict[int, Point]] = {}
    for index, s in enumerate(series):
        for p in s.points:
            rows.setdefault(_moment(p.x), {})[index] = p

    def cell(p: Point | None) -> str:
        if p is None:
            return "—"
        text = value_format.format(p.y)
        if p.low is not None and p.high is not None:
            text += f" ({value_format.format(p.low)}–{value_format.format(p.high)})"
        return text

    header = _el(
        "tr",
        _el("th", words.date, scope="col"),
        *(_el("th", _plain(s.name), scope="col") for s in series),
    )
    body = [
        _el(
            "tr",
            _el("th", _moment_label(moment, words), scope="row"),
            *(_el("td", cell(rows[moment].get(index))) for index in range(len(series))),
        )
        for moment in sorted(rows)
    ]
    if not body:
        body = [_el("tr", _el("td", words.no_data, colspan=len(series) + 1))]
    return _el(
        "table",
        _el("caption", _plain(caption)),
        _el("thead", header),
        _el("tbody", *body),
        class_="chart-table",
    )


# --- validation ---------------------------------------------------------------------------


def _check_color(color: str) -> None:
    if not isinstance(color, str) or not _COLOR.fullmatch(color):
        raise ValueError(f"Colour must be #rgb or #rrggbb, got {color!r}")


def _check_id(chart_id: str) -> None:
    if not isinstance(chart_id, str) or not _CHART_ID.fullmatch(chart_id):
        raise ValueError(f"chart_id may use only a-z, 0-9 and '-', got {chart_id!r}")


def _check_size(width: int, height: int) -> None:
    if width < 200 or height < 120:
        raise ValueError(f"Chart must be at least 200×120, got {width}×{height}")


# --- time axis ----------------------------------------------------------------------------


def _moment(x: date) -> datetime:
    """A naive datetime to place and label x: dates at midnight, aware datetimes in UTC."""
    if isinstance(x, datetime):
        if x.utcoffset() is not None:
            return x.astimezone(UTC).replace(tzinfo=None)
        return x
    return datetime(x.year, x.month, x.day)


def _key(p: Point) -> datetime:
    return _moment(p.x)


def _day_label(moment: datetime, words: ChartWords = ENGLISH) -> str:
    return f"{moment.day} {words.months[moment.month - 1]}"


def _moment_label(moment: datetime, words: ChartWords = ENGLISH) -> str:
    label = f"{_day_label(moment, words)} {moment.year}"
    if moment.time() != time():
        label += f" {moment:%H:%M}"
    return label


def _next_midnight(moment: datetime) -> datetime:
    midnight = datetime(moment.year, moment.month, moment.day)
    return midnight if midnight >= moment else midnight + _DAY


def _x_ticks(
    first: datetime, last: datetime, max_ticks: int, words: ChartWords = ENGLISH
) -> list[tuple[datetime, str]]:
    def day_label(moment: datetime) -> str:
        return _day_label(moment, words)

    """Tick marks on whole days, Mondays or month starts, whichever suits the span."""
    if first == last:
        return [(first, _moment_label(first, words))]
    days = (last - first) / _DAY
    if days <= 16:
        ticks = _stepped(_every(_next_midnight(first), last, _DAY), max_ticks, day_label)
    elif days <= 92:
        start = _next_midnight(first)
        start += _DAY * ((7 - start.weekday()) % 7)
        ticks = _stepped(_every(start, last, 7 * _DAY), max_ticks, day_label)
    else:
        ticks = _month_ticks(first, last, max_ticks, words)
    if len(ticks) < 2:  # e.g. a few hours: label the ends instead
        same_day = first.date() == last.date()
        ticks = [(m, f"{m:%H:%M}" if same_day else day_label(m)) for m in (first, last)]
    return ticks


def _every(start: datetime, stop: datetime, step: timedelta) -> list[datetime]:
    count = int((stop - start) / step) + 1 if start <= stop else 0
    return [start + step * i for i in range(count)]


def _stepped(
    moments: list[datetime], max_ticks: int, label: Callable[[datetime], str]
) -> list[tuple[datetime, str]]:
    step = max(1, math.ceil(len(moments) / max_ticks))
    return [(m, label(m)) for m in moments[::step]]


def _month_ticks(
    first: datetime, last: datetime, max_ticks: int, words: ChartWords = ENGLISH
) -> list[tuple[datetime, str]]:
    year, month = first.year, first.month
    if datetime(year, month, 1) < first:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    starts = []
    while (start := datetime(year, month, 1)) <= last:
        starts.append(start)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    for step in (1, 2, 3, 6):  # aligned so that ticks land on Jan, Apr, Jul... for step 3
        chosen = [m for m in starts if (m.month - 1) % step == 0]
        if len(chosen) <= max_ticks:
            return [
                (m, words.months[m.month - 1] + (f" {m.year}" if m.month == 1 or i == 0 else ""))
                for i, m in enumerate(chosen)
            ]
    years = [m for m in starts if m.month == 1]
    for step in _year_steps():
        chosen = [m for m in years if m.year % step == 0]
        if len(chosen) <= max_ticks:
            return [(m, str(m.year)) for m in chosen]
    return []  # unreachable: a 10 000-year step leaves at most one tick


def _year_steps() -> Iterable[int]:
    scale = 1
    while scale <= 10_000:
        yield from (scale, 2 * scale, 5 * scale)
        scale *= 10


# --- drawing ------------------------------------------------------------------------------


def _y_axis(
    low: float,
    high: float,
    y_of: _Scale,
    left: float,
    right: float,
    top: float,
    bottom: float,
    y_label: str,
) -> Markup:
    step = (high - low) / (_Y_TICKS - 1)
    places = max(2, math.ceil(-math.log10(step)) + 1)
    parts = []
    for i in range(_Y_TICKS):
        value = low + step * i
        y = y_of(value)
        parts.append(_line(left, y, right, y, _GRID, "chart-grid"))
        parts.append(_text_el(_num(value, places), left - 6, y + 4, "end", "chart-tick-label"))
    parts.append(
        _el(
            "text",
            _plain(y_label),
            x=-(top + bottom) / 2,
            y=14,
            transform="rotate(-90)",
            text_anchor="middle",
            fill=_TEXT,
            class_="chart-axis-label",
        )
    )
    return _el("g", *parts, class_="chart-y-axis")


def _interval_runs(points: list[Point]) -> list[list[Point]]:
    """Consecutive points that carry an interval; a gap in the band is left open."""
    runs: list[list[Point]] = []
    current: list[Point] = []
    for p in points:
        if p.low is not None and p.high is not None:
            current.append(p)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _band(run: list[Point], color: str, x_of: Callable[[datetime], float], y_of: _Scale) -> Markup:
    xs = [x_of(_moment(p.x)) for p in run]
    if len(run) == 1:  # one interval alone is an error bar, not an area
        return _el(
            "line",
            x1=xs[0],
            y1=y_of(run[0].low),
            x2=xs[0],
            y2=y_of(run[0].high),
            stroke=color,
            stroke_width=6,
            stroke_opacity="0.25",
            class_="chart-band",
        )
    upper = [f"{_num(x)},{_num(y_of(p.high))}" for x, p in zip(xs, run, strict=True)]
    lower = [f"{_num(x)},{_num(y_of(p.low))}" for x, p in zip(xs, run, strict=True)]
    return _el(
        "polygon",
        points=" ".join(upper + lower[::-1]),
        fill=color,
        fill_opacity="0.18",
        stroke="none",
        class_="chart-band",
    )


def _legend(
    series: Sequence[Series], left: float, right: float, top: float
) -> tuple[Markup, float]:
    """Legend items in rows across the top; returns the markup and the height it takes."""
    items = []
    x, y = left, top
    max_chars = int((right - left - 40) / _CHAR_WIDTH)
    for index, s in enumerate(series):
        name = _truncate(_plain(s.name), max_chars)
        item_width = 24 + len(name) * _CHAR_WIDTH + 16
        if x > left and x + item_width > right:
            x, y = left, y + 16
        items.append(
            _el(
                "g",
                _el("title", _plain(s.name)),
                _el(
                    "line",
                    x1=x,
                    y1=y,
                    x2=x + 18,
                    y2=y,
                    stroke=s.color,
                    stroke_width=2,
                    stroke_dasharray=_DASHES[index % len(_DASHES)],
                ),
                _text_el(name, x + 24, y + 4, "start", "chart-legend-label"),
                class_="chart-legend-item",
            )
        )
        x += item_width
    return _el("g", *items, class_="chart-legend"), y - top + 20


def _empty(
    chart_id: str,
    kind: str,
    title: str,
    description: str,
    width: int,
    height: int,
    words: ChartWords = ENGLISH,
) -> Markup:
    message = _text_el(words.no_data, width / 2, height / 2, "middle", "chart-empty")
    return _svg(chart_id, kind, title, description, width, height, [message])


def _svg(
    chart_id: str,
    kind: str,
    title: str,
    description: str,
    width: int,
    height: int,
    parts: list[Markup],
) -> Markup:
    return _el(
        "svg",
        _el("title", _plain(title), id=f"{chart_id}-title"),
        _el("desc", _plain(description), id=f"{chart_id}-desc"),
        *parts,
        xmlns=SVG_NS,
        class_=f"chart chart-{kind}",
        role="img",
        aria_labelledby=f"{chart_id}-title {chart_id}-desc",
        viewBox=f"0 0 {width} {height}",
        width=width,
        height=height,
        font_size=_FONT_SIZE,
    )


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, css_class: str) -> Markup:
    return _el("line", x1=x1, y1=y1, x2=x2, y2=y2, stroke=stroke, stroke_width=1, class_=css_class)


def _text_el(text: str, x: float, y: float, anchor: str, css_class: str) -> Markup:
    return _el("text", text, x=x, y=y, text_anchor=anchor, fill=_TEXT, class_=css_class)


# --- markup -------------------------------------------------------------------------------


def _el(tag: str, *children: str, **attributes: object) -> Markup:
    """One element. Children that are not Markup are escaped by Markup.join/format, so
    caller text can never become markup. Attribute names: ``stroke_width`` -> ``stroke-width``,
    ``class_`` -> ``class``; empty values are left out."""
    rendered = Markup("").join(
        Markup(' {}="{}"').format(name.rstrip("_").replace("_", "-"), _attribute(value))
        for name, value in attributes.items()
        if value is not None and value != ""
    )
    if not children:
        return Markup("<{}{}/>").format(tag, rendered)
    return Markup("<{}{}>{}</{}>").format(tag, rendered, Markup("").join(children), tag)


def _attribute(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _num(value)
    return str(value)


def _plain(text: object) -> str:
    """Caller text as plain text (even if it is Markup), minus characters XML cannot hold."""
    return _NOT_XML.sub("", str(text))


def _truncate(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[: max(0, max_chars - 1)] + "…"


def _num(value: float, places: int = 1) -> str:
    """Fixed-point with trailing zeros dropped: never exponent notation, never "-0"."""
    text = f"{value:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _nice_max(value: float) -> float:
    """The smallest 4 × (1, 2, 2.5 or 5 × 10ⁿ) at or above value, so ticks read cleanly."""
    if value <= 0:
        return 1.0
    quarter = value / (_Y_TICKS - 1)
    power = 10.0 ** math.floor(math.log10(quarter))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if quarter <= factor * power * (1 + 1e-9):
            return factor * power * (_Y_TICKS - 1)
    return 10 * power * (_Y_TICKS - 1)
