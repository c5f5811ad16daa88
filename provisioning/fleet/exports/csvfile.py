"""Every CSV the fleet server sends goes through :func:`write_csv`, which neutralises formulas.

Staff spreadsheets get UTF-8 with a byte-order mark, semicolons and decimal commas ("85,3": what French
spreadsheet software opens directly and reads as numbers; "85.3" would be text there); small counts are
already written "< 5" by the figure table. The national mediation-places export (a data standard read by
programs) uses the same writer with commas, decimal points and no byte-order mark. The exports page
(dashboard/exports_page.py) says which format each export uses.

CSV injection (OWASP): a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
would be run as a formula by a spreadsheet. Such a cell is prefixed with a single quote, and every text
cell is written between double quotes (inner quotes doubled). Numbers the server itself holds as numbers
(Python ``int``/``float``: a temperature of -3.5, a count) are written bare and never prefixed: they are
not text anyone typed, a spreadsheet reads them as numbers, and a quote would turn them into text. A
*string* that looks like a negative number ("-1" as a kiosk version) is text and is neutralised.
"""

from __future__ import annotations

import csv
import io
from typing import Iterable, Sequence

from flask import Response

from provisioning.fleet.dashboard.figures import FigureTable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class SpreadsheetDecimal(float):
    """A float the csv module writes bare (it is a number) with a decimal comma: « 85,3 »."""

    def __str__(self) -> str:
        return format(float(self), "g").replace(".", ",")

    __repr__ = __str__


def neutral_cell(value):
    """A cell value safe for spreadsheets: numbers as they are, text with formulas defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(header: Sequence[str], rows: Iterable[Sequence], delimiter: str = ";", bom: bool = True,
              decimal_comma: bool = True) -> str:
    """The one CSV writer of the server: each text cell neutralised and quoted, numbers bare (with a
    decimal comma for French spreadsheets unless ``decimal_comma`` is False)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    if decimal_comma and delimiter == ",":
        raise ValueError("a decimal comma needs another delimiter than the comma")

    def cell(value):
        value = neutral_cell(value)
        if decimal_comma and isinstance(value, float) and not isinstance(value, bool):
            return SpreadsheetDecimal(value)
        return value

    writer.writerow([neutral_cell(name) for name in header])
    writer.writerows([cell(value) for value in row] for row in rows)
    return ("\ufeff" if bom else "") + out.getvalue()


def table_csv(table: FigureTable) -> str:
    return write_csv(table.headers, table.cells(for_csv=True))


def csv_response(text: str, filename: str) -> Response:
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
