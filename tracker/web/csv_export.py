"""CSV downloads: cells a spreadsheet shows as text, UTF-8 with a BOM, dated file names."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from flask import Response, stream_with_context

# OWASP CSV injection: spreadsheets read a cell starting with these as a formula (";" and "|"
# start DDE and separator tricks in some locales), also after leading spaces or tabs.
_ROWS_PER_CHUNK = 500
_FORMULA_STARTS = ("=", "+", "-", "@", ";", "|", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: one that could start a formula gets a leading '."""
    if value[:1].isspace() or value.lstrip().startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def download(name: str, day: date, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """`<name>-<day>.csv`: UTF-8 with a BOM (so spreadsheets read it as UTF-8), every text
    cell neutralised; numbers are written as they are. Streamed a few hundred rows at a time,
    so an export of every matching row never sits in memory whole."""

    def chunks() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(header)
        for count, row in enumerate(rows, 1):
            writer.writerow([safe_cell(v) if isinstance(v, str) else v for v in row])
            if count % _ROWS_PER_CHUNK == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    return Response(
        stream_with_context(chunks()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}-{day.isoformat()}.csv"'},
    )
