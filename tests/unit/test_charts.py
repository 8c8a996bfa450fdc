"""SVG charts render valid, accessible, CSP-safe markup in which caller text stays text."""

import ast
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from tracker.web.charts import (
    MONTHS,
    NO_DATA,
    Point,
    Series,
    bar_chart,
    data_table,
    line_chart,
)

NS = "{http://www.w3.org/2000/svg}"
START = date(2026, 1, 1)
HOSTILE = ["<script>alert(1)</script>", '" onload="x', "]]><x/>&amp;", "'; x='"]
LABELS = {"title": "Trust score", "description": "Monthly score.", "x_label": "Month"}


def _chart(series, **overrides) -> Markup:
    return line_chart(series, **{**LABELS, "y_label": "Score", **overrides})


def _monthly(name: str = "Acme", months: int = 12, band: bool = False, **kw) -> Series:
    points = tuple(
        Point(
            date(2026 + i // 12, i % 12 + 1, 1),
            40.0 + 3 * i,
            *((35.0 + 3 * i, 45.0 + 3 * i) if band else ()),
        )
        for i in range(months)
    )
    return Series(name, points, **kw)


def _daily(days: int, start: date = START) -> Series:
    return Series("Acme", tuple(Point(start + timedelta(days=i), 50.0) for i in range(days)))


def _parse(markup: Markup) -> ET.Element:
    """Parse as XML: if this fails, the browser would be guessing too."""
    return ET.fromstring(str(markup))  # noqa: S314  (our own output, not untrusted input)


def _all(root: ET.Element, tag: str) -> list[ET.Element]:
    return root.findall(f".//{NS}{tag}")


def _polyline_points(polyline: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, pair.split(","))) for pair in polyline.get("points").split()]


def _tick_labels(root: ET.Element) -> list[str]:
    return [t.text for t in _all(root, "text") if t.get("class") == "chart-tick-label"]


def _x_tick_labels(root: ET.Element) -> list[str]:
    # y tick labels are right-aligned left of the plot; x tick labels are centred below it
    return [
        t.text
        for t in _all(root, "text")
        if t.get("class") == "chart-tick-label" and t.get("text-anchor") == "middle"
    ]


CASES = {
    "several series with bands": lambda: _chart(
        [_monthly("Acme", band=True), _monthly("Bolt", band=True, color="#c33"), _monthly("Cog")]
    ),
    "one point": lambda: _chart([Series("Acme", (Point(START, 70.0, 60.0, 80.0),))]),
    "no series": lambda: _chart([]),
    "series without points": lambda: _chart([Series("Acme", ()), Series("Bolt", ())]),
    "values at the bounds": lambda: _chart(
        [Series("Acme", (Point(START, 0.0), Point(date(2026, 2, 1), 100.0)))]
    ),
    "values outside the bounds": lambda: _chart(
        [Series("Acme", (Point(START, -50.0, -80.0, 10.0), Point(date(2026, 2, 1), 1e9)))]
    ),
    "a partial band": lambda: _chart(
        [Series("Acme", (Point(START, 50, 40, 60), Point(date(2026, 1, 2), 55)))]
    ),
    "hours within a day": lambda: _chart(
        [
            Series(
                "Acme",
                tuple(Point(datetime(2026, 1, 1, h, tzinfo=UTC), 50.0) for h in (9, 12, 15)),
            )
        ]
    ),
    "bar chart": lambda: bar_chart([("Acme", 3), ("Bolt", 7.5)], **_bar_labels()),
    "empty bar chart": lambda: bar_chart([], **_bar_labels()),
}


def _bar_labels() -> dict[str, str]:
    return {"title": "Open conflicts", "description": "Per partner.", "y_label": "Count"}


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_chart_is_well_formed_svg_with_an_accessible_name(make) -> None:
    markup = make()
    assert isinstance(markup, Markup)
    root = _parse(markup)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert (title.get("id"), desc.get("id")) == (title_id, desc_id)
    assert title.text in (LABELS["title"], _bar_labels()["title"])
    assert desc.text in (LABELS["description"], _bar_labels()["description"])


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_chart_has_no_inline_style_script_or_event_handler(make) -> None:
    markup = str(make())
    assert "style=" not in markup
    assert "<style" not in markup.lower()
    assert "<script" not in markup.lower()
    for element in _parse(make()).iter():
        assert element.tag not in (f"{NS}style", f"{NS}script")
        assert not [name for name in element.attrib if name.lower().startswith("on")]


def test_chart_id_makes_the_element_ids_unique_per_chart() -> None:
    root = _parse(_chart([_monthly()], chart_id="trust-2026"))
    assert root.get("aria-labelledby") == "trust-2026-title trust-2026-desc"


@pytest.mark.parametrize("make", [lambda: _chart([]), lambda: bar_chart([], **_bar_labels())])
def test_empty_chart_says_there_is_no_data_yet(make) -> None:
    root = _parse(make())
    assert NO_DATA in [t.text for t in _all(root, "text")]
    assert not _all(root, "polyline") and not _all(root, "rect")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_caller_text_is_escaped_and_reads_back_unchanged(hostile: str) -> None:
    markup = line_chart(
        [_monthly(hostile), _monthly("Bolt")],
        title=hostile,
        description=hostile,
        x_label=hostile,
        y_label=hostile,
    )
    assert "<script" not in str(markup)
    root = _parse(markup)
    assert root.find(f"{NS}title").text == hostile
    assert root.find(f"{NS}desc").text == hostile
    texts = [t.text for t in _all(root, "text")]
    assert texts.count(hostile) == 3  # x label, y label, legend
    assert _all(root, "circle")[0].find(f"{NS}title").text.startswith(f"{hostile}: ")
    bars = _parse(bar_chart([(hostile, 1)], **{**_bar_labels(), "title": hostile}))
    assert bars.find(f"{NS}title").text == hostile
    assert bars.find(f".//{NS}rect/{NS}title").text == f"{hostile}: 1"


def test_markup_passed_as_text_is_still_shown_as_text() -> None:
    root = _parse(_chart([], title=Markup("<b>Bold</b>")))
    assert root.find(f"{NS}title").text == "<b>Bold</b>"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"))))
def test_any_printable_title_round_trips_through_the_svg(title: str) -> None:
    root = _parse(_chart([_monthly(title, months=2)], title=title))
    assert (root.find(f"{NS}title").text or "") == title


def test_control_characters_are_dropped_so_the_svg_stays_parseable() -> None:
    root = _parse(_chart([_monthly("Ac\x00me\x1b")], title="T\x08itle"))
    assert root.find(f"{NS}title").text == "Title"


@pytest.mark.parametrize(
    "color",
    ["red", "#12", "#1234", "#12345g", "#1234567", "url(#x)", '#fff" onload="x', "#fff\n", ""],
)
def test_colour_other_than_hex_is_refused(color: str) -> None:
    with pytest.raises(ValueError, match="Colour"):
        Series("Acme", (), color=color)
    with pytest.raises(ValueError, match="Colour"):
        bar_chart([("a", 1)], **_bar_labels(), color=color)


@pytest.mark.parametrize("color", ["#abc", "#ABCDEF", "#1f5fa8"])
def test_hex_colour_is_accepted(color: str) -> None:
    assert Series("Acme", (), color=color).color == color


@pytest.mark.parametrize("chart_id", ["Chart", "a b", "", 'x" onload="y', "a_b", "trust\n"])
def test_chart_id_outside_lowercase_digits_and_dash_is_refused(chart_id: str) -> None:
    with pytest.raises(ValueError, match="chart_id"):
        _chart([_monthly()], chart_id=chart_id)
    with pytest.raises(ValueError, match="chart_id"):
        bar_chart([("a", 1)], **_bar_labels(), chart_id=chart_id)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y": float("nan")}, "finite"),
        ({"y": float("inf")}, "finite"),
        ({"y": 1.0, "low": 0.0}, "both"),
        ({"y": 1.0, "low": 2.0, "high": 1.0}, "above"),
    ],
)
def test_point_refuses_values_that_cannot_be_drawn(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Point(START, **kwargs)


def test_y_range_must_be_increasing() -> None:
    with pytest.raises(ValueError, match="y_min < y_max"):
        _chart([_monthly()], y_min=10, y_max=10)


def test_polyline_has_one_vertex_per_point_and_moves_right_with_time() -> None:
    # points given out of order are drawn in time order
    shuffled = Series("Acme", tuple(reversed(_monthly().points)))
    root = _parse(_chart([shuffled, _monthly("Bolt", months=5)]))
    first, second = _all(root, "polyline")
    assert len(_polyline_points(first)) == 12
    assert len(_polyline_points(second)) == 5
    xs = [x for x, _ in _polyline_points(first)]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert len(_all(root, "circle")) == 12 + 5


def test_higher_value_is_drawn_higher_up() -> None:
    series = Series("Acme", (Point(START, 20.0), Point(date(2026, 2, 1), 80.0)))
    (low, high) = _polyline_points(_all(_parse(_chart([series])), "polyline")[0])
    assert high[1] < low[1]


def test_band_surrounds_the_line() -> None:
    root = _parse(_chart([_monthly(band=True)]))
    polygon = root.find(f".//{NS}polygon")
    band_ys = [y for _, y in _polyline_points(polygon)]
    line_ys = [y for _, y in _polyline_points(_all(root, "polyline")[0])]
    assert len(band_ys) == 2 * len(line_ys)
    upper, lower = band_ys[: len(line_ys)], band_ys[len(line_ys) :][::-1]
    assert all(u < y < lo for u, y, lo in zip(upper, line_ys, lower, strict=True))


def test_single_point_is_drawn_in_the_middle() -> None:
    root = _parse(_chart([Series("Acme", (Point(START, 70.0, 60.0, 80.0),))], width=640))
    (circle,) = _all(root, "circle")
    assert 300 < float(circle.get("cx")) < 340
    assert len(_polyline_points(_all(root, "polyline")[0])) == 1
    assert "1 Jan 2026" in _x_tick_labels(root)
    assert "1 Jan 2026, 70 (60–80)" in circle.find(f"{NS}title").text


def test_values_outside_the_range_are_clamped_to_the_plot_edges() -> None:
    bounds = Series("Acme", (Point(START, 0.0), Point(date(2026, 2, 1), 100.0)))
    outside = Series("Acme", (Point(START, -5.0), Point(date(2026, 2, 1), 250.0)))
    at_bounds = _polyline_points(_all(_parse(_chart([bounds])), "polyline")[0])
    root = _parse(_chart([outside]))
    assert _polyline_points(_all(root, "polyline")[0]) == at_bounds
    tooltips = [c.find(f"{NS}title").text for c in _all(root, "circle")]
    assert tooltips == ["Acme: 1 Jan 2026, -5", "Acme: 1 Feb 2026, 250"]


def test_y_axis_has_five_labelled_gridlines() -> None:
    root = _parse(_chart([_monthly()], y_min=0, y_max=1))
    grid = [line for line in _all(root, "line") if line.get("class") == "chart-grid"]
    assert len(grid) == 5
    y_labels = [
        t.text
        for t in _all(root, "text")
        if t.get("class") == "chart-tick-label" and t.get("text-anchor") == "end"
    ]
    assert y_labels == ["0", "0.25", "0.5", "0.75", "1"]


def test_numbers_are_compact_and_coordinates_have_one_decimal() -> None:
    tiny = Series("Acme", (Point(START, 0.00001), Point(date(2026, 2, 1), 12.345678)))
    markup = str(_chart([tiny], y_min=0, y_max=0.0001))
    assert not re.search(r"\de[-+]?\d", markup)
    root = _parse(markup)
    for x, y in _polyline_points(_all(root, "polyline")[0]):
        assert round(x, 1) == x and round(y, 1) == y
    assert "0.0001" in _tick_labels(root)


def test_twelve_month_span_is_labelled_with_month_abbreviations() -> None:
    labels = _x_tick_labels(_parse(_chart([_monthly(months=12)])))
    assert 4 <= len(labels) <= 8
    assert all(label.split()[0] in MONTHS for label in labels)
    assert labels[0] == "Jan 2026"  # the year is given once, and again at each January


def test_ten_day_span_is_labelled_with_days() -> None:
    labels = _x_tick_labels(_parse(_chart([_daily(10, start=date(2026, 3, 2))])))
    assert 2 <= len(labels) <= 8
    assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", label) for label in labels)
    assert labels[0] == "2 Mar"


def test_two_month_span_is_labelled_on_mondays() -> None:
    labels = _x_tick_labels(_parse(_chart([_daily(60, start=date(2026, 3, 1))])))
    assert 2 <= len(labels) <= 8
    mondays = [date(2026, MONTHS.index(m) + 1, int(d)).weekday() for d, m in map(str.split, labels)]
    assert set(mondays) == {0}


def test_decades_are_labelled_with_years() -> None:
    series = Series("Acme", (Point(date(1990, 1, 1), 1.0), Point(date(2026, 1, 1), 2.0)))
    labels = _x_tick_labels(_parse(_chart([series])))
    assert 2 <= len(labels) <= 8
    assert all(re.fullmatch(r"\d{4}", label) for label in labels)


def test_a_narrow_chart_gets_fewer_x_labels() -> None:
    wide = _x_tick_labels(_parse(_chart([_daily(60)], width=800)))
    narrow = _x_tick_labels(_parse(_chart([_daily(60)], width=240)))
    assert len(narrow) < len(wide)


def test_legend_appears_only_for_more_than_one_series() -> None:
    def legend_names(series: list[Series]) -> list[str]:
        root = _parse(_chart(series))
        return [t.text for t in _all(root, "text") if t.get("class") == "chart-legend-label"]

    assert legend_names([_monthly("Acme")]) == []
    assert legend_names([_monthly("Acme"), _monthly("Bolt")]) == ["Acme", "Bolt"]


def test_series_are_told_apart_by_dash_as_well_as_colour() -> None:
    root = _parse(_chart([_monthly("Acme"), _monthly("Bolt")]))
    dashes = [p.get("stroke-dasharray") for p in _all(root, "polyline")]
    assert dashes[0] != dashes[1]


def test_bars_have_heights_in_proportion_and_value_labels() -> None:
    root = _parse(bar_chart([("Acme", 2), ("Bolt", 8), ("Cog", 0)], **_bar_labels()))
    heights = [float(rect.get("height")) for rect in _all(root, "rect")]
    assert heights[1] == pytest.approx(4 * heights[0], abs=0.2)
    assert heights[2] == 0
    values = [t.text for t in _all(root, "text") if t.get("class") == "chart-value"]
    assert values == ["2", "8", "0"]
    assert {"Acme", "Bolt", "Cog"} <= set(_tick_labels(root))


@pytest.mark.parametrize(
    ("largest", "top_label"), [(8, "8"), (37, "40"), (100, "100"), (0, "1"), (0.3, "0.4")]
)
def test_bar_scale_rounds_up_to_a_readable_maximum(largest: float, top_label: str) -> None:
    root = _parse(bar_chart([("a", largest)], **_bar_labels()))
    assert _tick_labels(root)[-2] == top_label  # the last tick label is the bar's own


def test_bar_above_y_max_is_clamped_but_labelled_with_its_value() -> None:
    root = _parse(bar_chart([("a", 50), ("b", 500)], **_bar_labels(), y_max=100))
    (half, full) = [float(rect.get("height")) for rect in _all(root, "rect")]
    assert full == pytest.approx(2 * half, abs=0.2)
    assert "500" in [t.text for t in _all(root, "text")]


def test_long_bar_label_is_shortened_but_tooltip_keeps_it() -> None:
    name = "A partner with a remarkably long legal name GmbH & Co. KG"
    root = _parse(bar_chart([(name, 1)] * 6, **_bar_labels()))
    assert any(label.endswith("…") for label in _tick_labels(root))
    assert root.find(f".//{NS}rect/{NS}title").text == f"{name}: 1"


def test_data_table_has_a_caption_column_headers_and_one_row_per_moment() -> None:
    acme = Series("Acme", (Point(START, 50.0, 40.0, 60.0), Point(date(2026, 1, 8), 55.0)))
    bolt = Series("Bolt", (Point(date(2026, 1, 8), 70.0), Point(date(2026, 1, 15), 72.25)))
    table = _parse(data_table([acme, bolt], caption="Weekly trust"))
    assert table.find("caption").text == "Weekly trust"
    headers = table.findall("thead/tr/th")
    assert [h.text for h in headers] == ["Date", "Acme", "Bolt"]
    assert {h.get("scope") for h in headers} == {"col"}
    rows = table.findall("tbody/tr")
    assert len(rows) == 3
    cells = [[c.text for c in row] for row in rows]
    assert cells == [
        ["1 Jan 2026", "50.0 (40.0–60.0)", "—"],
        ["8 Jan 2026", "55.0", "70.0"],
        ["15 Jan 2026", "—", "72.2"],
    ]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_data_table_escapes_caption_and_names(hostile: str) -> None:
    markup = data_table([_monthly(hostile, months=2)], caption=hostile)
    assert "<script" not in str(markup)
    table = _parse(markup)
    assert table.find("caption").text == hostile
    assert table.findall("thead/tr/th")[1].text == hostile


def test_data_table_uses_the_value_format() -> None:
    table = _parse(data_table([_monthly(months=1)], caption="c", value_format="{:.0f}%"))
    assert table.find("tbody/tr/td").text == "40%"


def test_empty_data_table_says_there_is_no_data_yet() -> None:
    table = _parse(data_table([Series("Acme", ())], caption="c"))
    (cell,) = table.findall("tbody/tr/td")
    assert (cell.text, cell.get("colspan")) == (NO_DATA, "2")


def test_aware_datetimes_are_placed_in_utc() -> None:
    berlin = datetime(2026, 1, 2, 0, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    table = _parse(data_table([Series("A", (Point(berlin, 1),))], caption="c"))
    assert table.find("tbody/tr/th").text == "1 Jan 2026 23:30"


def test_charts_module_imports_neither_flask_nor_sqlalchemy() -> None:
    source = Path(__file__).resolve().parents[2] / "tracker" / "web" / "charts.py"
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    stdlib = {"__future__", "collections", "dataclasses", "datetime", "math", "re"}
    assert imported <= stdlib | {"markupsafe"}
