"""CSV files for staff spreadsheets: UTF-8 with a byte-order mark and semicolons (what French
spreadsheet software opens directly); small counts already written "< 5" by the figure table."""

from __future__ import annotations

import csv
import io

from flask import Response

from provisioning.fleet.dashboard.figures import FigureTable


def table_csv(table: FigureTable) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows(table.cells(for_csv=True))
    return "\ufeff" + out.getvalue()


def csv_response(text: str, filename: str) -> Response:
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
