"""CSV exports: no cell may start a spreadsheet formula (OWASP CSV injection)."""

from __future__ import annotations

import pytest

from tracker.web.csv_export import safe_cell as _csv_safe


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("https://x.invalid")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        ";=cmd",
        "|cmd",
        "\t=1",
        "\r=1",
        "\n=1",
        "  =1",
        " ;x",
        "\u3000=1",
        "＝1+1",
    ],
)
def test_a_cell_that_could_start_a_formula_is_quoted(value: str) -> None:
    assert _csv_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["", "Paid late, 3 days", "a=b", "x;y|z", "SLA met"])
def test_ordinary_text_is_left_alone(value: str) -> None:
    assert _csv_safe(value) == value
