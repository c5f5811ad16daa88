"""The dashboard's French figures (dashboard/french.py, through Babel), the CSV decimal comma for
spreadsheets, the "older version" rule and the charts' readability rules."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from babel.numbers import format_decimal
from hypothesis import example, given, strategies as st

from provisioning.fleet.dashboard import french
from provisioning.fleet.dashboard.charts import bar_chart, ranking_chart
from provisioning.fleet.dashboard.status import is_older
from provisioning.fleet.exports.csvfile import write_csv

NBSP, NNBSP = "\u00a0", "\u202f"


def plain(text: str) -> str:
    return text.replace(NBSP, " ").replace(NNBSP, " ")


@pytest.mark.parametrize("value, expected", [(85.33, "85,3 %"), (4.0, "4,0 %"), (100, "100,0 %"), (None, "—")])
def test_percentages_have_a_decimal_comma_and_a_space(value, expected):
    assert plain(french.percent(value)) == expected


def test_numbers_sizes_and_plurals():
    assert plain(french.number(12345)) == "12 345"
    assert plain(french.gigabytes(4 * 1024 ** 3)) == "4,0 Go"
    assert plain(french.count_of(1, "machine", "machines")) == "1 machine"
    assert plain(french.count_of(2, "machine", "machines")) == "2 machines"
    assert plain(french.count_of(0, "disparue", "disparues")) == "0 disparue"
    assert french.agreed(2, "disparue", "disparues") == "disparues"


@given(st.one_of(st.integers(-10 ** 12, 10 ** 12), st.floats(-1e9, 1e9, allow_nan=False)), st.sampled_from((None, 0, 1, 2)))
@example(0.25, 1).via("half to even")
@example(0.35, 1).via("read through str()")
@example(-0.04, 1).via("a negative zero")
def test_numbers_are_written_as_babel_writes_them(value, decimals):
    """number() writes whole numbers and fixed decimals itself (Babel is slow over a page of figures): the
    same text as Babel's own for every value."""
    if decimals is None:
        expected = format_decimal(value, locale=french.LOCALE)
    else:
        expected = format_decimal(value, format="#,##0" + ("." + "0" * decimals if decimals else ""), locale=french.LOCALE)
    assert french.number(value, decimals) == expected


def test_relative_times_and_durations_count_in_days():
    now = dt.datetime(2026, 11, 28, 12, tzinfo=dt.timezone.utc)
    assert plain(french.since(now - dt.timedelta(days=10), now)) == "depuis 10 jours"
    assert plain(french.since(now - dt.timedelta(hours=3), now)) == "depuis 3 heures"
    assert plain(french.since(now.timestamp() - 20, now)) == "depuis moins d’une minute"
    assert plain(french.duration(86400)) == "1 jour"
    assert french.interval(86400) == "une fois par jour"
    assert french.interval(300) == "toutes les 5 minutes"
    assert french.interval(3600) == "toutes les heures"


def test_dates_and_months_are_written_in_words():
    moment = dt.datetime(2026, 11, 18, 2, 41, tzinfo=dt.timezone.utc)
    assert plain(french.date_time(moment)) == "18 novembre 2026 à 2 h 41"
    assert french.month("2026-01") == "janvier 2026"
    assert french.date_time(None) == "jamais"


@pytest.mark.parametrize("osm, expected", [
    ("Mo-Fr 09:00-12:00", "du lundi au vendredi, de 9 h à 12 h"),
    ("Mo,We 09:00-12:00; Sa 10:00-12:30", "le lundi et le mercredi, de 9 h à 12 h ; le samedi, de 10 h à 12 h 30"),
    ("Mo 09:00-12:00; Tu 09:00-12:00; We 09:00-12:00,14:00-17:00",
     "le lundi et le mardi, de 9 h à 12 h ; le mercredi, de 9 h à 12 h et de 14 h à 17 h"),
    ("PH off", "PH off"),  # a form this does not read is shown as it is
])
def test_opening_hours_in_words(osm, expected):
    assert plain(french.opening_hours(osm)) == expected


@pytest.mark.parametrize("version, older", [("1.9.2", True), ("0.9", True), ("1.0.0", False),
                                            ("1.10.1", False), ("2.0.0", False), (None, False)])
def test_only_older_versions_are_outdated(version, older):
    assert is_older(version, "1.10.0" if version != "1.0.0" else "1.0.0") is older


def test_spreadsheet_csv_has_decimal_commas_and_the_data_standard_keeps_points():
    spreadsheet = write_csv(["Disque (%)", "Sessions"], [[85.3, 12], [-2.5, 0]])
    assert "85,3;12" in spreadsheet and "-2,5;0" in spreadsheet
    standard = write_csv(["a", "b"], [[85.3, 12]], delimiter=",", bom=False, decimal_comma=False)
    assert "85.3,12" in standard


def test_an_empty_count_chart_has_whole_number_ticks():
    svg = str(bar_chart("Sessions", [("janv.", 0), ("févr.", 0)]))
    ticks = re.findall(r'text-anchor="end">([^<]+)<', svg)
    assert ticks and all("," not in tick and "." not in tick for tick in ticks), ticks


def test_axis_labels_never_overlap_and_long_ones_are_shortened():
    points = [(f"Service au nom très long numéro {n}", n) for n in range(40)]
    svg = str(bar_chart("Ouvertures", points))
    xs = [float(x) for x in re.findall(r'<text class="axis" x="([\d.]+)" y="212', svg)]
    labels = re.findall(r'<text class="axis" x="[\d.]+" y="212.0" text-anchor="middle">(?:<title>[^<]*</title>)?([^<]+)<', svg)
    assert labels and all(len(label) <= 16 for label in labels)
    widest = max(len(label) for label in labels) * 6.6
    assert all(b - a >= widest for a, b in zip(xs, xs[1:])), "labels closer than their width"
    assert "<title>Service au nom très long numéro 0</title>" in svg  # the full name stays available


def test_two_series_have_a_legend():
    svg = str(bar_chart("Sessions et pages imprimées", [("janv.", (10, 30))], series=("Sessions", "Pages imprimées")))
    assert svg.count('class="legend"') == 2 and "Pages imprimées</text>" in svg and "bar-second" in svg


def test_a_ranking_gives_each_name_its_own_line():
    svg = str(ranking_chart("Services", [("Allocations familiales et aides au logement (CAF)", 12), ("Impôts", 3)],
                            suppress_small=True))
    ys = re.findall(r'text-anchor="end">', svg)
    assert len(ys) == 2 and "…" in svg and "&lt; 5" in svg
