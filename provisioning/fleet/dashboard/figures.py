"""Tables of figures shared by the pages and their CSV exports, with small-count suppression."""

from __future__ import annotations

from dataclasses import dataclass, field

from provisioning.fleet.dashboard.french import number

SMALL_COUNT_LIMIT = 5
SMALL_COUNT_TEXT = "< 5"


def shown_count(value: int | None) -> str:
    """A count as it may be shown: under 5 it becomes "< 5" (it could point to a person)."""
    value = int(value or 0)
    if value < SMALL_COUNT_LIMIT:
        return SMALL_COUNT_TEXT
    return number(value)


def csv_count(value: int | None) -> int | str:
    value = int(value or 0)
    return SMALL_COUNT_TEXT if value < SMALL_COUNT_LIMIT else value


@dataclass
class FigureTable:
    """A table of the dashboard: shown on a page and exported as CSV under ``name``.

    ``count_columns`` are the indexes of columns holding counts about residents' use, suppressed below 5;
    ``count_rows``, when given, limits that to those rows (a table mixing machine counts and use counts).
    """

    name: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    count_columns: frozenset[int] = frozenset()
    count_rows: frozenset[int] | None = None

    def cells(self, for_csv: bool = False) -> list[list]:
        """French text for the page (« 12 345 », « 85,3 »); for CSV, numbers stay numbers (exports/csvfile.py
        writes them, with a decimal comma for spreadsheets)."""
        out = []
        for row_index, row in enumerate(self.rows):
            suppressible = self.count_rows is None or row_index in self.count_rows
            out.append([self._cell(value, index in self.count_columns and suppressible, for_csv)
                        for index, value in enumerate(row)])
        return out

    @staticmethod
    def _cell(value, suppressed: bool, for_csv: bool):
        if suppressed:
            return csv_count(value) if for_csv else shown_count(value)
        if value is None:
            return "" if for_csv else "—"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return str(value)
        if for_csv:
            return value
        return number(value) if isinstance(value, int) else number(value, 1)
