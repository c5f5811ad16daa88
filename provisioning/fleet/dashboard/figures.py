"""Tables of figures shared by the pages and their CSV exports, with small-count suppression."""

from __future__ import annotations

from dataclasses import dataclass, field

SMALL_COUNT_LIMIT = 5
SMALL_COUNT_TEXT = "< 5"


def shown_count(value: int | None) -> str:
    """A count as it may be shown: under 5 it becomes "< 5" (it could point to a person)."""
    value = int(value or 0)
    if value < SMALL_COUNT_LIMIT:
        return SMALL_COUNT_TEXT
    return f"{value:,}".replace(",", "\u202f")


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
        """Text for the page; for CSV, numbers stay numbers (exports/csvfile.py writes them bare)."""
        out = []
        for row_index, row in enumerate(self.rows):
            cells = []
            suppressible = self.count_rows is None or row_index in self.count_rows
            for index, value in enumerate(row):
                if index in self.count_columns and suppressible:
                    cells.append(csv_count(value) if for_csv else shown_count(value))
                elif isinstance(value, int) and not for_csv:
                    cells.append(f"{value:,}".replace(",", "\u202f"))
                elif value is None:
                    cells.append("" if for_csv else "—")
                elif for_csv and isinstance(value, (int, float)):
                    cells.append(value)
                else:
                    cells.append(str(value))
            out.append(cells)
        return out
