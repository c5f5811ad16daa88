"""A long table of the report's PDF (every commune of a national fleet: 3,000 rows) as a listing: the rows'
values in aligned columns of a monospaced font, one table cell per group of :data:`GROUP` rows (shaded
every other group, a classic aid to follow a line across a long listing), under a header row that the PDF
repeats at the top of each page (a ``thead``).

Why: WeasyPrint lays out each table cell as its own block (about 1.3 ms a cell on the project's
machines): 3,000 communes × 8 cells took 35 to 45 s of CPU, beyond the server's request timeout (30 s);
one cell per five communes takes a sixth of that (bench/report_pdf.py). The values are the page's own
(``FigureTable.cells``: French numbers, « < 5 »), so the listing says exactly what the CSV and the page say.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from provisioning.fleet.dashboard.figures import FigureTable

GAP = "  "
GROUP = 5
FIRST_COLUMN_MAX = 45  # France's longest commune name; a longer text is cut with « … »
NUMBER_COLUMN_MIN = 9  # "Sessions", "Évolution", "imprimées" whole
# The page's text width (A4, 16 mm margins: 178 mm = 504 pt), DejaVu Sans Mono's advance (0.602 em) and
# the type sizes allowed: the listing takes the largest size at which its widest line fits.
TEXT_WIDTH_PT = 504.0
MONO_ADVANCE_EM = 0.602
LARGEST_PT, SMALLEST_PT = 8.5, 6.0


@dataclass(frozen=True)
class Listing:
    title: str
    header: str  # its lines, as wide as the rows
    rows: list[str]
    font_size_pt: float
    group: int = GROUP


def _hyphenated(word: str, width: int) -> list[str]:
    """``word`` cut into pieces of at most ``width`` characters, at French hyphenation points when it can."""
    import pyphen  # WeasyPrint's own hyphenation library
    pieces, rest = [], word
    dictionary = pyphen.Pyphen(lang="fr")
    while len(rest) > width:
        cut = dictionary.wrap(rest, width)
        head, rest = cut if cut else (rest[:width - 1] + "-", rest[width - 1:])
        pieces.append(head)
    return pieces + [rest]


def _header_lines(text: str, width: int) -> list[str]:
    words = [piece for word in text.split() for piece in _hyphenated(word, width)]
    return textwrap.wrap(" ".join(words), width, break_long_words=False, break_on_hyphens=False) or [""]


def _fitted(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def listing(table: FigureTable) -> Listing:
    """The table as a listing: the first column left-aligned (names), the others right-aligned (numbers)."""
    cells = [[str(value) for value in row] for row in table.cells()]
    first = min(FIRST_COLUMN_MAX, max([len(table.headers[0])] + [len(row[0]) for row in cells]))
    widths = [first] + [max([NUMBER_COLUMN_MIN] + [len(row[index]) for row in cells])
                        for index in range(1, len(table.headers))]
    heads = [_header_lines(header, width) for header, width in zip(table.headers, widths)]
    height = max(len(lines) for lines in heads)
    heads = [[""] * (height - len(lines)) + lines for lines in heads]  # aligned on the bottom line

    def line(values: list[str]) -> str:
        parts = [_fitted(values[0], first).ljust(first)]
        parts += [value.rjust(width) for value, width in zip(values[1:], widths[1:])]
        return GAP.join(parts).rstrip()

    header = "\n".join(line([lines[row] for lines in heads]) for row in range(height))
    rows = [line(row) for row in cells]
    characters = max(len(text) for text in [*header.splitlines(), *rows])
    size = min(LARGEST_PT, TEXT_WIDTH_PT / (characters * MONO_ADVANCE_EM))
    return Listing(table.title, header, rows, max(SMALLEST_PT, int(size * 10) / 10))
