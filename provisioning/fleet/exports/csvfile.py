"""Every CSV the fleet server sends goes through :func:`write_csv`, which neutralises formulas.

Staff spreadsheets get UTF-8 with a byte-order mark and semicolons (what French spreadsheet software
opens directly); small counts are already written "< 5" by the figure table. The national
mediation-places export uses the same writer with commas and no byte-order mark.

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


def write_csv(header: Sequence[str], rows: Iterable[Sequence], delimiter: str = ";", bom: bool = True) -> str:
    """The one CSV writer of the server: each text cell neutralised and quoted, numbers bare."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([neutral_cell(name) for name in header])
    writer.writerows([neutral_cell(value) for value in row] for row in rows)
    return ("\ufeff" if bom else "") + out.getvalue()


def table_csv(table: FigureTable) -> str:
    return write_csv(table.headers, table.cells(for_csv=True))


def csv_response(text: str, filename: str) -> Response:
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
